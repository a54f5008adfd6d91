package dev.rbee.hive.monitor.stats;

import dev.rbee.hive.monitor.model.ProcessStats;
import dev.rbee.hive.monitor.cgroup.CgroupTree;
import dev.rbee.hive.monitor.gpu.GpuSampler;
import dev.rbee.hive.monitor.gpu.GpuSnapshot;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Samples the workers of a cgroup tree, keeping one {@link WorkerSeries} per
 * leaf between calls so that the second call has rates.  The tree itself is
 * the source of truth: workers started by anyone are found, and a series ends
 * (its files closed) when its leaf goes away.  One failing worker never stops
 * the others: its error is recorded and the rest are sampled.
 *
 * <p>Tiers: every round reads each worker's fast tier (cpu.stat,
 * memory.current, pids.current, cgroup.procs); every {@code slowEvery}th round
 * (default {@value #SLOW_EVERY}), a worker's first round, and a {@code
 * collect(which, true)} also read the slow tier (see {@link CgroupReader}).
 * The files are the JVM's one shared set per leaf ({@link CgroupReader#shared});
 * the series, and so the rates, are this collector's own.
 *
 * <p>Thread-safe: {@link #collect} is synchronized (one round at a time per
 * collector); two collectors (the monitor's and a Sampler's) run side by side,
 * serialised only per leaf while they read the same files.
 */
public final class StatsCollector implements AutoCloseable {
    private final Discovery discovery;
    private final double alpha;
    private final Optional<GpuSampler> gpu;
    private final Map<Object, WorkerSeries> series = new HashMap<>();
    /**
     * The series of {@code lastFound}'s workers, slot for slot: while the tree does not change (the usual
     * round) a worker's series is found by its index, without hashing and comparing its leaf's path.
     */
    private WorkerSeries[] slots = new WorkerSeries[0];
    private final List<String> errors = new ArrayList<>();
    private Optional<GpuSnapshot> lastGpu = Optional.empty();
    /** Every this many rounds each series catches up with new files and sub-cgroups (it allocates). */
    static final int REFRESH_EVERY = 10;
    /** Default: the slow tier is read every this many rounds (10 s at a 1 s heartbeat). */
    public static final int SLOW_EVERY = 10;
    private final int slowEvery;
    private long round;
    private boolean closed;
    private List<Discovery.Found> lastFound = List.of();

    /** Over the leaves of a cgroup tree. */
    public StatsCollector(CgroupTree tree, double alpha, Optional<GpuSampler> gpu) {
        this(Discovery.leaves(tree), alpha, gpu);
    }

    public StatsCollector(Discovery discovery, double alpha, Optional<GpuSampler> gpu) {
        this(discovery, alpha, gpu, SLOW_EVERY);
    }

    /** @param slowEvery read the slow tier every this many rounds (1 = every round) */
    public StatsCollector(Discovery discovery, double alpha, Optional<GpuSampler> gpu, int slowEvery) {
        if (slowEvery < 1) throw new IllegalArgumentException("slowEvery must be at least 1: " + slowEvery);
        this.slowEvery = slowEvery;
        this.discovery = discovery;
        this.alpha = alpha;
        this.gpu = gpu;
    }

    /** The workers (populated leaves, or live process trees) that pass {@code which}. */
    public List<ProcessStats> collect(Predicate<Discovery.Found> which) throws IOException {
        return collect(which, false);
    }

    /**
     * As {@link #collect(Predicate)}; with {@code full} every worker's slow tier
     * is read now, whatever the round.
     */
    public synchronized List<ProcessStats> collect(Predicate<Discovery.Found> which, boolean full) throws IOException {
        errors.clear();
        List<Discovery.Found> found = discovery.find();
        if (found != lastFound) { // the tree changed: end the series of workers that are gone
            Set<Object> seen = new HashSet<>();
            for (Discovery.Found f : found) seen.add(f.key());
            series.entrySet().removeIf(e -> {
                if (seen.contains(e.getKey())) return false;
                e.getValue().close();
                return true;
            });
            lastFound = found;
            slots = new WorkerSeries[found.size()];
        }
        Optional<GpuSnapshot> g = gpu.map(GpuSampler::sample);
        lastGpu = g;
        Instant now = Instant.now();
        long nanos = System.nanoTime();
        List<ProcessStats> out = new ArrayList<>(found.size());
        boolean refresh = round % REFRESH_EVERY == 0;
        boolean slow = full || round % slowEvery == 0;
        round++;
        for (int i = 0; i < found.size(); i++) {
            Discovery.Found f = found.get(i);
            if (!which.test(f)) continue;
            try {
                WorkerSeries s = slots[i];
                if (s == null) s = slots[i] = series.get(f.key());
                boolean fullRead = slow;
                if (s == null) {
                    fullRead = true; // the first read of a worker has every field
                    s = new WorkerSeries(f.group(), f.instance(), f.opener().open(), alpha);
                    series.put(f.key(), s);
                    slots[i] = s;
                    s.refresh();
                } else if (refresh && s.populated()) {
                    s.refresh(); // empty leaves are not workers: nothing of theirs is reported
                }
                if (!s.read(nanos, fullRead)) {
                    slots[i] = null;
                    series.remove(f.key()).close(); // removed meanwhile: the series ends quietly
                    continue;
                }
                if (s.populated()) out.add(s.stats(now, g));
            } catch (IOException | RuntimeException e) {
                slots[i] = null;
                WorkerSeries broken = series.remove(f.key());
                if (broken != null) broken.close();
                if (!(f.key() instanceof Path leaf) || java.nio.file.Files.isDirectory(leaf))
                    errors.add(f.group() + "/" + f.instance() + ": " + e);
            }
        }
        return out;
    }

    /** Errors of the last {@link #collect} (workers skipped), for the snapshot. */
    public synchronized List<String> errors() {
        return List.copyOf(errors);
    }

    /** The GPU reading of the last {@link #collect} (one NVML sample per round). */
    public synchronized Optional<GpuSnapshot> lastGpu() {
        return lastGpu;
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        series.values().forEach(WorkerSeries::close);
        series.clear();
        slots = new WorkerSeries[0];
        discovery.close();
    }
}
