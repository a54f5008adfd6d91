package dev.rbee.hive.monitor.stats;

import dev.rbee.hive.monitor.cgroup.CgroupTree;
import dev.rbee.hive.monitor.internal.FdBudget;
import dev.rbee.hive.monitor.model.ProcessStats;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The regression guard of issue 17's cheap figures, counted, never timed:
 * a sampling round over a fixture tree of {@value #N} workers allocates no
 * more than its results, a sample no more than its result, and every reader
 * in the JVM shares one set of at most {@value FdBudget#PER_WORKER} kept-open
 * fds per worker.  The tree is the pure-v2 fixture (captured from a real
 * kernel, every stats file present) copied {@value #N} times as regular files.
 */
class SamplingBudgetTest {
    static final int N = 100;
    /**
     * The most one sample's result may take: a ProcessStats with its new
     * Counters (values and pid list; the reasons and names are shared while
     * unchanged) is 656 B on this fixture by JOL (benchmarks' Floor), so 1 KiB
     * leaves room for another JVM's layout, not for a second copy of anything.
     */
    static final long RESULT_BOUND = 1024;
    /** Per round beyond the results: the result list and its growth, the round's Instant. */
    static final long ROUND_SLACK = 4096;

    @TempDir
    Path tmp;
    private Path root;

    @BeforeEach
    void tree() throws IOException {
        root = tmp.resolve("root");
        for (int i = 0; i < N; i++) Fixtures.copy(root.resolve(String.format("g%d", i % 10)).resolve("w" + i), "pure-v2");
    }

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    private static void assumeAllocationCounted() {
        assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean mx
                && mx.isThreadAllocatedMemorySupported() && mx.isThreadAllocatedMemoryEnabled(),
                "this JVM does not count allocation per thread");
    }

    private static int openFds() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return (int) fds.count();
        }
    }

    @Test
    void aRoundAllocatesNoMoreThanItsResults() throws IOException {
        assumeAllocationCounted();
        try (StatsCollector c = new StatsCollector(new CgroupTree(root), 1, Optional.empty())) {
            for (int i = 0; i < 1500; i++) assertEquals(N, c.collect(f -> true).size()); // JIT warm-up: 150 000 samples
            int rounds = 10 * StatsCollector.SLOW_EVERY; // slow rounds among them
            long before = allocatedBytes();
            int results = 0;
            for (int i = 0; i < rounds; i++) results += c.collect(f -> true).size();
            long perRound = (allocatedBytes() - before) / rounds;
            assertEquals(N * rounds, results);
            assertTrue(perRound <= N * RESULT_BOUND + ROUND_SLACK,
                    perRound + " B per round of " + N + " workers, bound " + (N * RESULT_BOUND + ROUND_SLACK));
        }
    }

    @Test
    void aSampleAllocatesNoMoreThanItsResult() throws IOException {
        assumeAllocationCounted();
        Path leaf = root.resolve("g0").resolve("w0");
        try (WorkerSeries s = new WorkerSeries("g0", "w0", leaf, 1)) {
            Instant now = Instant.now();
            long t = 1;
            for (int i = 0; i < 30_000; i++) {
                assertTrue(s.read(t += 1_000_000, i % 10 == 0));
                s.stats(now, Optional.empty());
            }
            int samples = 10_000;
            List<ProcessStats> keep = new ArrayList<>(samples); // sized first: no growth inside the count
            long before = allocatedBytes();
            for (int i = 0; i < samples; i++) {
                s.read(t += 1_000_000, i % 10 == 0);
                keep.add(s.stats(now, Optional.empty()));
            }
            long perSample = (allocatedBytes() - before) / samples;
            assertTrue(perSample <= RESULT_BOUND, perSample + " B per sample, bound " + RESULT_BOUND);
            assertEquals(samples, keep.size());
        }
    }

    @Test
    void everyReaderSharesOneSetOfAtMostFourFdsPerWorker() throws IOException {
        int before = openFds();
        List<ProcessStats> a1, b1, b2;
        try (StatsCollector a = new StatsCollector(new CgroupTree(root), 1, Optional.empty());
             StatsCollector b = new StatsCollector(new CgroupTree(root), 1, Optional.empty())) {
            a1 = a.collect(f -> true);
            b1 = b.collect(f -> true);
            a.collect(f -> true);
            b2 = b.collect(f -> true);
            int held = openFds() - before;
            // two inotify fds (one per collector's tree watch) beside the readers' files
            assertTrue(held <= FdBudget.PER_WORKER * N + 2, held + " fds for " + N + " workers read by two collectors");
            assertTrue(held >= FdBudget.PER_WORKER * N, held + " fds: the fast tier is kept open");
            assertEquals(N, a1.size());
            assertEquals(N, b1.size());
            // rates are each collector's own: b's second round has them, measured against b's first
            assertTrue(b2.stream().allMatch(s -> s.cpuPct().isPresent()), "b has rates from its second round");
            a.close();
            assertEquals(FdBudget.PER_WORKER * N + 1, openFds() - before, "a's close leaves b's files open");
            assertEquals(N, b.collect(f -> true).size());
        }
        assertEquals(before, openFds(), "every fd closed with the last reader");
    }
}
