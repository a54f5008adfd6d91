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
    private final StringBuilder md = new StringBuilder();
    private final List<String> targets = new ArrayList<>();

    Report(JsonNode jmh, JsonNode floor) {
        this.jmh = jmh;
        this.floor = floor;
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: Report JMH.json FLOOR.json [COMMAND]");
            System.exit(2);
        }
        ObjectMapper json = new ObjectMapper();
        JsonNode jmh = json.readTree(Path.of(args[0]).toFile());
        JsonNode floor = Files.exists(Path.of(args[1])) ? json.readTree(Path.of(args[1]).toFile()) : json.createObjectNode();
        System.out.print(new Report(jmh, floor).render(args.length > 2 ? args[2] : "make bench"));
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
    }

    private void spawnRow(String what, Result r, Result plain) {
        if (r == null) return;
        md.append("| ").append(what).append(" | ").append(String.format(Locale.ROOT, "%.0f", r.p50Ns / 1e3)).append(" | ")
                .append(String.format(Locale.ROOT, "%.0f", r.p90Ns / 1e3)).append(" | ")
                .append(String.format(Locale.ROOT, "%.0f", r.ns / 1e3)).append(" | ")
                .append(Double.isNaN(r.errorNs) ? "" : String.format(Locale.ROOT, "%.0f", r.errorNs / 1e3)).append(" | ").append(bytes(r.bytesPerOp))
                .append(" | ").append(r.samples).append(" | ").append(ratio(r.p50Ns / plain.p50Ns)).append(" |\n");
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
