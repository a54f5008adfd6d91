package dev.rbee.hive.monitor.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rbee.hive.monitor.cgroup.CgroupTree;
import dev.rbee.hive.monitor.internal.FdBudget;
import dev.rbee.hive.monitor.stats.StatsCollector;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Issue 17's heartbeat figures that need the QEMU guest ({@code make bench-vm}, vm/README.md):
 * root, a pure cgroup v2 with every controller delegated, and an fd limit this host refuses.
 * Run as root under {@code ulimit -n 65536}:
 * <ul>
 *   <li>flatness: the tiered round over the pure-v2 tmpfs fixture at {@link #SIZES} workers, ours
 *       and the C floor's ({@link Floor.Tiered}, {@value #ALTERNATIONS} alternations taken
 *       round-robin over the sizes), so that the C floor's own per-worker spread stands beside ours;</li>
 *   <li>real leaves: {@value #LEAVES} cgroups {@code rbee-bench-*}/hb/gNNN/wNNNNN with cpu, io,
 *       memory and pids enabled above them (the library enables io, memory and pids for every
 *       worker, cpu for one with a cpu limit), one sleeping process in each; the tiered round
 *       through {@link StatsCollector} against pread-floor over the same files, alternating
 *       {@value #ALTERNATIONS} times, the least CPU time of each ({@link Floor#sideBySide}), and
 *       the fds per worker of two collectors ({@link Floor#resources}).</li>
 * </ul>
 * Everything it makes (cgroups, tmpfs trees, sleepers) is removed by {@link BenchCgroups#close};
 * the JSON's {@code left_behind} lists what is still there afterwards (nothing, or the run failed).
 *
 * <pre>java -cp benchmarks.jar dev.rbee.hive.monitor.bench.VmHeartbeat PREAD_FLOOR OUT.json SECONDS ROUNDS WARMUP_S HOST</pre>
 * SECONDS, ROUNDS: as {@link Floor#javaRounds}; WARMUP_S: the JIT's warm-up before the first
 * measurement; HOST: the machine the guest runs on, in words (for the report).
 */
public final class VmHeartbeat {
    static final int[] SIZES = {10, 100, 1000, 10_000};
    static final int LEAVES = 1000;
    /**
     * C and ours alternate this many times at each point, the least CPU time of each kept: under
     * emulation the host's other load lands in the guest's CPU time (the guest cannot tell), and
     * one run at a size was seen 2-5x off.
     */
    static final int ALTERNATIONS = 3;
    /** The size the JIT warms up on. */
    static final int WARM = 1000;
    /** Enabled in every directory above the leaves. */
    static final String CONTROLLERS = "+cpu +io +memory +pids";

    private VmHeartbeat() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 6) {
            System.err.println("usage: VmHeartbeat PREAD_FLOOR OUT.json SECONDS ROUNDS WARMUP_S HOST");
            System.exit(2);
        }
        long t0 = System.nanoTime();
        Path bin = Path.of(args[0]), out = Path.of(args[1]);
        double secs = Double.parseDouble(args[2]), warmup = Double.parseDouble(args[4]);
        int reps = Integer.parseInt(args[3]), every = StatsCollector.SLOW_EVERY;
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.set("machine", Floor.machine(json));
        root.put("host", args[5]);
        var limit = FdBudget.raise();
        root.put("fd_limit_soft", limit.soft());
        root.put("fd_limit_hard", limit.hard());
        root.put("round_seconds", secs);
        root.put("rounds", reps);
        root.put("slow_every", every);

        ObjectNode flat = root.putObject("per_worker");
        try (BenchCgroups cgroups = BenchCgroups.create()) {
            Map<Integer, Path> trees = new HashMap<>();
            // The JIT compiles the collector's path first, on the 1000 workers measured later, so that
            // the first size measured is not the least compiled (C2 under emulation takes a minute).
            progress(t0, "tmpfs tree of " + WARM + " workers");
            trees.put(WARM, cgroups.tmpfsTree(WARM));
            progress(t0, "JIT warm-up, " + warmup + " s");
            long w0 = System.nanoTime();
            Floor.javaRounds(json, new CgroupTree(trees.get(WARM)), every, WARM, warmup / 3, 1);
            root.put("warmup_s", (System.nanoTime() - w0) / 1e9);
            // Every size's lists and collector first, then the alternations round-robin over the sizes: under
            // emulation the host's load drifts within minutes, and each size's least time is then drawn from
            // the whole run, not from one stretch of it.
            List<Floor.Tiered> points = new java.util.ArrayList<>();
            int open = 0; // workers whose collectors are open together
            try {
                for (int size : SIZES) {
                    String shortfall = Floor.fdShortfall(open + size, limit.hard());
                    if (shortfall != null) {
                        flat.put(Integer.toString(size), shortfall);
                        continue;
                    }
                    long m0 = System.nanoTime();
                    ObjectNode o = flat.putObject(Integer.toString(size));
                    o.put("workers", size);
                    if (!trees.containsKey(size)) {
                        progress(t0, "tmpfs tree of " + size + " workers");
                        trees.put(size, cgroups.tmpfsTree(size));
                    }
                    o.put("setup_s", (System.nanoTime() - m0) / 1e9);
                    points.add(new Floor.Tiered(bin, new CgroupTree(trees.get(size)), size, secs, reps, o));
                    open += size;
                }
                for (int alt = 0; alt < ALTERNATIONS; alt++) {
                    for (Floor.Tiered p : points) {
                        progress(t0, "tiered round, C floor then ours, " + p.workers() + " tmpfs workers (" + (alt + 1) + "/" + ALTERNATIONS + ")");
                        p.alternate(json);
                    }
                }
            } finally {
                IOException failed = null;
                for (Floor.Tiered p : points) {
                    try {
                        p.close();
                    } catch (IOException e) {
                        if (failed == null) failed = e;
                        else failed.addSuppressed(e);
                    }
                }
                if (failed != null) throw failed;
            }
            progress(t0, "removing the tmpfs trees");
        }

        ObjectNode live = root.putObject("real_leaves");
        try (BenchCgroups cgroups = BenchCgroups.create()) {
            long m0 = System.nanoTime();
            progress(t0, LEAVES + " real leaves, a sleeper in each");
            Path top = realLeaves(cgroups, LEAVES);
            live.put("workers", LEAVES);
            live.put("controllers", Files.readString(top.resolve("g000/cgroup.subtree_control")).strip());
            live.put("setup_s", (System.nanoTime() - m0) / 1e9);
            CgroupTree tree = new CgroupTree(top);
            progress(t0, "tiered round over the real leaves, C floor and ours alternating " + ALTERNATIONS + " times");
            Floor.sideBySide(json, bin, tree, LEAVES, secs, reps, ALTERNATIONS, true, live);
            progress(t0, "fds and memory of two collectors");
            Floor.resources(tree, LEAVES, live);
            live.put("elapsed_s", (System.nanoTime() - m0) / 1e9);
            progress(t0, "removing the leaves and their sleepers");
        }
        root.putPOJO("left_behind", leftBehind());
        root.put("elapsed_s", (System.nanoTime() - t0) / 1e9);
        Files.createDirectories(out.toAbsolutePath().getParent());
        json.writerWithDefaultPrettyPrinter().writeValue(out.toFile(), root);
        progress(t0, "written " + out);
    }

    private static void progress(long t0, String what) {
        System.out.printf(Locale.ROOT, "# %6.1f s: %s%n", (System.nanoTime() - t0) / 1e9, what);
    }

    /**
     * {@code workers} leaves {@code hb/gNNN/wNNNNN} under {@code cgroups} (100 per group, as
     * {@link BenchCgroups#tmpfsTree}), {@link #CONTROLLERS} enabled in each directory above them,
     * a sleeper in each.  Returns {@code hb}, the root of a {@link CgroupTree}.
     */
    static Path realLeaves(BenchCgroups cgroups, int workers) throws IOException {
        Files.writeString(cgroups.root().resolve("cgroup.subtree_control"), CONTROLLERS);
        Path top = cgroups.cgroup("hb");
        Files.writeString(top.resolve("cgroup.subtree_control"), CONTROLLERS);
        List<Path> leaves = new java.util.ArrayList<>();
        for (int i = 0; i < workers; i++) {
            if (i % 100 == 0) Files.writeString(cgroups.cgroup(String.format("hb/g%03d", i / 100)).resolve("cgroup.subtree_control"), CONTROLLERS);
            leaves.add(cgroups.cgroup(String.format("hb/g%03d/w%05d", i / 100, i)));
        }
        cgroups.sleepersIn(leaves);
        return top;
    }

    /** What {@link BenchCgroups} of this JVM left in the cgroup2 mount and /dev/shm (nothing, when every close worked). */
    static List<String> leftBehind() throws IOException {
        String mine = "-" + ProcessHandle.current().pid();
        List<String> left = new java.util.ArrayList<>();
        for (Path parent : List.of(BenchCgroups.mount(), Path.of("/dev/shm"))) {
            try (Stream<Path> s = Files.list(parent)) {
                s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(BenchCgroups.PREFIX) && n.endsWith(mine))
                        .forEach(n -> left.add(parent.resolve(n).toString()));
            }
        }
        return left;
    }
}
