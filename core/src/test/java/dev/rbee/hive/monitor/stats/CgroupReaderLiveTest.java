package dev.rbee.hive.monitor.stats;

import dev.rbee.hive.monitor.read.CgroupCounters;
import dev.rbee.hive.monitor.cgroup.MemoryController;
import dev.rbee.hive.monitor.model.Counters.Field;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;

import static dev.rbee.hive.monitor.model.Counters.Field.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** On this host's cgroup2 (skipped where there is none writable). */
class CgroupReaderLiveTest {

    @Test
    void busyLoopUsageAdvancesAndARemovedCgroupEndsTheSeries() throws Exception {
        try (LiveCgroup cg = LiveCgroup.create()) {
            Process p = cg.start("sh", "-c", "while :; do :; done");
            try (CgroupReader r = new CgroupReader(cg.dir)) {
                CgroupCounters a = new CgroupCounters(), b = new CgroupCounters();
                // This host is shared and has 2 cores: a window where the loop itself got less than
                // 0.8 of a core says nothing about the reader, so measure again (up to 5 windows).
                boolean uncontended = false;
                for (int window = 0; window < 5 && !uncontended; window++) {
                    assertTrue(r.read(a));
                    long t0 = System.nanoTime(), own0 = LiveCgroup.runtimeUsec(p.pid());
                    Thread.sleep(1000);
                    assertTrue(r.read(b));
                    long t1 = System.nanoTime(), own1 = LiveCgroup.runtimeUsec(p.pid());

                    long usage = b.get(CPU_USAGE_USEC) - a.get(CPU_USAGE_USEC);
                    long wallUsec = (t1 - t0) / 1000, ownUsec = own1 - own0;
                    String figures = "usage " + usage + " us over " + wallUsec + " us wall; the loop ran " + ownUsec + " us";
                    // it is the loop's own CPU time, in microseconds (the cgroup holds nothing else)
                    assertEquals(ownUsec, usage, 0.05 * ownUsec + 20_000, figures);
                    assertTrue(usage > 50_000 && usage < 1.2 * wallUsec, figures);
                    uncontended = ownUsec >= 0.8 * wallUsec;
                    // one busy core for ~1 s is ~1e6 us, not 1e9 (the nanosecond mistake)
                    if (uncontended) assertTrue(usage > 0.8 * wallUsec, figures);
                }
                assertArrayEquals(new long[] {p.pid()}, b.pidsCopy());

                if (Files.exists(cg.dir.resolve("memory.current"))) {
                    assertTrue(b.isPresent(MEMORY_CURRENT));
                } else {
                    for (Field f : List.of(MEMORY_CURRENT, MEMORY_PEAK, MEMORY_ANON, MEMORY_EVENTS_OOM_KILL))
                        assertEquals(MemoryController.NOT_ENABLED, b.reason(f), f.name());
                }
                if (Files.exists(cg.dir.resolve("cpu.pressure"))) {
                    assertTrue(b.isPresent(PSI_CPU_SOME_AVG10));
                    assertTrue(b.isPresent(PSI_CPU_SOME_TOTAL_USEC));
                    assertTrue(b.get(PSI_CPU_SOME_TOTAL_USEC) >= a.get(PSI_CPU_SOME_TOTAL_USEC));
                    assertTrue(b.isPresent(PSI_IO_FULL_TOTAL_USEC));
                }

                cg.remove();
                assertFalse(r.read(b), "a removed cgroup ends the series");
                assertTrue(r.isGone());
                assertFalse(r.read(b));
                assertEquals(0, r.reopenMissing());
            }
        }
    }

    @Test
    void aLongCgroupProcsIsReadWhole() throws Exception {
        // cgroup.procs comes at most one page per read(2), whatever the buffer: 1001 pids are ~6 KiB
        try (LiveCgroup cg = LiveCgroup.create()) {
            Process p = cg.start("sh", "-c", "read go; for i in $(seq 1000); do sleep 120 & done; echo started; wait");
            try (OutputStream in = p.getOutputStream()) {
                in.write("\n".getBytes(StandardCharsets.US_ASCII));
            }
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII));
            assertEquals("started", out.readLine());
            try (CgroupReader r = new CgroupReader(cg.dir)) {
                CgroupCounters c = new CgroupCounters();
                assertTrue(r.read(c));
                List<String> lines = Files.readAllLines(cg.dir.resolve("cgroup.procs"));
                assertTrue(String.join("\n", lines).length() > 4096);
                assertEquals(1001, c.pidCount());
                assertArrayEquals(lines.stream().mapToLong(Long::parseLong).toArray(), c.pidsCopy());
            }
        }
    }
}
