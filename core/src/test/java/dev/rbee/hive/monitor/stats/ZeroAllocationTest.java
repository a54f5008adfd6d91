package dev.rbee.hive.monitor.stats;

import dev.rbee.hive.monitor.model.Counters;
import dev.rbee.hive.monitor.read.CgroupCounters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A sample allocates nothing: measured with the JVM's per-thread allocation
 * counter around many reads, after a warm-up that lets the JIT compile them.
 */
class ZeroAllocationTest {
    private static final int WARMUP = 20_000, READS = 10_000;
    /** The whole budget for READS reads: a few stray bytes, not one object per read. */
    private static final long BUDGET = 64 * 1024;

    @TempDir
    Path tmp;

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    /** Bytes allocated by READS reads after the warm-up. */
    private static long allocatedByReads(CgroupReader r, CgroupCounters c) throws IOException {
        for (int i = 0; i < WARMUP; i++) assertTrue(r.read(c));
        long before = allocatedBytes();
        for (int i = 0; i < READS; i++)
            if (!r.read(c)) throw new AssertionError("cgroup gone");
        return allocatedBytes() - before;
    }

    @Test
    void readingAFixtureTreeWithEveryFileAllocatesNothing() throws IOException {
        ThreadMxCheck.assumeSupported();
        Path dir = Fixtures.copy(tmp.resolve("cg"), "pure-v2");
        // a cgroup.procs beyond the initial 4 KiB buffer: it grows once, during the warm-up
        Files.copy(Fixtures.root().resolve("host-hybrid-many-procs/cgroup.procs"), dir.resolve("cgroup.procs"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        try (CgroupReader r = new CgroupReader(dir)) {
            CgroupCounters c = new CgroupCounters();
            long bytes = allocatedByReads(r, c);
            assertTrue(c.pidCount() == 1001 && c.isPresent(Counters.Field.IO_RBYTES), c.toString());
            assertTrue(bytes < BUDGET, bytes + " bytes allocated by " + READS + " reads");
        }
    }

    @Test
    void readingALiveCgroupAllocatesNothing() throws Exception {
        ThreadMxCheck.assumeSupported();
        try (LiveCgroup cg = LiveCgroup.create()) {
            cg.start("sleep", "60");
            try (CgroupReader r = new CgroupReader(cg.dir)) {
                long bytes = allocatedByReads(r, new CgroupCounters());
                assertTrue(bytes < BUDGET, bytes + " bytes allocated by " + READS + " reads");
            }
        }
    }

    private static final class ThreadMxCheck {
        static void assumeSupported() {
            assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean mx
                    && mx.isThreadAllocatedMemorySupported() && mx.isThreadAllocatedMemoryEnabled());
        }
    }
}
