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
 */
public final class StatsCollector implements AutoCloseable {
    private final Discovery discovery;
    private final double alpha;
    private final Optional<GpuSampler> gpu;
    private final Map<Object, WorkerSeries> series = new HashMap<>();
    private final List<String> errors = new ArrayList<>();
    private Optional<GpuSnapshot> lastGpu = Optional.empty();
    /** Every this many rounds each series catches up with new files and sub-cgroups (it allocates). */
    static final int REFRESH_EVERY = 10;
    private long round;
    private List<Discovery.Found> lastFound = List.of();

    /** Over the leaves of a cgroup tree. */
    public StatsCollector(CgroupTree tree, double alpha, Optional<GpuSampler> gpu) {
        this(Discovery.leaves(tree), alpha, gpu);
    }

    public StatsCollector(Discovery discovery, double alpha, Optional<GpuSampler> gpu) {
        this.discovery = discovery;
        this.alpha = alpha;
        this.gpu = gpu;
    }

    /** The workers (populated leaves, or live process trees) that pass {@code which}. */
    public synchronized List<ProcessStats> collect(Predicate<Discovery.Found> which) throws IOException {
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
        }
        Optional<GpuSnapshot> g = gpu.map(GpuSampler::sample);
        lastGpu = g;
        Instant now = Instant.now();
        long nanos = System.nanoTime();
        List<ProcessStats> out = new ArrayList<>();
        boolean refresh = round++ % REFRESH_EVERY == 0;
        for (Discovery.Found f : found) {
            if (!which.test(f)) continue;
            try {
                WorkerSeries s = series.get(f.key());
                if (s == null) {
                    s = new WorkerSeries(f.group(), f.instance(), f.opener().open(), alpha);
                    series.put(f.key(), s);
                    s.refresh();
                } else if (refresh && s.populated()) {
                    s.refresh(); // empty leaves are not workers: nothing of theirs is reported
                }
                if (!s.read(nanos)) {
                    series.remove(f.key()).close(); // removed meanwhile: the series ends quietly
                    continue;
                }
                if (s.populated()) out.add(s.stats(now, g));
            } catch (IOException | RuntimeException e) {
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
        series.values().forEach(WorkerSeries::close);
        series.clear();
        discovery.close();
    }
}
