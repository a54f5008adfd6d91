package dev.rbee.hive.monitor.stats;

import dev.rbee.hive.monitor.read.CgroupCounters;
import dev.rbee.hive.monitor.model.CgroupException;
import dev.rbee.hive.monitor.cgroup.CpuController;
import dev.rbee.hive.monitor.cgroup.IoController;
import dev.rbee.hive.monitor.cgroup.MemoryController;
import dev.rbee.hive.monitor.cgroup.PidsController;
import dev.rbee.hive.monitor.cgroup.PressureController;
import dev.rbee.hive.monitor.model.Counters.Field;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.rbee.hive.monitor.model.Counters.Field.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CgroupReaderFixtureTest {
    private static final long MAX = Long.MAX_VALUE;

    @TempDir
    Path tmp;

    private CgroupCounters read(String... trees) throws IOException {
        Path dir = Fixtures.copy(tmp.resolve("cg"), trees);
        try (CgroupReader r = new CgroupReader(dir)) {
            CgroupCounters c = new CgroupCounters();
            assertTrue(r.read(c));
            return c;
        }
    }

    private static void assertAbsent(CgroupCounters c, String reason, Field... fields) {
        for (Field f : fields) {
            assertFalse(c.isPresent(f), f + " should be absent");
            assertEquals(reason, c.reason(f), f.name());
        }
    }

    private static void assertValues(CgroupCounters c, Object... fieldValuePairs) {
        for (int i = 0; i < fieldValuePairs.length; i += 2) {
            Field f = (Field) fieldValuePairs[i];
            assertTrue(c.isPresent(f), f + " absent: " + c.reason(f));
            assertNull(c.reason(f));
            assertEquals(((Number) fieldValuePairs[i + 1]).longValue(), c.get(f), f.name());
        }
    }

    /** A real leaf of a pure cgroup v2 kernel (6.1, captured in the VM by make vm-fixtures). */
    @Test
    void capturedPureV2Leaf() throws IOException {
        CgroupCounters c = read("vm-pure-v2");
        assertValues(c,
                Field.CPU_USAGE_USEC, 1609493, Field.CPU_USER_USEC, 1176504, Field.CPU_SYSTEM_USEC, 432988,
                Field.CPU_NR_PERIODS, 36, Field.CPU_NR_THROTTLED, 31, Field.CPU_THROTTLED_USEC, 1560692,
                Field.MEMORY_CURRENT, 34881536, Field.MEMORY_PEAK, 34881536,
                Field.MEMORY_MAX, 268435456, Field.MEMORY_HIGH, MAX,
                Field.MEMORY_ANON, 33607680, Field.MEMORY_FILE, 823296, Field.MEMORY_KERNEL, 135168,
                Field.MEMORY_SHMEM, 0, Field.MEMORY_SOCK, 0,
                Field.MEMORY_EVENTS_OOM, 0, Field.MEMORY_EVENTS_OOM_KILL, 0, Field.MEMORY_EVENTS_MAX, 0,
                Field.IO_RBYTES, 1048576, Field.IO_WBYTES, 0, Field.IO_RIOS, 16, Field.IO_WIOS, 0,
                Field.PIDS_CURRENT, 1, Field.PIDS_MAX, 64,
                Field.PSI_CPU_SOME_AVG10, 694, Field.PSI_CPU_SOME_AVG60, 189, Field.PSI_CPU_SOME_AVG300, 42,
                Field.PSI_CPU_SOME_TOTAL_USEC, 1276898, Field.PSI_CPU_FULL_TOTAL_USEC, 1276898);
        assertTrue(c.get(Field.MEMORY_PEAK) >= c.get(Field.MEMORY_CURRENT));
        assertEquals(1, c.pidCount());
        for (Field f : Field.values()) assertTrue(c.isPresent(f), f + " absent on a full pure-v2 leaf: " + c.reason(f));
    }

    @ParameterizedTest
    @ValueSource(strings = {"host-hybrid", "host-hybrid-busy", "host-hybrid-many-procs", "pure-v2"})
    void everyFieldIsPresentOrHasAReason(String tree) throws IOException {
        CgroupCounters c = read(tree);
        for (Field f : Field.values()) {
            if (c.isPresent(f)) assertNull(c.reason(f), f.name());
            else assertNotNull(c.reason(f), f.name());
            assertFalse(CgroupCounters.NOT_READ.equals(c.reason(f)), f + " not read");
        }
    }

    @Test
    void hostHybridHasNoControllers() throws IOException {
        CgroupCounters c = read("host-hybrid");
        assertValues(c, CPU_USAGE_USEC, 0, CPU_USER_USEC, 0, CPU_SYSTEM_USEC, 0,
                PSI_CPU_SOME_AVG10, 0, PSI_CPU_FULL_TOTAL_USEC, 0, PSI_MEMORY_SOME_TOTAL_USEC, 0, PSI_IO_FULL_AVG300, 0);
        assertAbsent(c, CpuController.NOT_ENABLED, CPU_NR_PERIODS, CPU_NR_THROTTLED, CPU_THROTTLED_USEC);
        assertAbsent(c, "memory controller not enabled", MEMORY_CURRENT, MEMORY_PEAK, MEMORY_MAX, MEMORY_HIGH,
                MEMORY_ANON, MEMORY_FILE, MEMORY_KERNEL, MEMORY_SHMEM, MEMORY_SOCK,
                MEMORY_EVENTS_HIGH, MEMORY_EVENTS_MAX, MEMORY_EVENTS_OOM, MEMORY_EVENTS_OOM_KILL);
        assertAbsent(c, "io controller not enabled", IO_RBYTES, IO_WBYTES, IO_RIOS, IO_WIOS);
        assertAbsent(c, "pids controller not enabled", PIDS_CURRENT, PIDS_MAX);
        assertArrayEquals(new long[] {5698}, c.pidsCopy());
    }

    @Test
    void hostHybridBusy() throws IOException {
        CgroupCounters c = read("host-hybrid-busy");
        assertValues(c, CPU_USAGE_USEC, 1492863, CPU_USER_USEC, 1492863, CPU_SYSTEM_USEC, 0,
                PSI_CPU_SOME_AVG10, 923, PSI_CPU_SOME_AVG60, 166, PSI_CPU_SOME_AVG300, 34, PSI_CPU_SOME_TOTAL_USEC, 1760179,
                PSI_CPU_FULL_AVG10, 923, PSI_CPU_FULL_TOTAL_USEC, 1760179);
        assertArrayEquals(new long[] {5875}, c.pidsCopy());
    }

    @Test
    void pureV2HasEveryField() throws IOException {
        CgroupCounters c = read("pure-v2");
        assertValues(c,
                CPU_USAGE_USEC, 8992210, CPU_USER_USEC, 6139150, CPU_SYSTEM_USEC, 2853059,
                CPU_NR_PERIODS, 1532, CPU_NR_THROTTLED, 17, CPU_THROTTLED_USEC, 402113,
                MEMORY_CURRENT, 63016960, MEMORY_PEAK, 71303168, MEMORY_MAX, 536870912, MEMORY_HIGH, MAX,
                MEMORY_ANON, 52416512, MEMORY_FILE, 8294400, MEMORY_KERNEL, 2301952, MEMORY_SHMEM, 1323008, MEMORY_SOCK, 4096,
                MEMORY_EVENTS_HIGH, 0, MEMORY_EVENTS_MAX, 2, MEMORY_EVENTS_OOM, 1, MEMORY_EVENTS_OOM_KILL, 1,
                IO_RBYTES, 20054016 + 1048576, IO_WBYTES, 4202496 + 65536, IO_RIOS, 912 + 31, IO_WIOS, 101 + 4,
                PIDS_CURRENT, 3, PIDS_MAX, MAX,
                PSI_CPU_SOME_AVG10, 1234, PSI_CPU_SOME_AVG60, 567, PSI_CPU_SOME_AVG300, 102, PSI_CPU_SOME_TOTAL_USEC, 3120456,
                PSI_CPU_FULL_AVG10, 50, PSI_CPU_FULL_AVG60, 10, PSI_CPU_FULL_AVG300, 0, PSI_CPU_FULL_TOTAL_USEC, 104412,
                PSI_MEMORY_SOME_AVG60, 3, PSI_MEMORY_SOME_TOTAL_USEC, 20512, PSI_MEMORY_FULL_TOTAL_USEC, 18807,
                PSI_IO_SOME_AVG10, 125, PSI_IO_SOME_TOTAL_USEC, 511023, PSI_IO_FULL_AVG10, 110, PSI_IO_FULL_TOTAL_USEC, 493310);
        for (Field f : Field.values()) assertTrue(c.isPresent(f), f + ": " + c.reason(f));
        assertArrayEquals(new long[] {412, 437, 438}, c.pidsCopy());
    }

    @Test
    void missingFilesAreAbsentWithTheirReason() throws IOException {
        Path dir = Fixtures.copy(tmp.resolve("cg"), "pure-v2");
        Files.delete(dir.resolve("memory.peak"));    // a kernel before 5.19
        Files.delete(dir.resolve("cpu.pressure"));   // PSI off
        Files.delete(dir.resolve("io.stat"));
        Files.delete(dir.resolve("pids.max"));
        try (CgroupReader r = new CgroupReader(dir)) {
            assertEquals(List.of("memory.peak", "io.stat", "pids.max", "cpu.pressure"), r.missingFiles());
            CgroupCounters c = new CgroupCounters();
            assertTrue(r.read(c));
            assertAbsent(c, MemoryController.NO_PEAK, MEMORY_PEAK);
            assertAbsent(c, "PSI not available (cpu.pressure missing)", PSI_CPU_SOME_AVG10, PSI_CPU_SOME_AVG60,
                    PSI_CPU_SOME_AVG300, PSI_CPU_SOME_TOTAL_USEC, PSI_CPU_FULL_AVG10, PSI_CPU_FULL_AVG60,
                    PSI_CPU_FULL_AVG300, PSI_CPU_FULL_TOTAL_USEC);
            assertEquals(PressureController.notAvailable("cpu"), c.reason(PSI_CPU_SOME_AVG10));
            assertAbsent(c, IoController.NOT_ENABLED, IO_RBYTES, IO_WBYTES, IO_RIOS, IO_WIOS);
            assertAbsent(c, PidsController.NOT_ENABLED, PIDS_MAX);
            assertValues(c, MEMORY_CURRENT, 63016960, PIDS_CURRENT, 3, PSI_IO_SOME_AVG10, 125);

            // files that appear later are picked up by reopenMissing, not by read
            Fixtures.copy(dir, "pure-v2");
            assertTrue(r.read(c));
            assertFalse(c.isPresent(MEMORY_PEAK));
            assertEquals(4, r.reopenMissing());
            assertTrue(r.read(c));
            for (Field f : Field.values()) assertTrue(c.isPresent(f), f + ": " + c.reason(f));
        }
    }

    @Test
    void valuesNear2pow64Saturate() throws IOException {
        CgroupCounters c = read("pure-v2", "edge-near-2pow64");
        assertValues(c, CPU_USAGE_USEC, MAX, CPU_USER_USEC, MAX, CPU_SYSTEM_USEC, MAX, CPU_THROTTLED_USEC, MAX,
                MEMORY_MAX, MAX, MEMORY_HIGH, 9223372036854771712L, MEMORY_SOCK, MAX, MEMORY_ANON, 52416512,
                IO_RBYTES, MAX, IO_WBYTES, MAX, IO_RIOS, 2, IO_WIOS, 2, PIDS_MAX, MAX,
                PSI_CPU_SOME_AVG10, 10000, PSI_CPU_SOME_AVG60, 9999, PSI_CPU_SOME_AVG300, 1,
                PSI_CPU_SOME_TOTAL_USEC, MAX, PSI_CPU_FULL_TOTAL_USEC, MAX);
        for (Field f : Field.values()) assertTrue(c.getOr(f, 0) >= 0, f + " negative");
    }

    @Test
    void unknownKeysAreIgnored() throws IOException {
        CgroupCounters c = read("pure-v2", "edge-unknown-keys");
        assertValues(c, CPU_USAGE_USEC, 1000, CPU_USER_USEC, 600, CPU_SYSTEM_USEC, 400,
                CPU_NR_PERIODS, 10, CPU_NR_THROTTLED, 2, CPU_THROTTLED_USEC, 3000,
                MEMORY_EVENTS_HIGH, 7, MEMORY_EVENTS_MAX, 3, MEMORY_EVENTS_OOM, 0, MEMORY_EVENTS_OOM_KILL, 0,
                IO_RBYTES, 400, IO_WBYTES, 600, IO_RIOS, 4, IO_WIOS, 6,
                PSI_IO_SOME_AVG10, 125, PSI_IO_SOME_AVG60, 40, PSI_IO_SOME_AVG300, 9, PSI_IO_SOME_TOTAL_USEC, 511023,
                PSI_IO_FULL_AVG10, 110, PSI_IO_FULL_TOTAL_USEC, 493310);
    }

    @Test
    void aTruncatedLastLineIsIgnored() throws IOException {
        CgroupCounters c = read("pure-v2", "edge-truncated");
        assertValues(c, CPU_USAGE_USEC, 8992210, CPU_NR_THROTTLED, 17,
                MEMORY_ANON, 52416512, MEMORY_KERNEL, 2301952,
                IO_RBYTES, 20054016, IO_WBYTES, 4202496, IO_RIOS, 912, IO_WIOS, 101,
                PSI_IO_SOME_AVG10, 125, PSI_IO_SOME_TOTAL_USEC, 511023);
        assertAbsent(c, CpuController.NOT_ENABLED, CPU_THROTTLED_USEC);
        assertAbsent(c, MemoryController.NOT_IN_MEMORY_STAT, MEMORY_SOCK, MEMORY_SHMEM);
        assertAbsent(c, "malformed or truncated memory.current", MEMORY_CURRENT);
        assertAbsent(c, "no full line in io.pressure", PSI_IO_FULL_AVG10, PSI_IO_FULL_TOTAL_USEC);
        assertArrayEquals(new long[] {412, 437}, c.pidsCopy());
    }

    @Test
    void emptyProcsAndIoStat() throws IOException {
        CgroupCounters c = read("pure-v2", "edge-empty");
        assertEquals(0, c.pidCount());
        assertValues(c, IO_RBYTES, 0, IO_WBYTES, 0, IO_RIOS, 0, IO_WIOS, 0, PIDS_CURRENT, 0);
    }

    @Test
    void largeProcsIsReadWhole() throws IOException {
        CgroupCounters c = read("host-hybrid-many-procs");
        List<String> lines = Files.readAllLines(Fixtures.root().resolve("host-hybrid-many-procs/cgroup.procs"));
        assertTrue(String.join("\n", lines).length() > 4096);
        assertEquals(1001, c.pidCount());
        assertArrayEquals(lines.stream().mapToLong(Long::parseLong).toArray(), c.pidsCopy());
    }

    @Test
    void rereadsSeeNewValuesAndCopyToIsExact() throws IOException {
        Path dir = Fixtures.copy(tmp.resolve("cg"), "pure-v2");
        try (CgroupReader r = new CgroupReader(dir)) {
            CgroupCounters c = new CgroupCounters();
            assertTrue(r.read(c));
            CgroupCounters first = new CgroupCounters();
            c.copyTo(first);
            Files.writeString(dir.resolve("memory.current"), "7\n");
            Files.writeString(dir.resolve("cgroup.procs"), "1\n2\n3\n4\n");
            Files.delete(dir.resolve("memory.stat")); // the open fd still reads the old inode
            assertTrue(r.read(c));
            assertEquals(7, c.get(MEMORY_CURRENT));
            assertEquals(63016960, first.get(MEMORY_CURRENT));
            assertArrayEquals(new long[] {1, 2, 3, 4}, c.pidsCopy());
            assertArrayEquals(new long[] {412, 437, 438}, first.pidsCopy());
            c.copyTo(first);
            assertEquals(c.toString(), first.toString());
        }
    }

    @Test
    void notACgroup() {
        CgroupException e = assertThrows(CgroupException.class, () -> new CgroupReader(tmp.resolve("nope")));
        assertTrue(e.getMessage().contains("nope"), e.getMessage());
    }

    @Test
    void absentFieldsThrowOnGet() {
        CgroupCounters c = new CgroupCounters();
        c.absent(MEMORY_CURRENT, MemoryController.NOT_ENABLED);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> c.get(MEMORY_CURRENT));
        assertTrue(e.getMessage().contains("memory controller not enabled"));
        assertEquals(-1, c.getOr(MEMORY_CURRENT, -1));
    }
}
