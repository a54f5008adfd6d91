package dev.rbee.hive.monitor.stats;

import dev.rbee.hive.monitor.json.Wire;
import dev.rbee.hive.monitor.model.Counters.Field;
import dev.rbee.hive.monitor.model.ProcessStats;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fast tier is read every round, the slow tier every Nth round, a worker's
 * first round and on demand; in between the slow fields carry their last
 * values and say how old they are.  On the pure-v2 fixture captured from a real
 * kernel, copied as regular files that the test rewrites between rounds.
 */
class TieredSamplingTest {
    @TempDir
    Path tmp;

    private static void rewrite(Path file, String from, String to) throws IOException {
        String s = Files.readString(file);
        if (!s.contains(from)) throw new AssertionError(file + " has no " + from);
        Files.writeString(file, s.replace(from, to));
    }

    @Test
    void aCounterThatGoesBackOnAFastRoundStartsTheRatesAgain() throws IOException {
        // A new cgroup under the same name (its cpu.stat restarts low): no rate across the two, then rates again.
        Path leaf = Fixtures.copy(tmp.resolve("g").resolve("w"), "pure-v2");
        Discovery one = () -> List.of(new Discovery.Found("g", "w", leaf, () -> CgroupReader.shared(leaf)));
        try (StatsCollector c = new StatsCollector(one, 1, Optional.empty(), 1000)) {
            long cpu = c.collect(f -> true).get(0).cpuUsageUsec().orElseThrow();
            rewrite(leaf.resolve("cpu.stat"), "usage_usec " + cpu, "usage_usec " + (cpu + 100_000));
            assertTrue(c.collect(f -> true).get(0).cpuPct().isPresent());
            rewrite(leaf.resolve("cpu.stat"), "usage_usec " + (cpu + 100_000), "usage_usec 7");
            ProcessStats back = c.collect(f -> true).get(0);
            assertEquals(7, back.cpuUsageUsec().orElseThrow());
            assertTrue(back.cpuPct().isEmpty(), "no rate across two cgroups");
            assertEquals("first sample: no rate yet", back.absent().get("cpu_pct"));
            rewrite(leaf.resolve("cpu.stat"), "usage_usec 7", "usage_usec 50007");
            assertTrue(c.collect(f -> true).get(0).cpuPct().orElseThrow() > 0, "rates again from the new cgroup's reads");
        }
    }

    @Test
    void slowTierIsReadEveryNthRoundAndCarriedWithItsAgeBetween() throws IOException {
        Path leaf = Fixtures.copy(tmp.resolve("g").resolve("w"), "pure-v2");
        Discovery one = () -> List.of(new Discovery.Found("g", "w", leaf, () -> CgroupReader.shared(leaf)));
        try (StatsCollector c = new StatsCollector(one, 1, Optional.empty(), 3)) {
            ProcessStats r0 = c.collect(f -> true).get(0); // round 0, and the worker's first: both tiers
            assertTrue(r0.counters().slowTierAgeMillis().isEmpty(), "a full read has no age");
            long anon = r0.memoryAnonBytes().orElseThrow(), cpu = r0.cpuUsageUsec().orElseThrow();
            long current = r0.memoryCurrentBytes().orElseThrow(), rbytes = r0.ioReadBytes().orElseThrow();
            assertFalse(Wire.worker(r0).containsKey("slow_tier_age_s"));

            rewrite(leaf.resolve("cpu.stat"), "usage_usec " + cpu, "usage_usec " + (cpu + 500_000));
            rewrite(leaf.resolve("memory.current"), Long.toString(current), Long.toString(current + 4096));
            rewrite(leaf.resolve("memory.stat"), "anon " + anon, "anon " + (anon + 1048576));
            rewrite(leaf.resolve("io.stat"), "rbytes=" + 20054016, "rbytes=" + (20054016 + 8 * 1048576));

            for (int round = 1; round <= 2; round++) { // fast only: new cpu and memory.current, old memory.stat
                ProcessStats r = c.collect(f -> true).get(0);
                assertEquals(cpu + 500_000, r.cpuUsageUsec().orElseThrow());
                assertEquals(current + 4096, r.memoryCurrentBytes().orElseThrow());
                assertEquals(anon, r.memoryAnonBytes().orElseThrow(), "memory.stat is slow: its last value");
                assertEquals(rbytes, r.ioReadBytes().orElseThrow());
                assertEquals(r0.rssMb(), r.rssMb());
                assertTrue(r.counters().slowTierAgeMillis().isPresent(), "carried values have an age");
                assertTrue(r.cpuPct().isPresent(), "cpu_pct is a rate over rounds");
                assertTrue(r.ioReadMbS().isEmpty() && r.absent().containsKey("io_r_mb_s"), "one io.stat read: no rate yet");
                assertTrue(Wire.worker(r).get("slow_tier_age_s") instanceof Double d && d >= 0);
                // every field still present: carried, never zeroed
                for (Field f : Field.values()) assertTrue(r.counters().get(f).isPresent(), f.name());
            }
            ProcessStats r3 = c.collect(f -> true).get(0); // round 3: both tiers
            assertTrue(r3.counters().slowTierAgeMillis().isEmpty());
            assertEquals(anon + 1048576, r3.memoryAnonBytes().orElseThrow());
            assertEquals(rbytes + 8 * 1048576, r3.ioReadBytes().orElseThrow());
            assertTrue(r3.ioReadMbS().orElseThrow() > 0, "io rate over the two io.stat reads");

            ProcessStats r4 = c.collect(f -> true).get(0); // fast again: the io rate of the last full read
            assertEquals(r3.ioReadMbS(), r4.ioReadMbS());

            rewrite(leaf.resolve("memory.stat"), "anon " + (anon + 1048576), "anon " + anon);
            ProcessStats forced = c.collect(f -> true, true).get(0); // collectInstance's way: both tiers now
            assertEquals(anon, forced.memoryAnonBytes().orElseThrow());
            assertTrue(forced.counters().slowTierAgeMillis().isEmpty());
        }
    }

    @Test
    void aSlowFileThatDisappearsIsAbsentWithItsReasonNotZero() throws IOException {
        Path leaf = Fixtures.copy(tmp.resolve("g").resolve("w"), "pure-v2");
        try (CgroupReader r = new CgroupReader(leaf)) {
            var c = new dev.rbee.hive.monitor.read.CgroupCounters();
            assertTrue(r.read(c, true));
            assertTrue(c.isPresent(Field.IO_RBYTES));
            Files.delete(leaf.resolve("io.stat"));
            assertTrue(r.read(c, false), "a fast read does not look at io.stat");
            assertTrue(c.isPresent(Field.IO_RBYTES), "left as the caller had it");
            assertTrue(r.read(c, true));
            assertFalse(c.isPresent(Field.IO_RBYTES));
            assertEquals(dev.rbee.hive.monitor.cgroup.IoController.NOT_ENABLED, c.reason(Field.IO_RBYTES));
            assertEquals(List.of("io.stat"), r.missingFiles());
            assertEquals(4, r.openFds(), "cpu.stat, memory.current, pids.current, cgroup.procs");
        }
    }
}
