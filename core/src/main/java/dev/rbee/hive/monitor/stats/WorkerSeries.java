package dev.rbee.hive.monitor.stats;

import dev.rbee.hive.monitor.model.Counters;
import dev.rbee.hive.monitor.read.CgroupCounters;
import dev.rbee.hive.monitor.read.CounterSource;
import dev.rbee.hive.monitor.model.ProcessStats;
import dev.rbee.hive.monitor.gpu.GpuSnapshot;
import dev.rbee.hive.monitor.gpu.GpuUsage;
import dev.rbee.hive.monitor.proc.ProcStat;
import dev.rbee.hive.monitor.model.Counters.Field;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;


/**
 * The sample series of one worker's cgroup: its files kept open, the previous
 * counters for rates, and what is read once per main process (start time,
 * model).  Not thread-safe: one sampling thread at a time.
 *
 * <p>Hot path: {@link #read} re-reads the kept-open files into reused
 * counters and allocates nothing; {@link #stats} then builds the result,
 * which is the only allocation of a sample.
 *
 * <p>Tiers: {@link #read(long, boolean)} without {@code full} reads the fast
 * tier only (see {@link CgroupReader}) and carries the slow tier's fields from
 * the previous read; the result then says how old they are ({@link
 * Counters#slowTierAgeMillis}).  cpu_pct is a rate over the rounds; the io
 * rates, from io.stat (slow tier), are rates over the full reads and keep
 * their last value between them.  The series keeps its own previous figures, so
 * its rates are its own whoever else reads the same (shared) files.
 */
public final class WorkerSeries implements AutoCloseable {
    static final double MIB = 1024.0 * 1024.0;

    private final String group, instance;
    private final CounterSource reader;
    /** The reader's, kept: a sample's result shares it rather than asking for a new Optional each time. */
    private final Optional<Path> cgroup;
    /**
     * The counters, refilled by every read: a fast read overwrites the fast tier's fields only, so the slow
     * tier's keep the values of the last full read without a copy.
     */
    private final CgroupCounters current = new CgroupCounters();
    /** Of the read before the last: the cpu.stat usage (for cpu_pct) and io.stat totals (a new cgroup check); -1 absent. */
    private long prevCpu = -1, prevIoR = -1, prevIoW = -1;
    private long currentNanos, previousNanos;
    private boolean hasPrevious;
    private final double alpha;
    private double cpuEma = Double.NaN, readEma = Double.NaN, writeEma = Double.NaN;
    /** io.stat at the last full read, for the io rates (slow tier: rates over full reads). */
    private long ioPrevR, ioPrevW, ioPrevNanos;
    private boolean ioRate;
    private long slowNanos;
    private long mainPid = -1;
    private Optional<Instant> mainStart = Optional.empty();
    private Optional<String> model = Optional.empty();
    /** Whether {@link #model} is final for this main process (false while its command line read empty). */
    private boolean modelRead;
    /** Reads of an empty command line left for this main process (each one allocates: a few, not every sample). */
    private int emptyCmdlineRetries;

    /** @param alpha EMA weight of the newest rate (1 = no smoothing) */
    public WorkerSeries(String group, String instance, Path leaf, double alpha) throws IOException {
        this(group, instance, CgroupReader.shared(leaf), alpha);
    }

    public WorkerSeries(String group, String instance, CounterSource source, double alpha) {
        if (!(alpha > 0 && alpha <= 1)) throw new IllegalArgumentException("smoothing alpha must be in (0, 1]: " + alpha);
        this.group = group;
        this.instance = instance;
        this.reader = source;
        this.cgroup = source.cgroup();
        this.alpha = alpha;
    }

    /** The worker's cgroup (empty on the process-tree and portable backends). */
    public Optional<Path> cgroup() {
        return cgroup;
    }

    /** A full read (both tiers): see {@link #read(long, boolean)}. */
    public boolean read(long nowNanos) throws IOException {
        return read(nowNanos, true);
    }

    /**
     * Reads the cgroup now (no allocation): the fast tier, and with {@code full}
     * the slow tier; without it the slow tier's fields keep the values of the
     * last full read.  Returns false when the cgroup is gone: the series has
     * ended and its files are closed.
     */
    public boolean read(long nowNanos, boolean full) throws IOException {
        prevCpu = current.getOr(Field.CPU_USAGE_USEC, -1);
        prevIoR = current.getOr(Field.IO_RBYTES, -1);
        prevIoW = current.getOr(Field.IO_WBYTES, -1);
        previousNanos = currentNanos;
        hasPrevious = previousNanos != 0 && prevCpu >= 0;
        if (!reader.read(current, full)) return false;
        currentNanos = nowNanos;
        if (full) slowNanos = nowNanos;
        // no full read yet: the slow fields are absent ("not read yet"), not old
        current.slowTierAgeNanos(full || slowNanos == 0 ? -1 : nowNanos - slowNanos);
        // A counter that went backwards means a new cgroup under the same name: restart the series.
        if (hasPrevious && (backwards(Field.CPU_USAGE_USEC, prevCpu) || backwards(Field.IO_RBYTES, prevIoR)
                || backwards(Field.IO_WBYTES, prevIoW))) {
            hasPrevious = false;
            cpuEma = readEma = writeEma = Double.NaN;
            ioRate = false;
            ioPrevNanos = 0;
        }
        if (full) ioRates(nowNanos);
        return true;
    }

