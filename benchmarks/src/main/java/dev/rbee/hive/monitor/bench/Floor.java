package dev.rbee.hive.monitor.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rbee.hive.monitor.model.ProcessStats;
import dev.rbee.hive.monitor.stats.WorkerSeries;
import org.openjdk.jol.info.GraphLayout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The figures of a benchmark run that JMH does not make, on the same files
 * the JMH benchmarks read (the live cgroup and the tmpfs fixture):
 * <ul>
 *   <li>the C floor: runs {@code pread-floor} on cpu.stat, on the files of
 *       one sample, and on every file of one ScaleBench round;</li>
 *   <li>the size of a sample's result: the bytes of the objects that one
 *       {@link WorkerSeries#stats} call newly creates and that the returned
 *       {@link ProcessStats} holds (measured with JOL: the graph of two
 *       consecutive results minus the graph of the first), to compare with
 *       the GC profiler's B/op of the sample benchmark;</li>
 *   <li>the machine.</li>
 * </ul>
 * {@code java -cp benchmarks.jar dev.rbee.hive.monitor.bench.Floor BIN OUT.json [SECONDS_PER_ROUND ROUNDS]}
 */
public final class Floor {
    private Floor() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: Floor PREAD_FLOOR_BINARY OUT.json [SECONDS_PER_ROUND ROUNDS]");
            System.exit(2);
        }
        Path bin = Path.of(args[0]), out = Path.of(args[1]);
        String seconds = args.length > 2 ? args[2] : "1", rounds = args.length > 3 ? args[3] : "3";
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.set("machine", machine(json));
        ObjectNode floor = root.putObject("c_floor"), sizes = root.putObject("result_size");
        for (String source : List.of(Fixture.LIVE, Fixture.TMPFS)) {
            try (Fixture f = Fixture.open(source)) {
                List<String> cmd = new ArrayList<>(List.of(bin.toString(), "-t", seconds, "-r", rounds,
                        f.dir.toString(), "cpu.stat"));
                for (Path p : Fixture.sampleFiles(f.dir)) cmd.add(p.getFileName().toString());
                System.out.println("# C floor, " + source + ": " + String.join(" ", cmd));
                Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
                String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (p.waitFor() != 0) throw new IOException(bin + " failed (exit " + p.exitValue() + ")");
                System.out.print(text);
                floor.set(source, json.readTree(text));
                sizes.set(source, resultSize(json, f));
                System.out.println("# result size, " + source + ": " + sizes.get(source));
            }
        }
        floor.set("scale_round", roundFloor(json, bin, seconds, rounds));
        root.set("heartbeat", heartbeat(json, bin, seconds, rounds));
        Files.createDirectories(out.toAbsolutePath().getParent());
        json.writerWithDefaultPrettyPrinter().writeValue(out.toFile(), root);
    }

    /**
     * The C floor of one ScaleBench round: the same tree (1000 leaves, a
     * sleeper in every 10th), every file the Java reader keeps open for each
     * leaf (the stats files that exist, and cgroup.procs) pread once.
     */
    static JsonNode roundFloor(ObjectMapper json, Path bin, String seconds, String rounds) throws Exception {
        try (BenchCgroups cgroups = BenchCgroups.create()) {
            List<String> files = new ArrayList<>();
            for (Path leaf : ScaleBench.tree(cgroups)) {
                for (var f : dev.rbee.hive.monitor.stats.CgroupReader.statFiles())
                    if (Files.exists(leaf.resolve(f.name()))) files.add(leaf.resolve(f.name()).toString());
                files.add(leaf.resolve("cgroup.procs").toString());
            }
            Path list = Files.createTempFile("scale-round", ".list");
            try {
                Files.write(list, files);
                List<String> cmd = List.of(bin.toString(), "-t", seconds, "-r", rounds, "-l", list.toString());
                System.out.println("# C floor, a whole round: " + files.size() + " files of " + ScaleBench.GROUPS * ScaleBench.PER_GROUP
                        + " cgroups");
                Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
                String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (p.waitFor() != 0) throw new IOException(bin + " -l failed (exit " + p.exitValue() + ")");
                System.out.print(text);
                return json.readTree(text).path("round");
            } finally {
                Files.deleteIfExists(list);
            }
        }
    }

    /** Workers of the heartbeat figures (HeartbeatBench's goal row). */
    static final int HEARTBEAT_WORKERS = 1000;

    /**
     * The heartbeat's floor and resources, over the same tmpfs tree as
     * HeartbeatBench at {@value #HEARTBEAT_WORKERS} workers:
     * <ul>
     *   <li>the C floor of the tiered round: every fast-tier file and cgroup.procs
     *       kept open and pread each round, the slow tier's files opened relative to
     *       their directory, read and closed every {@code SLOW_EVERY}th round
     *       (pread-floor -l FAST -s SLOW -e N), as the collector does;</li>
     *   <li>fds per worker held while two collectors (the monitor's and a
     *       Sampler's) sample the tree: the shared files counted in /proc/self/fd;</li>
     *   <li>heap retained per worker by one collector after its rounds (MemoryMXBean
     *       after GC, results dropped), and the native memory of its readers.</li>
     * </ul>
     */
    static ObjectNode heartbeat(ObjectMapper json, Path bin, String seconds, String rounds) throws Exception {
        ObjectNode out = json.createObjectNode();
        int n = HEARTBEAT_WORKERS;
        out.put("workers", n);
        out.put("slow_every", dev.rbee.hive.monitor.stats.StatsCollector.SLOW_EVERY);
        double secs = Double.parseDouble(seconds);
        int reps = Integer.parseInt(rounds);
        try (BenchCgroups cgroups = BenchCgroups.create()) {
            var tree = new dev.rbee.hive.monitor.cgroup.CgroupTree(cgroups.tmpfsTree(n));
            sideBySide(json, bin, tree, n, secs, reps, 3, true, out);
            // The Java round over the same tree with the fast tier only, and with every file every round
            out.set("java_fast_round", javaRounds(json, tree, Integer.MAX_VALUE, n, secs, reps));
            out.set("java_full_round", javaRounds(json, tree, 1, n, secs, reps));
            resources(tree, n, out);
        }
        // per-worker CPU time of the tiered round as the hive grows (flatness), where the fd limit allows
        ObjectNode flat = out.putObject("per_worker");
        long hard = dev.rbee.hive.monitor.internal.FdBudget.raise().hard();
        for (int size : new int[] {10, 100, 1000, 4000, 10_000}) {
            String why = fdShortfall(size, hard);
            if (why != null) {
                flat.put(Integer.toString(size), why);
                continue;
            }
            try (BenchCgroups cgroups = BenchCgroups.create()) {
                var t = new dev.rbee.hive.monitor.cgroup.CgroupTree(cgroups.tmpfsTree(size));
                flat.set(Integer.toString(size), javaRounds(json, t, dev.rbee.hive.monitor.stats.StatsCollector.SLOW_EVERY, size, secs, reps));
            }
        }
        System.out.println("# heartbeat resources: " + out);
        return out;
    }

    /** Why {@code workers} cannot be sampled under the fd hard limit {@code hard} ("not run: ..."), or null when they can. */
    static String fdShortfall(int workers, long hard) {
        long need = (long) workers * dev.rbee.hive.monitor.internal.FdBudget.PER_WORKER + dev.rbee.hive.monitor.internal.FdBudget.RESERVE;
        return need > hard ? "not run: needs " + need + " fds, hard limit " + hard : null;
    }

    /**
     * The tiered round's C floor and ours over the same {@code n} leaves of {@code tree}
     * ({@link Tiered}), {@code alternations} times each, alternating; with {@code fastFloor} also
     * c_fast_round, the C floor of the fast tier alone (what 9 rounds in 10 read).
     */
    static void sideBySide(ObjectMapper json, Path bin, dev.rbee.hive.monitor.cgroup.CgroupTree tree, int n, double secs, int reps,
                           int alternations, boolean fastFloor, ObjectNode out) throws Exception {
        try (Tiered t = new Tiered(bin, tree, n, secs, reps, out)) {
            for (int alt = 0; alt < alternations; alt++) t.alternate(json);
            if (fastFloor) t.fastFloor(json);
        }
    }

    /**
     * One tree's side by side: the C program does the collector's reads ({@code pread-floor -l FAST
     * -s SLOW -e N}: every fast-tier file and cgroup.procs kept open and pread each round, the slow
     * tier's files opened relative to their directory, read and closed every Nth round), and
     * {@link #javaRounds} measures one collector, open for all alternations (as the monitor's stays
     * open while C runs).  Each {@link #alternate} adds one run of each to {@code out}'s c_rounds and
     * java_rounds and keeps the least CPU time of each as c_round and java_round: on a shared machine
     * the state changes within seconds, and the least time is the least disturbed one.
     */
    static final class Tiered implements AutoCloseable {
        private final int n;
        private final double secs;
        private final int reps;
        private final Path bin, fastList, slowList;
        private final ObjectNode out;
        private final dev.rbee.hive.monitor.stats.StatsCollector collector;

        Tiered(Path bin, dev.rbee.hive.monitor.cgroup.CgroupTree tree, int n, double secs, int reps, ObjectNode out) throws IOException {
            this.bin = bin;
            this.n = n;
            this.secs = secs;
            this.reps = reps;
            this.out = out;
            long t0 = System.nanoTime();
            List<String> fast = new ArrayList<>(), slow = new ArrayList<>();
            for (Path leaf : tree.leaves()) {
                // one listing per leaf, not a stat per file: 140 000 stats take half a minute under emulation (bench-vm)
                String[] names = leaf.toFile().list();
                if (names == null) throw new IOException("cannot list " + leaf);
                java.util.Set<String> present = java.util.Set.of(names);
                for (String f : dev.rbee.hive.monitor.stats.CgroupReader.fastFileNames())
                    if (present.contains(f)) fast.add(leaf.resolve(f).toString());
                fast.add(leaf.resolve("cgroup.procs").toString());
                for (String f : dev.rbee.hive.monitor.stats.CgroupReader.slowFileNames())
                    if (present.contains(f)) slow.add(leaf.resolve(f).toString());
            }
            Path f = null, sl = null;
            try {
                f = Files.createTempFile("heartbeat-fast", ".list");
                sl = Files.createTempFile("heartbeat-slow", ".list");
                Files.write(f, fast);
                Files.write(sl, slow);
            } catch (IOException | RuntimeException e) {
                if (f != null) Files.deleteIfExists(f);
                if (sl != null) Files.deleteIfExists(sl);
                throw e;
            }
            fastList = f;
            slowList = sl;
            System.out.println("# C floor, tiered heartbeat round: " + fast.size() + " fast + " + slow.size()
                    + " slow files of " + n + " workers (listed in " + (System.nanoTime() - t0) / 1_000_000 + " ms)");
            out.putArray("c_rounds");
            out.putArray("java_rounds");
            collector = collector(tree, dev.rbee.hive.monitor.stats.StatsCollector.SLOW_EVERY);
        }

        int workers() {
            return n;
        }

        private List<String> cmd(boolean tiered) {
            List<String> cmd = new ArrayList<>(List.of(bin.toString(), "-t", Double.toString(secs), "-r", Integer.toString(reps),
                    "-l", fastList.toString()));
            if (tiered) cmd.addAll(List.of("-s", slowList.toString(), "-e", Integer.toString(dev.rbee.hive.monitor.stats.StatsCollector.SLOW_EVERY)));
            return cmd;
        }

        void alternate(ObjectMapper json) throws Exception {
            JsonNode c = runC(json, cmd(true)).path("round");
            ((com.fasterxml.jackson.databind.node.ArrayNode) out.get("c_rounds")).add(c);
            if (!out.has("c_round") || cpu(c.path("pread")) < cpu(out.path("c_round").path("pread"))) out.set("c_round", c);
            ObjectNode j = javaRounds(json, collector, dev.rbee.hive.monitor.stats.StatsCollector.SLOW_EVERY, n, secs, reps);
            ((com.fasterxml.jackson.databind.node.ArrayNode) out.get("java_rounds")).add(j);
            if (!out.has("java_round") || cpu(j) < cpu(out.path("java_round"))) out.set("java_round", j);
        }

        void fastFloor(ObjectMapper json) throws Exception {
            out.set("c_fast_round", runC(json, cmd(false)).path("round"));
        }

        private static double cpu(JsonNode r) {
            return r.path("cpu_ns_per_op").asDouble();
        }

        @Override
        public void close() throws IOException {
            try {
                collector.close();
            } finally {
                Files.deleteIfExists(fastList);
                Files.deleteIfExists(slowList);
            }
        }
    }

    /** Runs pread-floor ({@code cmd}), echoes and returns its JSON; a failure names the command and its exit status. */
    static JsonNode runC(ObjectMapper json, List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) throw new IOException(String.join(" ", cmd) + " failed (exit " + p.exitValue() + ")");
        System.out.print(text);
        return json.readTree(text);
    }

    /**
     * Into {@code out}: fds held while two collectors (the monitor's and a Sampler's) sample the
     * {@code n} leaves of {@code tree} (the shared files counted in /proc/self/fd; fds_one_reader,
     * fds_two_readers, fds_per_worker), and the heap retained per worker by one collector after its
     * rounds (MemoryMXBean after GC, results dropped) and the native memory of its readers.
     */
    static void resources(dev.rbee.hive.monitor.cgroup.CgroupTree tree, int n, ObjectNode out) throws IOException, InterruptedException {
        var mem = java.lang.management.ManagementFactory.getMemoryMXBean();
        var direct = java.lang.management.ManagementFactory.getPlatformMXBeans(java.lang.management.BufferPoolMXBean.class)
                .stream().filter(b -> b.getName().equals("direct")).findFirst().orElseThrow();
        int fds0 = openFds();
        long heap0 = usedHeapAfterGc(mem), direct0 = direct.getMemoryUsed();
        try (var monitor = new dev.rbee.hive.monitor.stats.StatsCollector(tree, 1.0, Optional.empty())) {
            for (int i = 0; i < 3; i++) monitor.collect(w -> true);
            long heap1 = usedHeapAfterGc(mem), direct1 = direct.getMemoryUsed();
            int fds1 = openFds();
            try (var sampler = new dev.rbee.hive.monitor.stats.StatsCollector(tree, 1.0, Optional.empty())) {
                for (int i = 0; i < 3; i++) sampler.collect(w -> true);
                int fds2 = openFds();
                out.put("fds_one_reader", fds1 - fds0);
                out.put("fds_two_readers", fds2 - fds0);
                out.put("fds_per_worker", (double) (fds2 - fds0) / n);
            }
            out.put("heap_bytes_per_worker", (double) (heap1 - heap0) / n);
            out.put("direct_bytes_per_worker", (double) (direct1 - direct0) / n);
        }
    }

    /**
     * Collector rounds over {@code tree} (slow tier every {@code slowEvery}th), after
     * a warm-up, for {@code reps} x {@code secs}: wall ns, this thread's CPU ns and
     * allocated bytes per round (CPU time: what a round costs the machine, whatever
     * else runs on it; the C floor reports the same).
     */
    static ObjectNode javaRounds(ObjectMapper json, dev.rbee.hive.monitor.cgroup.CgroupTree tree, int slowEvery, int n,
                                 double secs, int reps) throws IOException {
        try (var c = collector(tree, slowEvery)) {
            return javaRounds(json, c, slowEvery, n, secs, reps);
        }
    }

    /** The collector {@link #javaRounds} measures: the leaves of {@code tree}, slow tier every {@code slowEvery}th round. */
    static dev.rbee.hive.monitor.stats.StatsCollector collector(dev.rbee.hive.monitor.cgroup.CgroupTree tree, int slowEvery) {
        return new dev.rbee.hive.monitor.stats.StatsCollector(dev.rbee.hive.monitor.stats.Discovery.leaves(tree), 1.0,
                Optional.empty(), slowEvery);
    }

    /** As {@link #javaRounds(ObjectMapper, dev.rbee.hive.monitor.cgroup.CgroupTree, int, int, double, int)}, with a collector made by {@link #collector}. */
    static ObjectNode javaRounds(ObjectMapper json, dev.rbee.hive.monitor.stats.StatsCollector c, int slowEvery, int n,
                                 double secs, int reps) throws IOException {
        var mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long warmEnd = System.nanoTime() + (long) (Math.max(1, secs * 2) * 1e9);
        while (System.nanoTime() < warmEnd || c.collect(w -> true).size() != n) c.collect(w -> true);
        long rounds = 0, sink = 0;
        long w0 = System.nanoTime(), c0 = mx.getCurrentThreadCpuTime(), a0 = mx.getCurrentThreadAllocatedBytes();
        long end = w0 + (long) (secs * reps * 1e9);
        do {
            sink += c.collect(w -> true).size();
            rounds++;
        } while (System.nanoTime() < end || rounds % Math.max(1, Math.min(slowEvery, 100)) != 0);
        long w1 = System.nanoTime(), c1 = mx.getCurrentThreadCpuTime(), a1 = mx.getCurrentThreadAllocatedBytes();
        if (sink != rounds * n) throw new IllegalStateException("a round missed workers: " + sink + " / " + rounds * n);
        ObjectNode r = json.createObjectNode();
        r.put("workers", n);
        r.put("slow_every", slowEvery);
        r.put("rounds", rounds);
        r.put("wall_ns_per_op", (double) (w1 - w0) / rounds);
        r.put("cpu_ns_per_op", (double) (c1 - c0) / rounds);
        r.put("bytes_per_op", (double) (a1 - a0) / rounds);
        System.out.println("# java rounds: " + r);
        return r;
    }

    private static int openFds() throws IOException {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return (int) s.count();
        }
    }

    private static long usedHeapAfterGc(java.lang.management.MemoryMXBean mem) throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
        return mem.getHeapMemoryUsage().getUsed();
    }

    /**
     * The bytes one sample's result newly holds: the graph of results 1 and 2
     * walked together (shared objects once) minus the graph of result 1 alone.
     * What both share (names, the cgroup path, constant reasons, the cached
     * model) was not allocated by the sample.  Median of 5 pairs.
     */
    static ObjectNode resultSize(ObjectMapper json, Fixture f) throws IOException {
        long[] fresh = new long[5];
        long retained = 0, objects = 0;
        try (WorkerSeries s = new WorkerSeries("llm", "8080", f.dir, 1.0)) {
            sample(s);
            sample(s);
            for (int i = 0; i < fresh.length; i++) {
                ProcessStats a = sample(s), b = sample(s);
                GraphLayout both = GraphLayout.parseInstance(a, b), first = GraphLayout.parseInstance(a);
                fresh[i] = both.totalSize() - first.totalSize();
                objects = both.totalCount() - first.totalCount();
                retained = GraphLayout.parseInstance(b).totalSize();
            }
        }
        Arrays.sort(fresh);
        ObjectNode n = json.createObjectNode();
        n.put("fresh_bytes", fresh[fresh.length / 2]);
        n.put("fresh_objects", objects);
        n.put("retained_bytes", retained);
        allocation(f, n);
        return n;
    }

    /**
     * Bytes allocated per read and per sample, counted by the JVM for this
     * thread (exact, unlike JMH's per-iteration average, which carries JMH's
     * own fixed per-iteration allocations): after 30 000 warm-up samples so
     * that C2 has compiled the path, as in the benchmark.
     */
    static void allocation(Fixture f, ObjectNode into) throws IOException {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long me = Thread.currentThread().threadId();
        int warm = 30_000, n = 10_000;
        try (WorkerSeries s = new WorkerSeries("llm", "8080", f.dir, 1.0)) {
            long sink = 0;
            for (int i = 0; i < warm; i++) sink += sample(s).pids().size();
            long a0 = mx.getThreadAllocatedBytes(me);
            for (int i = 0; i < n; i++) if (s.read(System.nanoTime())) sink++;
            long a1 = mx.getThreadAllocatedBytes(me);
            for (int i = 0; i < n; i++) sink += sample(s).pids().size();
            long a2 = mx.getThreadAllocatedBytes(me);
            into.put("read_bytes_per_op", (double) (a1 - a0) / n);
            into.put("sample_bytes_per_op", (double) (a2 - a1) / n);
            if (sink == 42) System.out.print(""); // keep the results alive
        }
    }

    private static ProcessStats sample(WorkerSeries s) throws IOException {
        if (!s.read(System.nanoTime())) throw new IOException("cgroup gone: " + s.cgroup());
        return s.stats(Instant.now(), Optional.empty());
    }

    static ObjectNode machine(ObjectMapper json) {
        ObjectNode m = json.createObjectNode();
        String cpu = "unknown";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).strip()).orElse(cpu);
        } catch (IOException ignored) {
            // not Linux: leave it unknown
        }
        m.put("cpu", cpu);
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("memory_gib", Math.round(((com.sun.management.OperatingSystemMXBean)
                java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getTotalMemorySize() / (1L << 30)));
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        m.put("java", System.getProperty("java.vm.name") + " " + Runtime.version());
        try {
            m.put("loadavg", Files.readString(Path.of("/proc/loadavg")).strip());
        } catch (IOException ignored) {
            // not Linux
        }
        try {
            m.put("cgroup2_mount", BenchCgroups.mount().toString());
        } catch (IOException e) {
            m.put("cgroup2_mount", "none");
        }
        return m;
    }
}
