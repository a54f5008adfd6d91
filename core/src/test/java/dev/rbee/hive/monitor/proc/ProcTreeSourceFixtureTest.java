package dev.rbee.hive.monitor.proc;

import dev.rbee.hive.monitor.read.CgroupCounters;
import dev.rbee.hive.monitor.model.Counters.Field;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Where a process's CPU time goes when it exits, on a /proc made of files:
 * into its reaper's reaped-children time (counted once, not twice), or, when
 * something outside the tree reaps it, kept by the source itself, while the
 * time the others go on using still shows (kept, not merely clamped).
 */
class ProcTreeSourceFixtureTest {
    private static final long MAIN = 1000, CHILD = 1001, OUTSIDE_REAPER = 1;
    private Path proc;
    private ProcessTable table;
    private ProcTreeSource source;
    private final CgroupCounters counters = new CgroupCounters();

    @BeforeEach
    void setUp() throws IOException {
        proc = Files.createTempDirectory("rbee-fake-proc-");
        table = new ProcessTable(proc);
        source = new ProcTreeSource(table, MAIN, 500);
    }

    @AfterEach
    void tearDown() throws IOException {
        source.close();
        table.close();
        try (Stream<Path> s = Files.walk(proc)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    @Test
    void aChildReapedByTheMainProcessIsCountedOnce() throws IOException {
        process(MAIN, 0, 10, 0, 500);
        process(CHILD, MAIN, 50, 0, 600);
        assertEquals(60, cpuTicks());
        gone(CHILD);
        process(MAIN, 0, 30, 50, 500); // reaped: the child's 50 ticks are now in the main process's cutime
        assertEquals(80, cpuTicks());
    }

    @Test
    void aChildReapedOutsideTheTreeKeepsItsTimeAndTheRestStillGrows() throws IOException {
        process(MAIN, 0, 10, 0, 500);
        process(CHILD, OUTSIDE_REAPER, 50, 0, 600); // re-parented, still in the main process's session
        assertEquals(60, cpuTicks());
        gone(CHILD);
        process(MAIN, 0, 30, 0, 500);
        assertEquals(80, cpuTicks(), "the gone child's 50 kept, plus the main process's own 30");
    }

    @Test
    void aSumThatDipsBetweenReadsIsNotReported() throws IOException {
        process(MAIN, 0, 10, 0, 500);
        process(CHILD, MAIN, 50, 0, 600);
        assertEquals(60, cpuTicks());
        // Read between the child's reaping and its parent's next read: the child is gone, the cutime not yet there.
        gone(CHILD);
        assertEquals(60, cpuTicks());
    }

    /** One round: the table refreshed, then the source read, as the collector does. */
    private long cpuTicks() throws IOException {
        table.refresh();
        assertTrue(source.read(counters));
        return counters.get(Field.CPU_USAGE_USEC) * ProcStat.TICKS_PER_SECOND / 1_000_000;
    }

    /** /proc/PID/{stat,statm,io}: session MAIN for every process, as the launcher's setsid makes it. */
    private void process(long pid, long ppid, long ownTicks, long reapedTicks, long startTicks) throws IOException {
        Path dir = Files.createDirectories(proc.resolve(Long.toString(pid)));
        Files.writeString(dir.resolve("stat"), pid + " (sh) S " + ppid + " " + MAIN + " " + MAIN + " 0 -1 4194304 0 0 0 0 "
                + ownTicks + " 0 " + reapedTicks + " 0 20 0 1 0 " + startTicks + " 0 0\n");
        Files.writeString(dir.resolve("statm"), "100 10 5 1 0 10 0\n");
        Files.writeString(dir.resolve("io"), "read_bytes: 0\nwrite_bytes: 0\n");
    }

    /** The process is reaped: its /proc directory is gone. */
    private void gone(long pid) throws IOException {
        Path dir = proc.resolve(Long.toString(pid));
        try (Stream<Path> s = Files.list(dir)) {
            for (Path f : s.toList()) Files.delete(f);
        }
        Files.delete(dir);
    }
}
