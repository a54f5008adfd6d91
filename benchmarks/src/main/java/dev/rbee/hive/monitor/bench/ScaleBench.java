package dev.rbee.hive.monitor.bench;

import dev.rbee.hive.monitor.model.ProcessStats;
import dev.rbee.hive.monitor.cgroup.CgroupTree;
import dev.rbee.hive.monitor.stats.StatsCollector;
import dev.rbee.hive.monitor.stats.WorkerSeries;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One sampling round over 1000 live cgroups ({@code GROUPS x PER_GROUP} leaves
 * {@code rbee-bench-<pid>/scale/gNN/wNNN} under the host's cgroup2 mount), a
 * sleeping process in every 10th.  CPU % of one core at a 1 Hz heartbeat =
 * time per round / 1 s.
 *
 * <ul>
 *   <li>{@code seriesRound}: the sampling loop alone: every leaf's kept-open
 *       files re-read ({@link WorkerSeries#read}), a {@link ProcessStats} built
 *       for each populated one (100);</li>
 *   <li>{@code collectorRound}: the library's {@link StatsCollector#collect},
 *       which also finds new and removed workers (an inotify read each round;
 *       the tree is listed again only after a change) - what
 *       {@code collectAllWorkers()} costs.</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class ScaleBench {
    public static final int GROUPS = 10, PER_GROUP = 100, SLEEPER_EVERY = 10;

    private BenchCgroups cgroups;
    private final List<WorkerSeries> series = new ArrayList<>();
    private StatsCollector collector;
    private final List<ProcessStats> out = new ArrayList<>();

    /** Makes the benchmark's tree under {@code cgroups}: its leaves, a sleeper in every 10th (Floor uses it too). */
    static List<Path> tree(BenchCgroups cgroups) throws IOException {
        List<Path> leaves = new ArrayList<>();
        for (int g = 0, n = 0; g < GROUPS; g++) {
            for (int i = 0; i < PER_GROUP; i++, n++) {
                Path leaf = cgroups.cgroup(String.format("scale/g%02d/w%03d", g, i));
                if (n % SLEEPER_EVERY == 0) cgroups.sleeperIn(leaf);
                leaves.add(leaf);
            }
        }
        return leaves;
    }

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        cgroups = BenchCgroups.create();
        long t0 = System.nanoTime();
        List<Path> leaves = tree(cgroups);
        int n = leaves.size();
        for (Path leaf : leaves)
            series.add(new WorkerSeries(leaf.getParent().getFileName().toString(), leaf.getFileName().toString(), leaf, 1.0));
        collector = new StatsCollector(new CgroupTree(cgroups.root().resolve("scale")), 1.0, Optional.empty());
        // first rounds: rates exist from the second sample on, main processes found
        seriesRound();
        seriesRound();
        int sampled = seriesRound().size();
        int collected = collectorRound().size();
        collectorRound();
        System.out.printf("# %d cgroups, %d populated (collector: %d), created in %d ms%n", n, sampled, collected,
                (System.nanoTime() - t0) / 1_000_000);
        if (sampled != n / SLEEPER_EVERY || collected != sampled)
            throw new IllegalStateException("expected " + n / SLEEPER_EVERY + " populated cgroups, got " + sampled + "/" + collected);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        series.forEach(WorkerSeries::close);
        collector.close();
        cgroups.close();
    }

    @Benchmark
    public List<ProcessStats> seriesRound() throws IOException {
        out.clear();
        long nanos = System.nanoTime();
        Instant now = Instant.now();
        for (WorkerSeries s : series)
            if (s.read(nanos) && s.populated()) out.add(s.stats(now, Optional.empty()));
        return out;
    }

    @Benchmark
    public List<ProcessStats> collectorRound() throws IOException {
        return collector.collect(leaf -> true);
    }
}
