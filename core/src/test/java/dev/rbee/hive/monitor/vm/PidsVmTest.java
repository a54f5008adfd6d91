package dev.rbee.hive.monitor.vm;

import dev.rbee.hive.monitor.model.ExitReport;
import dev.rbee.hive.monitor.model.Limits;
import dev.rbee.hive.monitor.model.Output;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.read.CgroupCounters;
import dev.rbee.hive.monitor.model.Counters.Field;
import dev.rbee.hive.monitor.stats.CgroupReader;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** pids.max contains a fork bomb; the machine stays usable; stop kills the whole tree. */
@Tag("vm")
class PidsVmTest extends VmTestBase {
    static final int LIMIT = 16;
    PidsVmTest() {
        super("pids");
    }

    @Test
    void forkBombIsContainedAndStopKillsAllOfIt() throws Exception {
        Worker bomb = monitor.spawn(WorkerSpec.command(VmEnv.helper(), "forkbomb")
                .withMonitoring("pids", "bomb").limits(Limits.builder().pidsMax(LIMIT).build())
                .output(Output.pipe()).build());
        Path leaf = bomb.cgroup().orElseThrow();
        assertEquals("forking", VmEnv.line(VmEnv.stdout(bomb), Duration.ofSeconds(30)));

        // Contained: pids.current never above the limit, which the bomb does reach.
        long most = 0;
        Set<Long> seen = new TreeSet<>();
        CgroupCounters c = new CgroupCounters();
        try (CgroupReader reader = new CgroupReader(leaf)) {
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (System.nanoTime() < until) {
                assertTrue(reader.read(c), "the bomb's cgroup exists while it runs");
                long n = c.get(Field.PIDS_CURRENT);
                assertTrue(n <= LIMIT, "pids.current " + n + " > pids.max " + LIMIT);
                assertTrue(c.pidCount() <= LIMIT, "cgroup.procs lists " + c.pidCount() + " > " + LIMIT);
                most = Math.max(most, n);
                for (long p : c.pidsCopy()) seen.add(p);
                Thread.sleep(50);
            }
            assertEquals(LIMIT, c.get(Field.PIDS_MAX));
        }
        long refused = events(leaf.resolve("pids.events")).getOrDefault("max", 0L);
        System.out.printf("pids: most %d processes at once, %d distinct pids, pids.events max %d%n", most, seen.size(), refused);
        assertEquals(LIMIT, most, "the bomb reaches pids.max");
        assertTrue(refused > 0, "the kernel refused forks at the limit (pids.events max)");

        // Responsive: a fresh worker starts and ends promptly beside the bomb.
        long t0 = System.nanoTime();
        Worker probe = monitor.spawn(WorkerSpec.command("/bin/true").withMonitoring("pids", "probe").build());
        ExitReport pr = probe.onExit().get(30, TimeUnit.SECONDS);
        long probeMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        System.out.printf("pids: /bin/true beside the bomb: spawn to report %d ms (%s)%n", probeMs, pr.summary());
        assertEquals(0, pr.status().orElseThrow().code().orElse(-1));
        assertTrue(probeMs < 10_000, "spawning /bin/true beside the bomb took " + probeMs + " ms");

        // stop: the bomb ignores SIGTERM, so stop has to kill the whole cgroup.
        ExitReport r = bomb.stop(Duration.ofMillis(500));
        System.out.println("pids: " + r.summary());
        assertTrue(r.killedByStop(), "stop escalated to killing the tree: " + r);
        assertEquals(9, r.status().orElseThrow().signal().orElse(-1));
        assertTrue(r.cgroupRemoved(), "cgroup removed (the kernel removes only an empty cgroup)");
        assertFalse(Files.exists(leaf));
        for (long p : seen) {
            Path cg = Path.of("/proc/" + p + "/cgroup");
            if (Files.exists(cg))   // a pid reused since is fine, as long as it is not in the bomb's cgroup
                assertFalse(VmEnv.read(cg).equals(VmEnv.cgroupLine(leaf)), "pid " + p + " of the bomb still alive");
        }
    }

    private static Map<String, Long> events(Path file) throws Exception {
        Map<String, Long> m = new java.util.HashMap<>();
        for (String line : Files.readAllLines(file)) {
            String[] kv = line.strip().split("\\s+");
            if (kv.length == 2) m.put(kv[0], Long.parseLong(kv[1]));
        }
        return m;
    }
}