    /** At a full read: the io rates over the time since the previous full read. */
    private void ioRates(long nowNanos) {
        if (!current.isPresent(Field.IO_RBYTES)) {
            ioRate = false;
            ioPrevNanos = 0;
            return;
        }
        long r = current.get(Field.IO_RBYTES), w = current.getOr(Field.IO_WBYTES, 0);
        double dt = (nowNanos - ioPrevNanos) / 1e9;
        if (ioPrevNanos != 0 && dt > 0 && r >= ioPrevR && w >= ioPrevW) {
            readEma = smooth(readEma, (r - ioPrevR) / MIB / dt);
            writeEma = smooth(writeEma, (w - ioPrevW) / MIB / dt);
            ioRate = true;
        } else {
            ioRate = false;
        }
        ioPrevR = r;
        ioPrevW = w;
        ioPrevNanos = nowNanos;
    }

    private boolean backwards(Field f, long previous) {
        return previous >= 0 && current.getOr(f, Long.MAX_VALUE) < previous;
    }

    /** See {@link CounterSource#refresh}. */
    public int refresh() throws IOException {
        return reader.refresh();
    }

    /** Whether the last read found processes (empty leaves are not workers). */
    public boolean populated() {
        return current.pidCount() > 0;
    }

    /** Derived values that can be absent, in the order their reasons are listed. */
    private static final String[] ABSENT_KEYS = {"cpu_pct", "io_r_mb_s", "io_w_mb_s", "rss_mb", "uptime_s", "model",
            "gpu_util_pct", "vram_mb", "total_vram_mb"};
    private static final String NO_RATE = "first sample: no rate yet";

    /** Reused between samples while unchanged, so that a sample allocates only what its result needs anew. */
    private final String[] reasons = new String[ABSENT_KEYS.length];
    private Map<String, String> lastAbsent = java.util.Collections.unmodifiableMap(new LinkedHashMap<>());
    private final String[] lastReasons = new String[ABSENT_KEYS.length];
    private List<Long> lastPids = List.of();
    private Counters lastCounters;

    /**
     * The result of the last {@link #read}; GPU figures from {@code gpu} when given.
     * Allocates the result and nothing else: the pid list, the absent reasons and
     * the counters' reasons are shared with the previous result while unchanged.
     */
    public ProcessStats stats(Instant timestamp, Optional<GpuSnapshot> gpu) {
        java.util.Arrays.fill(reasons, null);
        List<Long> pids = pidList();
        refreshMain(pids);

        double dtSec = (currentNanos - previousNanos) / 1e9;
        OptionalDouble cpu = OptionalDouble.empty(), rd = OptionalDouble.empty(), wr = OptionalDouble.empty();
        if (hasPrevious && dtSec > 0) {
            cpuEma = smooth(cpuEma, (current.get(Field.CPU_USAGE_USEC) - prevCpu) / 1e6 / dtSec * 100);
            cpu = OptionalDouble.of(cpuEma);
        }
        if (ioRate && current.isPresent(Field.IO_RBYTES)) {
            rd = OptionalDouble.of(readEma);
            wr = OptionalDouble.of(writeEma);
        }
        if (cpu.isEmpty()) reasons[0] = current.isPresent(Field.CPU_USAGE_USEC) ? NO_RATE : current.reason(Field.CPU_USAGE_USEC);
        if (rd.isEmpty()) reasons[1] = reasons[2] = current.isPresent(Field.IO_RBYTES) ? NO_RATE : current.reason(Field.IO_RBYTES);
        OptionalDouble rss = OptionalDouble.empty();
        if (current.isPresent(Field.MEMORY_ANON)) rss = OptionalDouble.of(current.get(Field.MEMORY_ANON) / MIB);
        else reasons[3] = current.reason(Field.MEMORY_ANON);
        OptionalDouble uptime = OptionalDouble.empty();
        if (mainStart.isPresent())
            uptime = OptionalDouble.of(Math.max(0, (timestamp.toEpochMilli() - mainStart.get().toEpochMilli()) / 1000.0));
        else reasons[4] = "the main process's start time could not be read";
        if (model.isEmpty()) reasons[5] = "no --model argument in the main process's command line";

        OptionalDouble gpuUtil = OptionalDouble.empty(), vram = OptionalDouble.empty(), totalVram = OptionalDouble.empty();
        List<Integer> gpus = List.of();
        Map<Integer, Double> gpuUtilByGpu = Map.of();
        if (gpu.isPresent() && gpu.get().present()) {
            GpuUsage u = gpu.get().usageOf(new HashSet<>(pids));
            gpus = u.deviceIndexes();
            gpuUtil = u.smUtilPct();
            if (!u.smUtilPctByDevice().isEmpty()) {
                gpuUtilByGpu = new java.util.TreeMap<>();
                for (var e : u.smUtilPctByDevice().entrySet()) gpuUtilByGpu.put(e.getKey(), (double) e.getValue());
            }
            if (gpuUtil.isEmpty()) reasons[6] = "no per-process utilization sample";
            if (u.vramBytes().isPresent()) vram = OptionalDouble.of(u.vramBytes().getAsLong() / MIB);
            else reasons[7] = "per-process GPU memory not available";
            long total = 0;
            for (var d : gpu.get().devices()) if (gpus.contains(d.index())) total += d.memoryTotalBytes();
            if (!gpus.isEmpty()) totalVram = OptionalDouble.of(total / MIB);
            else reasons[8] = "the worker uses no GPU";
        } else {
            reasons[6] = reasons[7] = reasons[8] =
                    gpu.isPresent() && gpu.get().absentReason().isPresent() ? gpu.get().absentReason().get() : "GPU sampling not enabled";
        }
        lastCounters = new Counters(current, lastCounters);
        return new ProcessStats(group, instance, cgroup, mainPid, pids, cpu, rss, rd, wr, uptime, gpuUtil, vram,
                totalVram, gpus, gpuUtilByGpu, model, lastCounters, absentMap(), timestamp);
    }

