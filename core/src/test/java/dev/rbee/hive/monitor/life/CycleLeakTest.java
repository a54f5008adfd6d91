package dev.rbee.hive.monitor.life;

import dev.rbee.hive.monitor.model.ExitReport;
import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** 500 spawn/exit cycles leave no cgroup directory, fd or thread behind. */
class CycleLeakTest {
    static final int CYCLES = Integer.getInteger("rbee.cycles", 500);
    final String group = TestEnv.uniqueGroup("cycle");
    final ProcessMonitor monitor = TestEnv.monitor();
    final Path groupDir = monitor.backend().root().orElseThrow().resolve(group);

    @AfterEach
    void cleanup() {
        TestEnv.destroyTree(groupDir);
    }

    private void cycle(int i) throws Exception {
        Worker w = monitor.spawn(WorkerSpec.command("/bin/sh", "-c", i % 3 == 0 ? "sleep 1000 & exit 0" : "exit 0")
                .withMonitoring(group, "i" + (i % 10)).build());
        ExitReport r = w.onExit().get(30, TimeUnit.SECONDS);
        assertTrue(r.cgroupRemoved(), r.summary());
    }

    @Test
    void noLeaks() throws Exception {
        for (int i = 0; i < 20; i++) cycle(i); // warm-up: launcher unpacked, pools started
        settle();
        long fds = TestEnv.settledFdCount(), threads = Thread.activeCount(), ours = rbeeThreads();
        for (int i = 0; i < CYCLES; i++) cycle(i);
        settle();
        System.out.printf("%d cycles: fds %d -> %d, threads %d -> %d, rbee threads %d -> %d, dirs left: %s%n",
                CYCLES, fds, TestEnv.fdCount(), threads, Thread.activeCount(), ours, rbeeThreads(), Files.exists(groupDir));
        assertFalse(Files.exists(groupDir), "cgroup directories left behind");
        assertEquals(fds, TestEnv.fdCount(), "fds leaked");
        assertTrue(rbeeThreads() <= ours + 1, "rbee threads grew: " + ours + " -> " + rbeeThreads());
        // The JDK's process reaper is a cached pool: a thread or two may linger for its 60 s keep-alive.
        assertTrue(Thread.activeCount() <= threads + 2, "threads grew: " + threads + " -> " + Thread.activeCount());
    }

    /**
     * Lets what earlier tests dropped without closing be collected (the JDK closes an unreachable
     * FileChannel's fd through a Cleaner), and the JDK's reaper threads return to their pool.
     */
    private static void settle() throws InterruptedException {
        System.gc();
        Thread.sleep(200);
    }

    private static long rbeeThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("rbee-")).count();
    }
}
