package dev.rbee.hive.monitor.spawn;

import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.model.SpawnPath;
import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Regression guard for issue 17's spawn allocation: a monitored spawn on the
 * native path, counted (never timed) on the thread that spawns, with
 * ThreadMXBean's per-thread allocation counter.  The bound is generous (16 KB;
 * the caller's share measured about 8 KB, the benchmark's whole-JVM figure is
 * in docs/performance.md): it catches a path that starts copying strings,
 * building a ProcessBuilder or an arena per spawn again.
 */
class SpawnAllocationTest {
    static final long BOUND_BYTES = 16 * 1024;
    final String group = TestEnv.uniqueGroup("alloc");
    final ProcessMonitor monitor = TestEnv.monitor(SpawnPath.NATIVE);

    @AfterEach
    void cleanup() {
        TestEnv.destroyTree(monitor.backend().root().orElseThrow().resolve(group));
    }

    @Test
    void aNativeSpawnAllocatesLittleOnTheSpawningThread() throws Exception {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertTrue(mx.isThreadAllocatedMemoryEnabled(), "the JVM counts allocation per thread");
        WorkerSpec[] specs = new WorkerSpec[4];
        for (int i = 0; i < specs.length; i++) specs[i] = WorkerSpec.command("/bin/true").withMonitoring(group, "w" + i).build();
        for (int i = 0; i < 200; i++) monitor.spawn(specs[i % specs.length]).onExit().join(); // warm-up: JIT, class loading
        int n = 200;
        long tid = Thread.currentThread().threadId();
        long before = mx.getThreadAllocatedBytes(tid);
        for (int i = 0; i < n; i++) {
            var w = monitor.spawn(specs[i % specs.length]);
            assertEquals(SpawnPath.NATIVE, w.spawnPath().orElseThrow());
            w.onExit().join();
        }
        long perSpawn = (mx.getThreadAllocatedBytes(tid) - before) / n;
        System.out.println("native spawn + exit: " + perSpawn + " bytes allocated per spawn on the spawning thread");
        assertTrue(perSpawn < BOUND_BYTES, perSpawn + " bytes per spawn, bound " + BOUND_BYTES);
    }
}
