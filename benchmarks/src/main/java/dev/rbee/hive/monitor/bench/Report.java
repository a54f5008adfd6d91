package dev.rbee.hive.monitor.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Turns one run's JMH JSON ({@code -rf json}) and {@link Floor}'s JSON (C
 * floor, result sizes, machine) into the Markdown tables of
 * benchmarks/results/latest.md, with the ratios and the targets checked.
 *
 * <pre>java -cp benchmarks.jar dev.rbee.hive.monitor.bench.Report latest.json floor.json "make bench" &gt; latest.md</pre>
 */
public final class Report {
    private static final String PKG = "dev.rbee.hive.monitor.bench.";
    /** Targets of issue 7. */
    static final double MAX_FLOOR_RATIO = 1.5, MIN_SPEEDUP = 5.0;

    private final JsonNode jmh, floor;
    /** LifeBench's figures (exit detection, adoption): FLOOR.json's sibling "-life.json", when there. */
    private JsonNode life = com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    /** VmHeartbeat's figures (make bench-vm): FLOOR.json's sibling "-vm.json"; missing: not run. */
    private JsonNode vm = com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    private String vmFile = "-vm.json";
    private final StringBuilder md = new StringBuilder();
    private final List<String> targets = new ArrayList<>();

    Report(JsonNode jmh, JsonNode floor) {
        this.jmh = jmh;
        this.floor = floor;
    }

    public static void main(String[] args) throws IOException {
        ObjectMapper json = new ObjectMapper();
        if (args.length == 2 && args[0].equals("--vm")) { // make bench-vm: its section alone, with its goal rows
            Report r = new Report(json.createArrayNode(), json.createObjectNode());
            r.readVm(json, Path.of(args[1]));
            r.vmSection();
            System.out.print(r.md);
            return;
        }
        if (args.length < 2) {
            System.err.println("usage: Report JMH.json FLOOR.json [COMMAND] | Report --vm VM.json");
            System.exit(2);
        }
        JsonNode jmh = json.readTree(Path.of(args[0]).toFile());
        JsonNode floor = Files.exists(Path.of(args[1])) ? json.readTree(Path.of(args[1]).toFile()) : json.createObjectNode();
        Report r = new Report(jmh, floor);
        Path lifeJson = Path.of(args[1].replace("-floor.json", "-life.json"));
        if (!lifeJson.equals(Path.of(args[1])) && Files.exists(lifeJson)) r.life = json.readTree(lifeJson.toFile());
        Path spawnJson = Path.of(args[1].replace("-floor.json", "-spawn-floor.json"));
        if (!spawnJson.equals(Path.of(args[1])) && Files.exists(spawnJson)) r.spawnFloor = json.readTree(spawnJson.toFile());
        Path vmJson = Path.of(args[1].replace("-floor.json", "-vm.json"));
        if (!vmJson.equals(Path.of(args[1]))) r.readVm(json, vmJson);
        System.out.print(r.render(args.length > 2 ? args[2] : "make bench"));
    }

    // --- JMH results -------------------------------------------------------------------

    /** One JMH result: primary score in ns (or ns per round), its error, B/op, and the median. */
    record Result(double ns, double errorNs, double bytesPerOp, double p50Ns, double p90Ns, int samples) {}

    Result result(String benchmark, String source) {
        for (JsonNode e : jmh) {
            if (!e.path("benchmark").asText().equals(PKG + benchmark)) continue;
            JsonNode param = e.path("params").path("source");
            if (source != null && !param.isMissingNode() && !param.asText().equals(source)) continue;
            JsonNode pm = e.path("primaryMetric");
            double scale = toNs(pm.path("scoreUnit").asText());
            double err = pm.path("scoreError").asDouble(Double.NaN);
            JsonNode pct = pm.path("scorePercentiles");
            JsonNode alloc = e.path("secondaryMetrics").path("gc.alloc.rate.norm");
            int n = 0;
            for (JsonNode fork : pm.path("rawData")) n += fork.size();
            for (JsonNode fork : pm.path("rawDataHistogram")) for (JsonNode it : fork) for (JsonNode b : it) n += b.path(1).asInt();
            return new Result(pm.path("score").asDouble() * scale, err * scale,
                    alloc.isMissingNode() ? Double.NaN : alloc.path("score").asDouble(),
                    pct.path("50.0").asDouble(Double.NaN) * scale, pct.path("90.0").asDouble(Double.NaN) * scale, n);
        }
        return null;
    }

    private static double toNs(String unit) {
        return switch (unit) {
            case "ns/op" -> 1;
            case "us/op" -> 1e3;
            case "ms/op" -> 1e6;
            case "s/op" -> 1e9;
            default -> throw new IllegalArgumentException("unexpected JMH unit " + unit + " (expected average or sample time)");
        };
    }

    /** The C floor of {@code source}: "file" or "sample", "pread" or "open_read_close". */
    private double cFloor(String source, String what, String how) {
        return floor.path("c_floor").path(source).path(what).path(how).path("ns_per_op").asDouble(Double.NaN);
    }

    private double cHalfRange(String source, String what, String how) {
        JsonNode n = floor.path("c_floor").path(source).path(what).path(how);
        return (n.path("max").asDouble(Double.NaN) - n.path("min").asDouble(Double.NaN)) / 2;
    }

    // --- rendering ---------------------------------------------------------------------

