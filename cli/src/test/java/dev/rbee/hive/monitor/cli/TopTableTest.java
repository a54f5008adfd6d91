package dev.rbee.hive.monitor.cli;

import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.model.ProcessStats;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.read.CgroupCounters;
import dev.rbee.hive.monitor.model.Counters.Field;
import dev.rbee.hive.monitor.model.Counters;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TopTableTest {
    static ProcessStats stats(String group, String instance, OptionalDouble cpu, OptionalDouble rss, CgroupCounters c) {
        return new ProcessStats(group, instance, Optional.of(Path.of("/sys/fs/cgroup/rbee.slice", group, instance)), 42, List.of(42L, 43L),
                cpu, rss, OptionalDouble.empty(), OptionalDouble.empty(), OptionalDouble.of(3725), OptionalDouble.empty(),
                OptionalDouble.empty(), OptionalDouble.empty(), List.of(), Map.of(), Optional.empty(), new Counters(c), Map.of(),
                Instant.parse("2026-01-01T00:00:00Z"));
    }

    static CgroupCounters none() {
        CgroupCounters c = new CgroupCounters();
        for (Field f : Field.values()) c.absent(f, "controller not enabled");
        return c;
    }

    @Test
    void absentValuesPrintAsDashNeverZero() {
        String row = TopTable.row(stats("llm", "8080", OptionalDouble.empty(), OptionalDouble.empty(), none()), 14);
        List<String> cells = Arrays.asList(row.trim().split("\\s+"));
        assertEquals(List.of("llm/8080", "2", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "1h02m"), cells, row);
        assertEquals(TopTable.header(14).length(), row.length(), "columns line up");
    }

    @Test
    void presentValuesAndAnUnlimitedMemoryLimit() {
        CgroupCounters c = none();
        c.set(Field.MEMORY_PEAK, 512L << 20);
        c.set(Field.MEMORY_MAX, Long.MAX_VALUE);
        c.set(Field.MEMORY_EVENTS_OOM_KILL, 0);
        c.set(Field.PSI_CPU_SOME_AVG10, 1234);
        String row = TopTable.row(stats("llm", "8080", OptionalDouble.of(150.25), OptionalDouble.of(100), c), 14);
        List<String> cells = Arrays.asList(row.trim().split("\\s+"));
        assertEquals(List.of("llm/8080", "2", "150.3", "100.0", "512.0", "max", "-", "-", "12.34", "0", "-", "-", "1h02m"),
                cells, row);
        c.set(Field.MEMORY_MAX, 1L << 30);
        assertTrue(TopTable.row(stats("llm", "8080", OptionalDouble.empty(), OptionalDouble.empty(), c), 14).contains(" 1024.0 "));
    }

    @Test
    void sortOrders() {
        ProcessStats a = stats("llm", "9", OptionalDouble.of(5), OptionalDouble.of(300), none());
        ProcessStats b = stats("llm", "10", OptionalDouble.empty(), OptionalDouble.of(100), none());
        ProcessStats c = stats("hive", "main", OptionalDouble.of(50), OptionalDouble.empty(), none());
        List<ProcessStats> all = List.of(a, b, c);
        assertEquals(List.of(c, a, b), TopTable.sorted(all, TopTable.Sort.CPU), "largest first, absent last");
        assertEquals(List.of(a, b, c), TopTable.sorted(all, TopTable.Sort.MEMORY));
        assertEquals(List.of(c, a, b), TopTable.sorted(all, TopTable.Sort.NAME), "group, then ports in numeric order");
        assertEquals(TopTable.Sort.MEMORY, TopTable.Sort.ofKey('m').orElseThrow());
        assertEquals(TopTable.Sort.IO, TopTable.Sort.parse("io"));
        assertFalse(TopTable.Sort.ofKey('x').isPresent());
    }

    @Test
    void uptimeAndFrame() {
        assertEquals("59s", TopTable.uptime(59.9));
        assertEquals("12m03s", TopTable.uptime(723));
        assertEquals("5h07m", TopTable.uptime(5 * 3600 + 7 * 60 + 5));
        assertEquals("3d04h", TopTable.uptime(3 * 86400 + 4 * 3600));
        List<String> lines = List.of("summary line that is long", "", "HEADER", "row1", "row2", "row3");
        String f = TopCommand.Screen.frame(lines, 5, 10);
        assertTrue(f.startsWith(Tty.HOME), f);
        assertTrue(f.contains(Tty.REVERSE + "HEADER    " + Tty.NORMAL), "the header in reverse video across the width: " + f);
        assertTrue(f.contains("summary li" + Tty.CLEAR_EOL), "lines cut at the width");
        assertTrue(f.contains("... 3 more"), f);
        assertTrue(f.endsWith(Tty.CLEAR_BELOW));
    }

    /** Not a terminal (the child's stdout is a pipe): plain blocks, no escapes, as many as asked for. */
    @Test
    void batchOutputWhenNotATerminal() throws Exception {
        String group = TestEnv.uniqueGroup("top");
        ProcessMonitor monitor = TestEnv.monitor();
        Worker w = monitor.spawn(WorkerSpec.command("/bin/sleep", "600").withMonitoring(group, "8080").build());
        try {
            Cli.Result r = Cli.run("top", "--interval", "300ms", "--iterations", "2", "--group", group);
            assertEquals(0, r.exit(), r.err());
            assertFalse(r.out().contains("\033"), "no escapes: " + r.out());
            List<String> lines = r.out().lines().toList();
            assertEquals(2, lines.stream().filter(l -> l.startsWith("rbee-mon top - ")).count(), r.out());
            List<String> rows = lines.stream().filter(l -> l.startsWith(group + "/8080 ")).toList();
            assertEquals(2, rows.size(), r.out());
            for (String row : rows) {
                String[] cells = row.trim().split("\\s+");
                assertEquals(13, cells.length, row);
                assertEquals("1", cells[1], "one process: " + row);
                assertTrue(cells[2].matches("\\d+\\.\\d"), "cpu% from the second round on: " + row);
                assertEquals("-", cells[10], "no GPU: VRAM absent, not 0: " + row);
            }
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("WORKER ") && l.contains("CPU%") && l.contains("UPTIME")));
            Cli.Result bad = Cli.run("top", "--sort", "colour");
            assertEquals(2, bad.exit());
            assertTrue(bad.err().contains("invalid sort \"colour\""), bad.err());
        } finally {
            w.stop(Duration.ofSeconds(1));
            TestEnv.destroyTree(TestEnv.cgroupMount().resolve("rbee.slice").resolve(group));
        }
    }
}