    /** The pids as an immutable list: the previous one while the cgroup holds the same processes. */
    private List<Long> pidList() {
        int n = current.pidCount();
        boolean same = n == lastPids.size();
        for (int i = 0; same && i < n; i++) same = lastPids.get(i) == current.pid(i);
        if (same) return lastPids;
        Long[] a = new Long[n];
        for (int i = 0; i < n; i++) a[i] = current.pid(i);
        return lastPids = List.of(a);
    }

    /** The reasons as an ordered, unmodifiable map: the previous one while they are the same. */
    private Map<String, String> absentMap() {
        if (java.util.Arrays.equals(reasons, lastReasons)) return lastAbsent;
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < ABSENT_KEYS.length; i++) if (reasons[i] != null) m.put(ABSENT_KEYS[i], reasons[i]);
        System.arraycopy(reasons, 0, lastReasons, 0, reasons.length);
        return lastAbsent = java.util.Collections.unmodifiableMap(m);
    }

    private double smooth(double ema, double x) {
        return Double.isNaN(ema) || alpha == 1 ? x : alpha * x + (1 - alpha) * ema;
    }

    /** The main process is the oldest in the cgroup; re-found (and its cmdline read) only when it changes. */
    private void refreshMain(List<Long> pids) {
        for (int i = 0; i < current.pidCount(); i++) {
            if (current.pid(i) != mainPid) continue;
            if (!modelRead) readModel();
            return;
        }
        if (reader.mainPid().isPresent()) { // the portable backend knows it without /proc
            mainPid = reader.mainPid().getAsLong();
            mainStart = reader.mainStart();
            model = ProcessHandle.of(mainPid).flatMap(h -> h.info().arguments()).flatMap(WorkerSeries::modelIn);
            modelRead = true; // what the platform tells, once
            return;
        }
        Optional<ProcStat> oldest = Optional.empty();
        for (long p : pids) {
            Optional<ProcStat> st = ProcStat.read(p);
            if (st.isPresent() && (oldest.isEmpty() || st.get().startTimeTicks() < oldest.get().startTimeTicks())) oldest = st;
        }
        mainPid = oldest.map(ProcStat::pid).orElse(pids.isEmpty() ? -1 : pids.get(0));
        mainStart = oldest.map(ProcStat::startedAt);
        modelRead = false;
        emptyCmdlineRetries = 3;
        readModel();
    }

    /**
     * The model from the main process's command line.  An empty /proc/PID/cmdline is read again at the next
     * sample: a process in execve has released its parent (vfork) before the kernel sets the new argv's place
     * in its memory, and a sample in between reads nothing (a spawn that returned at once, then sampled).
     */
    private void readModel() {
        Optional<String[]> argv = cmdline(mainPid);
        model = argv.flatMap(a -> a.length == 0 ? Optional.empty() : modelIn(a));
        // read, unreadable (gone, not ours to see), or empty too often (a zombie's is empty for good): final
        modelRead = argv.isEmpty() || argv.get().length > 0 || --emptyCmdlineRetries == 0;
        if (modelRead) emptyCmdlineRetries = 0;
    }

    /** /proc/PID/cmdline split at its NULs (no element when it is empty: exiting, or in execve); empty if unreadable. */
    private static Optional<String[]> cmdline(long pid) {
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
            return Optional.of(raw.length == 0 ? new String[0] : new String(raw, StandardCharsets.UTF_8).split("\0"));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    static Optional<String> modelIn(String[] argv) {
        for (int i = 0; i < argv.length; i++) {
            if (argv[i].equals("--model") && i + 1 < argv.length) return Optional.of(argv[i + 1]);
            if (argv[i].startsWith("--model=")) return Optional.of(argv[i].substring(8));
        }
        return Optional.empty();
    }

    @Override
    public void close() {
        reader.close();
    }

    /** For tests and the benchmark: the counters of the last read. */
    public CgroupCounters counters() {
        return current;
    }

}