    String render(String command) {
        JsonNode m = floor.path("machine");
        md.append("# rbee-hive-monitor benchmarks\n\n");
        md.append("- Run: ").append(ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'")))
                .append(", `").append(command).append("`\n");
        md.append("- Machine: ").append(m.path("cpu").asText("?")).append(", ").append(m.path("cores").asText("?"))
                .append(" cores, ").append(m.path("memory_gib").asText("?")).append(" GiB; ")
                .append(m.path("os").asText("?")).append("; ").append(m.path("java").asText("?")).append('\n');
        md.append("- cgroup2 mount: `").append(m.path("cgroup2_mount").asText("?"))
                .append("` (live rows: a cgroup with a sleeping process; tmpfs rows: the pure-v2 fixture in /dev/shm, every stats file present)\n");
        if (m.has("loadavg")) md.append("- Load average when the run started: ").append(m.path("loadavg").asText())
                .append(" (other work on the machine shows up as noise)\n");
        JsonNode first = jmh.size() > 0 ? jmh.get(0) : null;
        if (first != null)
            md.append("- JMH ").append(first.path("jmhVersion").asText()).append(": ").append(first.path("forks").asText())
                    .append(" fork, ").append(first.path("warmupIterations").asText()).append(" x ").append(first.path("warmupTime").asText())
                    .append(" warm-up, ").append(first.path("measurementIterations").asText()).append(" x ")
                    .append(first.path("measurementTime").asText()).append(" measured, `-prof gc`; ± is JMH's 99.9 % error "
                            + "(C rows: half the spread of the rounds)\n");
        md.append('\n');
        statReads();
        allocation();
        scale();
        spawn();
        sampleGoals();
        vmSection();
        md.append("## Targets\n\n");
        for (String t : targets) md.append("- ").append(t).append('\n');
        return md.toString();
    }

    private void statReads() {
        md.append("## Stat reads: one worker\n\n");
        md.append("\"x faster\" = Files.readAllLines time / this row's time (same source, same files); "
                + "\"x C floor\" = this row's time / the C program's pread on a kept-open fd of the same files.\n\n");
        md.append("| What | Source | ns/op | ± | B/op | x faster than readAllLines | x C floor |\n");
        md.append("|---|---|---:|---:|---:|---:|---:|\n");
        for (String source : List.of(Fixture.LIVE, Fixture.TMPFS)) {
            Result base = result("FileReadBench.readAllLines", source);
            double fl = cFloor(source, "file", "pread");
            String file = "cpu.stat: ";
            cRow(file + "**C pread, kept-open fd (floor)**", source, "file", "pread", base, fl);
            cRow(file + "C open+read+close", source, "file", "open_read_close", base, fl);
            row(file + "**ours** (KeptOpenFile.read + parse)", source, "FileReadBench.ours", base, fl);
            row(file + "ours, parse half only (no system call)", source, "FileReadBench.parseOnly", base, fl);
            row(file + "FileChannel kept open, read(buf, 0)", source, "FileReadBench.keptOpenChannel", base, fl);
            row(file + "FFM pread, kept-open fd", source, "FileReadBench.ffmPread", base, fl);
            row(file + "FFM pread, kept-open fd, critical downcall", source, "FileReadBench.ffmPreadCritical", base, fl);
            row(file + "FileChannel open+read+close", source, "FileReadBench.channelOpenReadClose", base, fl);
            row(file + "Files.readString", source, "FileReadBench.readString", base, fl);
            row(file + "Files.readAllLines", source, "FileReadBench.readAllLines", base, fl);
            Result ours = result("FileReadBench.ours", source);
            if (ours != null && base != null && !Double.isNaN(fl)) {
                double r = ours.ns / fl, s = base.ns / ours.ns;
                targets.add(String.format(Locale.ROOT, "Per-file read (%s): %.2fx the C floor (target <= %.1fx): %s; "
                                + "%.1fx faster than Files.readAllLines (target >= %.0fx): %s",
                        source, r, MAX_FLOOR_RATIO, r <= MAX_FLOOR_RATIO ? "**met**"
                                : String.format(Locale.ROOT, "**not met**, %.0f %% over", (r / MAX_FLOOR_RATIO - 1) * 100),
                        s, MIN_SPEEDUP, s >= MIN_SPEEDUP ? "**met**" : "**not met**"));
            }
        }
        for (String source : List.of(Fixture.LIVE, Fixture.TMPFS)) {
            Result base = result("SampleBench.readAllLines", source);
            double fl = cFloor(source, "sample", "pread");
            int files = floor.path("c_floor").path(source).path("sample").path("files").size();
            String s = "sample (" + files + " files): ";
            cRow(s + "**C pread of each, kept-open fds (floor)**", source, "sample", "pread", base, fl);
            cRow(s + "C open+read+close of each", source, "sample", "open_read_close", base, fl);
            row(s + "**ours** (WorkerSeries.read + stats: the ProcessStats)", source, "SampleBench.ours", base, fl);
            row(s + "ours, read half only (WorkerSeries.read)", source, "SampleBench.oursReadOnly", base, fl);
            row(s + "FFM pread of each, kept-open fds", source, "SampleBench.ffmPread", base, fl);
            row(s + "FileChannel open+read+close of each", source, "SampleBench.channelOpenReadClose", base, fl);
            row(s + "Files.readAllLines + split/parse into a map", source, "SampleBench.readAllLines", base, fl);
            if (source.equals(Fixture.LIVE)) row("OSHI OSProcess.updateAttributes() (the process only, /proc/PID/*)",
                    source, "OshiBench.updateAttributes", base, Double.NaN);
            Result ours = result("SampleBench.ours", source), oshi = result("OshiBench.updateAttributes", null);
            if (ours != null && base != null && !Double.isNaN(fl))
                targets.add(String.format(Locale.ROOT, "Full worker sample (%s): %.2fx the C floor of its %d preads; "
                        + "%.1fx faster than readAllLines+parse%s", source, ours.ns / fl, files, base.ns / ours.ns,
                        oshi != null && source.equals(Fixture.LIVE)
                                ? String.format(Locale.ROOT, "; %.1fx faster than OSHI updateAttributes()", oshi.ns / ours.ns) : ""));
        }
        md.append('\n');
    }

    private void row(String what, String source, String benchmark, Result base, double floorNs) {
        Result r = result(benchmark, source);
        if (r == null) {
            md.append("| ").append(what).append(" | ").append(source).append(" | not run | | | | |\n");
            return;
        }
        md.append("| ").append(what).append(" | ").append(source).append(" | ").append(num(r.ns)).append(" | ")
                .append(num(r.errorNs)).append(" | ").append(bytes(r.bytesPerOp)).append(" | ")
                .append(base == null ? "" : ratio(base.ns / r.ns)).append(" | ")
                .append(Double.isNaN(floorNs) ? "" : ratio(r.ns / floorNs)).append(" |\n");
    }

    private void cRow(String what, String source, String kind, String how, Result base, double floorNs) {
        double ns = cFloor(source, kind, how);
        if (Double.isNaN(ns)) {
            md.append("| ").append(what).append(" | ").append(source).append(" | not run | | | | |\n");
            return;
        }
        md.append("| ").append(what).append(" | ").append(source).append(" | ").append(num(ns)).append(" | ")
                .append(num(cHalfRange(source, kind, how))).append(" | 0 (C) | ")
                .append(base == null ? "" : ratio(base.ns / ns)).append(" | ").append(ratio(ns / floorNs)).append(" |\n");
    }

    private void allocation() {
        md.append("## Allocation: a sample against its result\n\n");
        md.append("Result = the bytes of the objects that one `WorkerSeries.stats()` newly creates and the returned "
                + "`ProcessStats` holds (JOL: graph of two consecutive results minus the graph of the first; the names, "
                + "the cgroup path and the constant reasons are shared, not allocated). Sample = JMH `gc.alloc.rate.norm` "
                + "of `SampleBench.ours` (read + stats). A sample should allocate no more than its result.\n\n");
        md.append("| Source | result: new objects | result: bytes | whole result graph | sample B/op (gc profiler) "
                + "| sample B/op (ThreadMXBean) | read half B/op (ThreadMXBean) | sample / result | met? |\n");
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for (String source : List.of(Fixture.LIVE, Fixture.TMPFS)) {
            JsonNode size = floor.path("result_size").path(source);
            Result sample = result("SampleBench.ours", source);
            if (size.isMissingNode() || sample == null) continue;
            long fresh = size.path("fresh_bytes").asLong();
            double ratio = sample.bytesPerOp / fresh;
            boolean met = sample.bytesPerOp <= fresh + 8; // gc.alloc.rate.norm carries a few bytes of JMH's own
            md.append("| ").append(source).append(" | ").append(size.path("fresh_objects").asLong()).append(" | ")
                    .append(fresh).append(" | ").append(size.path("retained_bytes").asLong()).append(" | ")
                    .append(bytes(sample.bytesPerOp)).append(" | ")
                    .append(exactBytes(size.path("sample_bytes_per_op"))).append(" | ")
                    .append(exactBytes(size.path("read_bytes_per_op"))).append(" | ")
                    .append(ratio(ratio)).append(" | ").append(met ? "yes" : "no").append(" |\n");
            targets.add(String.format(Locale.ROOT, "Sample allocation (%s): %.0f B/op for a %d B result: %s", source,
                    sample.bytesPerOp, fresh, met ? "**met**"
                            : String.format(Locale.ROOT, "**not met**, %.0f B (%.0f %%) more than the result",
                            sample.bytesPerOp - fresh, (ratio - 1) * 100)));
        }
        md.append("\nThe gc profiler's B/op is JMH's allocation per iteration divided by the operations: it includes "
                + "JMH's own few hundred KB per iteration, which shows as a few B/op on the slower rows. The "
                + "ThreadMXBean columns count this thread's allocation over 10 000 calls after 30 000 warm-up ones.\n");
        md.append('\n');
    }

    private void scale() {
        Result series = result("ScaleBench.seriesRound", null), collector = result("ScaleBench.collectorRound", null);
        if (series == null && collector == null) return;
        md.append("## Scale: one sampling round over 1000 live cgroups (a sleeper in every 10th)\n\n");
        md.append("CPU % of one core at a 1 Hz heartbeat = time per round / 1 s.\n\n");
        JsonNode c = floor.path("c_floor").path("scale_round");
        double cNs = c.path("pread").path("ns_per_op").asDouble(Double.NaN);
        md.append("| Round | ms/round | ± | B/round | us per cgroup | CPU % of one core at 1 Hz | x C floor |\n");
        md.append("|---|---:|---:|---:|---:|---:|---:|\n");
        if (!Double.isNaN(cNs))
            scaleRow("C floor: the same " + c.path("files").asInt() + " files pread once each (kept-open fds)",
                    new Result(cNs, Double.NaN, 0, Double.NaN, Double.NaN, 0), cNs);
        scaleRow("sampling loop: 1000 x WorkerSeries.read, 100 x stats", series, cNs);
        scaleRow("StatsCollector.collect (also finds new and removed workers: what collectAllWorkers() costs)", collector, cNs);
        if (collector != null)
            targets.add(String.format(Locale.ROOT, "Scale: a round over 1000 cgroups takes %.2f ms with the collector "
                    + "(%.2f ms the sampling loop alone): %.2f %% of one core at 1 Hz; %.2fx the C floor of the same "
                    + "reads (goal: 1.3x)", collector.ns / 1e6, series == null ? Double.NaN : series.ns / 1e6,
                    collector.ns / 1e9 * 100, collector.ns / cNs));
        md.append('\n');
    }

    private void scaleRow(String what, Result r, double floorNs) {
        if (r == null) return;
        md.append("| ").append(what).append(" | ").append(String.format(Locale.ROOT, "%.3f", r.ns / 1e6)).append(" | ")
                .append(Double.isNaN(r.errorNs) ? "" : String.format(Locale.ROOT, "%.3f", r.errorNs / 1e6)).append(" | ").append(bytes(r.bytesPerOp))
                .append(" | ").append(String.format(Locale.ROOT, "%.2f", r.ns / 1e3 / 1000)).append(" | ")
                .append(String.format(Locale.ROOT, "%.2f %%", r.ns / 1e9 * 100)).append(" | ")
                .append(Double.isNaN(floorNs) ? "" : String.format(Locale.ROOT, "%.2fx", r.ns / floorNs)).append(" |\n");
    }

    /** Issue 17 goal 4: a monitored spawn into its own new cgroup at most 0.8x ProcessBuilder's, under 8 KB per spawn. */
    private static final double SPAWN_GOAL_RATIO = 0.8, SPAWN_GOAL_BYTES = 8 * 1024;
    /** benchmarks/c/spawn-floor.c's medians (make bench runs it before JMH), or null. */
    private JsonNode spawnFloor;

    private void spawn() {
        Result plain = result("SpawnBench.processBuilder", null);
        if (plain == null) return;
        md.append("## Spawn: /bin/true, start to exit\n\n");
        md.append("Sampled (JMH SampleTime), all ways in the same run; the median is the figure. Monitored = "
                + "`ProcessMonitor.spawn(...withMonitoring)` + `onExit().join()`: leaf created, the program started inside it, "
                + "exit seen, final figures read, leaf removed; native = librbee-spawn.so's clone3(CLONE_INTO_CGROUP), "
                + "launcher = ProcessBuilder + rbee-launch (the fallback). "
                + "Spawn-then-attach = mkdir leaf, ProcessBuilder, write the pid to cgroup.procs (racy), wait, rmdir. "
                + "B/op counts every thread's allocation (JMH `gc.alloc.rate.norm`).\n\n");
        md.append("| Way | median us | p90 us | mean us | ± | B/op | samples | median / ProcessBuilder |\n");
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
        spawnRow("ProcessBuilder (no cgroup)", plain, plain);
        Result mon = result("SpawnBench.monitoredSpawn", null), launcher = result("SpawnBench.monitoredSpawnLauncher", null),
                attach = result("SpawnBench.spawnThenAttach", null);
        spawnRow("**ours**: monitored spawn + onExit (native path)", mon, plain);
        spawnRow("ours through the launcher (fallback path)", launcher, plain);
        spawnRow("spawn-then-attach (the first implementation's way)", attach, plain);
        if (mon != null) {
            double r = mon.p50Ns / plain.p50Ns;
            targets.add(String.format(Locale.ROOT, "Spawn (goal <= %.1fx ProcessBuilder): the monitored spawn's median start-to-exit "
                            + "is %.2fx plain ProcessBuilder's (%.0f vs %.0f us): %s%s%s", SPAWN_GOAL_RATIO, r, mon.p50Ns / 1e3,
                    plain.p50Ns / 1e3, r <= SPAWN_GOAL_RATIO ? "met" : "not met",
                    launcher == null ? "" : String.format(Locale.ROOT, "; through the launcher %.2fx", launcher.p50Ns / plain.p50Ns),
                    attach == null ? "" : String.format(Locale.ROOT, "; spawn-then-attach %.2fx", attach.p50Ns / plain.p50Ns)));
            targets.add(String.format(Locale.ROOT, "Spawn allocation (goal < %.0f B): %s B per monitored spawn: %s "
                            + "(ProcessBuilder %s B%s)", SPAWN_GOAL_BYTES, bytes(mon.bytesPerOp),
                    mon.bytesPerOp < SPAWN_GOAL_BYTES ? "met" : "not met", bytes(plain.bytesPerOp),
                    launcher == null ? "" : ", through the launcher " + bytes(launcher.bytesPerOp) + " B"));
        }
        md.append('\n');
        if (spawnFloor != null && spawnFloor.has("group_leaf_us")) {
            double px = spawnFloor.path("posix_spawn_us").asDouble(), leaf = spawnFloor.path("leaf_us").asDouble(),
                    gl = spawnFloor.path("group_leaf_us").asDouble();
            md.append(String.format(Locale.ROOT, "The kernel's floor (`benchmarks/c/spawn-floor.c`, %d rounds of each way in turn, "
                    + "medians, run just before JMH): posix_spawn + waitpid %.0f us; mkdir + rbee_spawn into the new leaf + waitid + "
                    + "rmdir %.0f us (%.2fx posix_spawn); the same with a group made and removed around the leaf (a life alone in "
                    + "its group, as in this bench) %.0f us (%.2fx). Against JMH's ProcessBuilder median (minutes apart): the "
                    + "floor is %.2fx ProcessBuilder%s.%n%n", spawnFloor.path("rounds").asInt(), px, leaf, leaf / px, gl, gl / px,
                    gl * 1e3 / plain.p50Ns, mon == null ? "" : String.format(Locale.ROOT,
                            ", ours %.2fx the floor (the JVM's share: %.0f us per life)", mon.p50Ns / 1e3 / gl, mon.p50Ns / 1e3 - gl)));
        }
    }

    private void spawnRow(String what, Result r, Result plain) {
        if (r == null) return;
        md.append("| ").append(what).append(" | ").append(String.format(Locale.ROOT, "%.0f", r.p50Ns / 1e3)).append(" | ")
                .append(String.format(Locale.ROOT, "%.0f", r.p90Ns / 1e3)).append(" | ")
                .append(String.format(Locale.ROOT, "%.0f", r.ns / 1e3)).append(" | ")
                .append(Double.isNaN(r.errorNs) ? "" : String.format(Locale.ROOT, "%.0f", r.errorNs / 1e3)).append(" | ").append(bytes(r.bytesPerOp))
                .append(" | ").append(r.samples).append(" | ").append(ratio(r.p50Ns / plain.p50Ns)).append(" |\n");
    }

    // --- issue 17, sampling: the goals table (self-contained: the spawn rows live in their own method) ---

    /** The JMH result of {@code benchmark} whose parameter {@code param} is {@code value}. */
    Result resultWith(String benchmark, String param, String value) {
        for (JsonNode e : jmh) {
            if (!e.path("benchmark").asText().equals(PKG + benchmark)) continue;
            if (!e.path("params").path(param).asText().equals(value)) continue;
            JsonNode pm = e.path("primaryMetric");
            double scale = toNs(pm.path("scoreUnit").asText());
            JsonNode alloc = e.path("secondaryMetrics").path("gc.alloc.rate.norm");
            return new Result(pm.path("score").asDouble() * scale, pm.path("scoreError").asDouble(Double.NaN) * scale,
                    alloc.isMissingNode() ? Double.NaN : alloc.path("score").asDouble(), Double.NaN, Double.NaN, 0);
        }
        return null;
    }

    static final int[] HEARTBEAT_SIZES = {10, 100, 1000, 4000, 10_000};
    static final double HEARTBEAT_MS = 10, ROUND_FLOOR_RATIO = 1.3, FLATNESS = 1.5, FDS_PER_WORKER = 4,
            EXIT_P99_MS = 5, ADOPTION_MS = 200;

    private void sampleGoals() {
        Result round = resultWith("HeartbeatBench.round", "workers", "1000");
        JsonNode hb = floor.path("heartbeat");
        if (round == null && hb.isMissingNode() && life.isMissingNode()) return;
        md.append("## Heartbeat at scale (issue 17): the sampling goals\n\n");
        md.append("`HeartbeatBench`: `StatsCollector.collect` (the path of `collectAllWorkers()` and of `serve`'s Sampler) over N copies "
                + "of the pure-v2 fixture in /dev/shm (every file a pure-v2 host has, every worker populated: a `ProcessStats` each). "
                + "`round` is the tiered round (fast tier every round, slow tier every " + hb.path("slow_every").asInt(10)
                + "th: JMH's mean is the amortized round). `Floor.heartbeat` times the C floor, the same tiered round's reads over "
                + "the same files (`pread-floor -l FAST -s SLOW -e N`), then ours, in CPU and wall time; the goals use CPU time, which "
                + "other load on the machine does not inflate. Fds, heap: `Floor.heartbeat` at "
                + hb.path("workers").asInt(1000) + " workers. Exit and adoption: `LifeBench` on the host's cgroup2.\n\n");
        if (round != null)
            md.append("JMH (wall time, inflated by other load on a shared machine):\n\n"
                    + "| Workers | round ms | ± | B/round | us per worker |\n|---:|---:|---:|---:|---:|\n");
        double minPer = Double.MAX_VALUE, maxPer = 0;
        List<String> ran = new ArrayList<>(), notRun = new ArrayList<>();
        for (int n : HEARTBEAT_SIZES) {
            Result r = resultWith("HeartbeatBench.round", "workers", Integer.toString(n));
            if (r == null) {
                notRun.add(String.format(Locale.ROOT, "%,d", n));
                if (round != null) md.append(String.format(Locale.ROOT, "| %,d | not run (fd hard limit: see the log) | | | |%n", n));
                continue;
            }
            ran.add(String.format(Locale.ROOT, "%,d", n));
            double per = r.ns / 1e3 / n;
            minPer = Math.min(minPer, per);
            maxPer = Math.max(maxPer, per);
            md.append(String.format(Locale.ROOT, "| %,d | %.3f | %.3f | %s | %.2f |%n", n, r.ns / 1e6, r.errorNs / 1e6,
                    bytes(r.bytesPerOp), per));
        }
        md.append('\n');
        // The goals from Floor's side-by-side timing (same tree, C then Java): CPU time per round, what a round
        // costs the machine whatever else runs on it; wall time beside it (inflated by other load).
        JsonNode c = hb.path("c_round").path("pread"), j = hb.path("java_round");
        double cCpu = c.path("cpu_ns_per_op").asDouble(Double.NaN), cWall = c.path("ns_per_op").asDouble(Double.NaN);
        double jCpu = j.path("cpu_ns_per_op").asDouble(Double.NaN), jWall = j.path("wall_ns_per_op").asDouble(Double.NaN);
        double result = floor.path("result_size").path("tmpfs").path("fresh_bytes").asDouble(Double.NaN);
        int hw = hb.path("workers").asInt(1000);
        if (j.has("cpu_ns_per_op")) {
            md.append(String.format(Locale.ROOT, "Side by side (`Floor.heartbeat`, %,d workers; C and ours alternate three times, the least "
                            + "CPU time of each is the figure; CPU time of the reading thread / the C process, wall time in brackets): "
                            + "C floor %.3f ms (%.3f); ours, tiered %.3f ms (%.3f). Fast tier only: C %.3f ms, ours %.3f ms. Ours, every "
                            + "file every round: %.3f ms.%n%n",
                    hw, cCpu / 1e6, cWall / 1e6, jCpu / 1e6, jWall / 1e6,
                    hb.path("c_fast_round").path("pread").path("cpu_ns_per_op").asDouble(Double.NaN) / 1e6,
                    hb.path("java_fast_round").path("cpu_ns_per_op").asDouble() / 1e6,
                    hb.path("java_full_round").path("cpu_ns_per_op").asDouble() / 1e6));
        }
        md.append("| Goal | Ours | Floor / peer / goal | Ratio | Met? |\n|---|---:|---:|---:|---|\n");
        if (j.has("cpu_ns_per_op")) {
            goal("Heartbeat: one round over " + hw + " workers (tiered, amortized; CPU time)", ms(jCpu), "10 ms (1 % of a core at 1 Hz)",
                    jCpu / 1e6 / HEARTBEAT_MS, jCpu / 1e6 < HEARTBEAT_MS);
            goal("Allocation per round (" + hw + " workers) against the results", bytes(j.path("bytes_per_op").asDouble()) + " B",
                    String.format(Locale.ROOT, "%,.0f B (%d x %.0f B result)", hw * result, hw, result),
                    j.path("bytes_per_op").asDouble() / (hw * result), j.path("bytes_per_op").asDouble() <= hw * (result + 64));
            if (!Double.isNaN(cCpu))
                goal("Round vs its C floor (same reads, same files; CPU time)", ms(jCpu), "C " + ms(cCpu), jCpu / cCpu,
                        jCpu / cCpu <= ROUND_FLOOR_RATIO, "goal 1.3x; wall " + ratio(jWall / cWall));
        }
        JsonNode per = hb.path("per_worker");
        List<String> sizes = new ArrayList<>(), skipped = new ArrayList<>();
        double minW = Double.MAX_VALUE, maxW = 0;
        for (var it = per.fields(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getValue().has("cpu_ns_per_op")) {
                skipped.add(e.getKey() + " (" + e.getValue().asText() + ")");
                continue;
            }
            double us = e.getValue().path("cpu_ns_per_op").asDouble() / 1e3 / e.getValue().path("workers").asInt();
            sizes.add(e.getKey() + ": " + String.format(Locale.ROOT, "%.2f", us));
            minW = Math.min(minW, us);
            maxW = Math.max(maxW, us);
        }
        if (maxW > 0)
            goal("Per-worker round CPU time as the hive grows (us per worker at " + String.join(", ", sizes) + ")"
                            + (skipped.isEmpty() ? "" : "; not run: " + String.join(", ", skipped)),
                    String.format(Locale.ROOT, "%.2f-%.2f us", minW, maxW), "max/min <= 1.5", maxW / minW, maxW / minW <= FLATNESS, "max/min");
        if (maxPer > 0)
            md.append(String.format(Locale.ROOT, "| (JMH wall time per worker, %s workers: max/min) | %.2f-%.2f us | | %s | see the note |%n",
                    String.join(" / ", ran), minPer, maxPer, ratio(maxPer / minPer)).replace("see the note", "wall time: not the goal"));
        if (hb.has("fds_per_worker")) {
            // beside the shared files, each collector holds one inotify fd (its tree watch): not per worker
            double perWorker = (hb.path("fds_two_readers").asDouble() - 2) / hw;
            goal("Fds per worker, two readers (the monitor's collector and a Sampler) sharing one set", String.format(Locale.ROOT,
                    "%.3f (%d fds in all, 2 of them the collectors' inotify)", perWorker, hb.path("fds_two_readers").asInt()), "4",
                    perWorker / FDS_PER_WORKER, perWorker <= FDS_PER_WORKER);
        }
        if (hb.has("heap_bytes_per_worker"))
            md.append(String.format(Locale.ROOT, "| Retained per worker (one collector, after GC) | heap %,.0f B + direct %,.0f B | measured | | reported |%n",
                    hb.path("heap_bytes_per_worker").asDouble(), hb.path("direct_bytes_per_worker").asDouble()));
        JsonNode exit = life.path("exit");
        if (exit.has("p99_us"))
            goal(String.format(Locale.ROOT, "Exit detection: SIGKILL (pidfd) to onExit, over %d exits", exit.path("exits").asInt()),
                    String.format(Locale.ROOT, "p99 %.2f ms (p50 %.2f)", exit.path("p99_us").asDouble() / 1e3, exit.path("p50_us").asDouble() / 1e3),
                    "5 ms", exit.path("p99_us").asDouble() / 1e3 / EXIT_P99_MS, exit.path("p99_us").asDouble() / 1e3 <= EXIT_P99_MS);
        adoptionRow(life.path("takeover"), "owner gone: taken over and owned");
        adoptionRow(life.path("adoption"), "owner alive: observed");
        vmGoals();
        md.append('\n');
    }

    // --- issue 17 in the VM (make bench-vm, VmHeartbeat): real leaves and 10 000 workers ---

    private boolean vmGoalsDone;

    private void readVm(ObjectMapper json, Path file) throws IOException {
        vmFile = file.getFileName().toString();
        if (Files.exists(file)) vm = json.readTree(file.toFile());
    }

    /** Why the VM figures are absent ("not run: ..."), or null when they are there. */
    private String vmNotRun() {
        if (vm.isMissingNode()) return "not run: no " + vmFile + " (make bench and make bench-vm write it; make bench-quick does not boot the guest)";
        if (vm.has("not_run")) return "not run: " + vm.path("not_run").asText();
        return null;
    }

    /** CPU us per worker of a C round ({@code round.pread}) or of ours. */
    private static double usPerWorker(JsonNode cpuHolder, int workers) {
        return cpuHolder.path("cpu_ns_per_op").asDouble(Double.NaN) / 1e3 / workers;
    }

    /** The spread max/min of us per worker over the sizes that ran: {ours, C floor}. */
    private double[] vmSpread(List<String> ran) {
        double oMin = Double.MAX_VALUE, oMax = 0, cMin = Double.MAX_VALUE, cMax = 0;
        for (var it = vm.path("per_worker").fields(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getValue().has("java_round")) continue;
            int n = e.getValue().path("workers").asInt();
            double o = usPerWorker(e.getValue().path("java_round"), n), c = usPerWorker(e.getValue().path("c_round").path("pread"), n);
            oMin = Math.min(oMin, o);
            oMax = Math.max(oMax, o);
            cMin = Math.min(cMin, c);
            cMax = Math.max(cMax, c);
            ran.add(String.format(Locale.ROOT, "%,d", n));
        }
        return new double[] {oMax / oMin, cMax / cMin, oMin, oMax};
    }

    private void vmSection() {
        md.append("## Heartbeat in the VM (issue 17: 1000 real leaves, 10 000 workers)\n\n");
        String why = vmNotRun();
        if (why != null) md.append(why).append("\n\n");
        else vmTables();
        if (!vmGoalsDone) { // no goals table above (make bench-vm alone, or the host's heartbeat did not run)
            md.append("| Goal | Ours | Floor / peer / goal | Ratio | Met? |\n|---|---:|---:|---:|---|\n");
            vmGoals();
            md.append('\n');
        }
    }

    private void vmTables() {
        JsonNode m = vm.path("machine");
        md.append(String.format(Locale.ROOT, "`make bench-vm` (`VmHeartbeat`): a QEMU guest under software emulation (TCG), %s, "
                        + "root on a pure cgroup v2 (cpu, io, memory, pids delegated), fd limit %d; %s. Emulation makes every figure "
                        + "10-25x the host's, and not evenly (kernel and JIT-compiled code cost differently under TCG): only ratios within "
                        + "this run mean anything. CPU time of the reading thread / of the C process per tiered round (fast tier every round, "
                        + "slow tier every %dth); each measurement %d x %s s after a warm-up, in whole %d-round cycles; the JIT warmed up "
                        + "%.0f s first (%.0f s in all).%n%n",
                m.path("os").asText("?"), vm.path("fd_limit_hard").asLong(), vm.path("host").asText("host load not recorded"),
                vm.path("slow_every").asInt(), vm.path("rounds").asInt(), vm.path("round_seconds").asText(), vm.path("slow_every").asInt(),
                vm.path("warmup_s").asDouble(), vm.path("elapsed_s").asDouble()));
        md.append("Per-worker cost as the hive grows: N copies of the pure-v2 fixture in the guest's /dev/shm, the C floor "
                + "(`pread-floor -l FAST -s SLOW -e 10`) and ours (`StatsCollector.collect`, one collector per size, all open), one run of each "
                + "per size in turn, " + vm.path("per_worker").path("10").path("c_rounds").size() + " turns; the least CPU time of each.\n\n");
        md.append("| Workers | C floor, CPU ms/round | C, us/worker | ours, CPU ms/round | ours, us/worker | ours / C | ours, B/round |\n");
        md.append("|---:|---:|---:|---:|---:|---:|---:|\n");
        for (var it = vm.path("per_worker").fields(); it.hasNext(); ) {
            var e = it.next();
            JsonNode r = e.getValue();
            if (!r.has("java_round")) {
                md.append("| ").append(e.getKey()).append(" | ").append(r.asText()).append(" | | | | | |\n");
                continue;
            }
            int n = r.path("workers").asInt();
            JsonNode c = r.path("c_round").path("pread"), j = r.path("java_round");
            md.append(String.format(Locale.ROOT, "| %,d | %.2f | %.1f | %.2f | %.1f | %s | %s |%n", n, c.path("cpu_ns_per_op").asDouble() / 1e6,
                    usPerWorker(c, n), j.path("cpu_ns_per_op").asDouble() / 1e6, usPerWorker(j, n),
                    ratio(j.path("cpu_ns_per_op").asDouble() / c.path("cpu_ns_per_op").asDouble()), bytes(j.path("bytes_per_op").asDouble())));
        }
        double[] spread = vmSpread(new ArrayList<>());
        md.append(String.format(Locale.ROOT, "%nSpread of the per-worker cost, max/min: ours %s, the C floor's %s.%n%n",
                ratio(spread[0]), ratio(spread[1])));
        JsonNode live = vm.path("real_leaves");
        if (live.has("java_round")) {
            int n = live.path("workers").asInt();
            md.append(String.format(Locale.ROOT, "%,d real leaves (`hb/gNNN/wNNNNN`, controllers `%s` above them, one sleeping process in each): "
                    + "the same round through `StatsCollector` and pread-floor over the same files, alternating %d times; the least CPU "
                    + "time of each is the figure.%n%n", n, live.path("controllers").asText(), live.path("c_rounds").size()));
            md.append("| Round | C floor, CPU ms | ours, CPU ms | ours / C | ours, B/round |\n|---|---:|---:|---:|---:|\n");
            double c = live.path("c_round").path("pread").path("cpu_ns_per_op").asDouble(), j = live.path("java_round").path("cpu_ns_per_op").asDouble();
            md.append(String.format(Locale.ROOT, "| tiered, %,d real leaves (the least) | %.2f | %.2f | %s | %s |%n", n, c / 1e6, j / 1e6,
                    ratio(j / c), bytes(live.path("java_round").path("bytes_per_op").asDouble())));
            List<String> runs = new ArrayList<>();
            for (int i = 0; i < live.path("c_rounds").size(); i++)
                runs.add(String.format(Locale.ROOT, "%.2f / %.2f", live.path("c_rounds").get(i).path("pread").path("cpu_ns_per_op").asDouble() / 1e6,
                        live.path("java_rounds").path(i).path("cpu_ns_per_op").asDouble() / 1e6));
            md.append("| each run, C / ours | ").append(String.join("; ", runs)).append(" | | | |\n");
            md.append(String.format(Locale.ROOT, "| fast tier only, C | %.2f | | | |%n",
                    live.path("c_fast_round").path("pread").path("cpu_ns_per_op").asDouble() / 1e6));
            JsonNode t = vm.path("per_worker").path(Integer.toString(n));
            if (t.has("java_round"))
                md.append(String.format(Locale.ROOT, "| tiered, %,d tmpfs copies of the fixture (above, same run) | %.2f | %.2f | %s | %s |%n", n,
                        t.path("c_round").path("pread").path("cpu_ns_per_op").asDouble() / 1e6, t.path("java_round").path("cpu_ns_per_op").asDouble() / 1e6,
                        ratio(t.path("java_round").path("cpu_ns_per_op").asDouble() / t.path("c_round").path("pread").path("cpu_ns_per_op").asDouble()),
                        bytes(t.path("java_round").path("bytes_per_op").asDouble())));
            md.append(String.format(Locale.ROOT, "%nTwo collectors over the real leaves hold %d fds (%.3f per worker, 2 of them the collectors' inotify).%n%n",
                    live.path("fds_two_readers").asInt(), live.path("fds_per_worker").asDouble()));
        }
        if (!vm.path("left_behind").isEmpty())
            md.append("**Left behind after the run:** ").append(vm.path("left_behind")).append("\n\n");
    }

    /** The VM's rows of the goals table (or one row saying why they did not run). */
    private void vmGoals() {
        vmGoalsDone = true;
        String why = vmNotRun();
        if (why != null) {
            md.append("| In the VM: round over 1000 real leaves vs its C floor; per-worker cost at 10-10 000 workers | ").append(why)
                    .append(" | | | not run |\n");
            targets.add("In the VM (1000 real leaves, 10 000 workers): " + why);
            return;
        }
        JsonNode live = vm.path("real_leaves");
        if (live.has("java_round")) {
            int n = live.path("workers").asInt();
            double c = live.path("c_round").path("pread").path("cpu_ns_per_op").asDouble(), j = live.path("java_round").path("cpu_ns_per_op").asDouble();
            JsonNode t = vm.path("per_worker").path(Integer.toString(n));
            String tmpfs = t.has("java_round") ? "; over tmpfs in the same run " + ratio(t.path("java_round").path("cpu_ns_per_op").asDouble()
                    / t.path("c_round").path("pread").path("cpu_ns_per_op").asDouble()) : "";
            goal(String.format(Locale.ROOT, "In the VM (TCG): tiered round over %,d real leaves vs its C floor (CPU time)", n), ms(j),
                    "C " + ms(c), j / c, j / c <= ROUND_FLOOR_RATIO, "goal 1.3x" + tmpfs);
            double perWorker = (live.path("fds_two_readers").asDouble() - 2) / n;
            goal(String.format(Locale.ROOT, "In the VM: fds per worker, %,d real leaves, two readers", n),
                    String.format(Locale.ROOT, "%.3f", perWorker), "4", perWorker / FDS_PER_WORKER, perWorker <= FDS_PER_WORKER);
        }
        List<String> ran = new ArrayList<>();
        double[] spread = vmSpread(ran);
        if (!ran.isEmpty()) {
            List<String> notRun = new ArrayList<>();
            for (var it = vm.path("per_worker").fields(); it.hasNext(); ) {
                var e = it.next();
                if (!e.getValue().has("java_round")) notRun.add(e.getKey() + " (" + e.getValue().asText() + ")");
            }
            goal("In the VM (TCG): per-worker round CPU time at " + String.join(", ", ran) + " workers (tmpfs), max/min"
                            + (notRun.isEmpty() ? "" : "; not run: " + String.join(", ", notRun)),
                    String.format(Locale.ROOT, "%.1f-%.1f us", spread[2], spread[3]),
                    "max/min <= 1.5; the C floor's own: " + ratio(spread[1]), spread[0], spread[0] <= FLATNESS && notRun.isEmpty(),
                    "C floor " + ratio(spread[1]));
        }
    }

    private static String ms(double ns) {
        return String.format(Locale.ROOT, "%.3f ms", ns / 1e6);
    }

    /** Goal 6 for one of LifeBench's adoption cases: the wall time (and the adopting thread's CPU time). */
    private void adoptionRow(JsonNode adopt, String how) {
        if (!adopt.has("ms")) return;
        goal(String.format(Locale.ROOT, "Adoption: a fresh monitor finds %d live workers, %s (%d found)",
                        life.path("workers").asInt(), how, adopt.path("found").asInt()),
                adopt.path("ms").asText() + " ms" + (adopt.has("cpu_ms") ? " (" + adopt.path("cpu_ms").asText() + " ms CPU)" : ""),
                "200 ms", adopt.path("ms").asDouble() / ADOPTION_MS,
                adopt.path("ms").asDouble() <= ADOPTION_MS && adopt.path("found").asInt() == life.path("workers").asInt());
    }

    private void goal(String what, String ours, String peer, double ratio, boolean met) {
        goal(what, ours, peer, ratio, met, null);
    }

    private void goal(String what, String ours, String peer, double ratio, boolean met, String note) {
        md.append("| ").append(what).append(" | ").append(ours).append(" | ").append(peer).append(" | ").append(ratio(ratio))
                .append(" | ").append(met ? "**met**" : "**not met**").append(" |\n");
        targets.add(what + ": " + ours + " vs " + peer + " (" + ratio(ratio) + (note == null ? "" : ", " + note) + "): "
                + (met ? "met" : "not met"));
    }

    private static String num(double ns) {
        if (Double.isNaN(ns)) return "";
        return ns >= 100 ? String.format(Locale.ROOT, "%,.0f", ns) : String.format(Locale.ROOT, "%.1f", ns);
    }

    /** B/op; below 8 (no object is that small) it is the profiler's own noise: shown as "≈0". */
    private static String bytes(double b) {
        if (Double.isNaN(b)) return "";
        if (b < 8) return "≈0";
        return String.format(Locale.ROOT, "%,.0f", b);
    }

    private static String exactBytes(JsonNode n) {
        return n.isMissingNode() ? "" : String.format(Locale.ROOT, "%,.0f", n.asDouble());
    }

    private static String ratio(double r) {
        if (Double.isNaN(r) || Double.isInfinite(r)) return "";
        return r >= 10 ? String.format(Locale.ROOT, "%.0fx", r) : String.format(Locale.ROOT, "%.2fx", r);
    }
}
