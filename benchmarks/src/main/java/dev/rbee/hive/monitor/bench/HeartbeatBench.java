package dev.rbee.hive.monitor.bench;

import dev.rbee.hive.monitor.cgroup.CgroupTree;
import dev.rbee.hive.monitor.internal.FdBudget;
import dev.rbee.hive.monitor.model.ProcessStats;
import dev.rbee.hive.monitor.stats.StatsCollector;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The heartbeat at scale (issue 17, goals 1-3): one sampling round through the
 * path {@code collectAllWorkers()} and {@code serve}'s Sampler use ({@link
 * StatsCollector#collect} over a {@link CgroupTree}, the JVM's shared readers),
 * over {@code workers} copies of the pure-v2 fixture in /dev/shm (every stats
 * file a pure-v2 host has; every worker populated, so each round builds one
 * ProcessStats per worker).
 *
 * <ul>
 *   <li>{@code round}: the tiered round as it runs: the fast tier every round,
 *       the slow tier every {@value StatsCollector#SLOW_EVERY}th; JMH's mean is
 *       the amortized cost of one round;</li>
 * </ul>
 * Every file every round (the round before the tiers) is timed by {@code Floor.heartbeat},
 * beside the C floor, to keep {@code make bench} short.
 * 10 000 workers hold 40 000 fds: the JVM raises its soft limit to the hard one
 * ({@link FdBudget#raise}); {@code make bench} runs it under {@code ulimit -n 65536}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
public class HeartbeatBench {
    /** 4000: the most a 20 000 fd hard limit holds (where 65 536 cannot be had, e.g. without CAP_SYS_RESOURCE). */
    @Param({"10", "100", "1000", "4000", "10000"})
    public int workers;

    private BenchCgroups cgroups;
    private StatsCollector collector;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        var limit = FdBudget.raise();
        System.out.printf("# fd limit soft %d hard %d; %d workers need %d%n", limit.soft(), limit.hard(), workers,
                (long) workers * FdBudget.PER_WORKER + FdBudget.RESERVE);
        long need = (long) workers * FdBudget.PER_WORKER + FdBudget.RESERVE;
        if (need > limit.hard()) // say so before making the tree: the collector would say it at worker hard/4
            throw new IllegalStateException("not run: " + workers + " workers need " + need + " fds, the hard limit is "
                    + limit.hard() + " (raise it: ulimit -Hn 65536 as root with CAP_SYS_RESOURCE)");
        cgroups = BenchCgroups.create();
        long t0 = System.nanoTime();
        Path tree = cgroups.tmpfsTree(workers);
        collector = new StatsCollector(new CgroupTree(tree), 1.0, Optional.empty());
        for (int i = 0; i < 2 * StatsCollector.SLOW_EVERY; i++) {
            int n = collector.collect(w -> true).size();
            if (n != workers) throw new IllegalStateException("expected " + workers + " workers, sampled " + n
                    + " (errors: " + collector.errors().stream().limit(3).toList() + ")");
        }
        System.out.printf("# %d workers in %s, ready in %d ms%n", workers, tree, (System.nanoTime() - t0) / 1_000_000);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        collector.close();
        cgroups.close();
    }

    @Benchmark
    public List<ProcessStats> round() throws IOException {
        return collector.collect(w -> true);
    }

}
