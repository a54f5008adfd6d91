package dev.rbee.hive.monitor.stats;

import dev.rbee.hive.monitor.model.MonitorConfig;
import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.model.ProcessStats;
import dev.rbee.hive.monitor.Sampler;
import dev.rbee.hive.monitor.model.Snapshot;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Stats of live workers on this host's cgroup2 (no controllers: CPU, pids and pressure only). */
class LiveStatsTest {
    final String group = TestEnv.uniqueGroup("stats");
    final ProcessMonitor monitor = TestEnv.monitor();
    final Path groupDir = monitor.backend().root().orElseThrow().resolve(group);

    @AfterEach
    void cleanup() {
        TestEnv.destroyTree(groupDir);
    }

    /**
     * One worker's cpu_pct over 3 s (collectInstance before and after), checked
     * against the kernel's per-process account of the same window
     * (/proc/PID/stat utime+stime of its main process, 10 ms ticks).
     */
    private double cpuOver3s(String instance, long pid) throws Exception {
        monitor.collectInstance(group, instance).orElseThrow();
        long t0 = System.nanoTime(), ticks0 = ticks(pid);
        Thread.sleep(3000);
        ProcessStats s = monitor.collectInstance(group, instance).orElseThrow();
        double truth = (ticks(pid) - ticks0) * 100.0 / dev.rbee.hive.monitor.proc.ProcStat.TICKS_PER_SECOND
                / ((System.nanoTime() - t0) / 1e9);
        double pct = s.cpuPct().orElseThrow();
        System.out.printf("cpu_pct %s over 3 s: %.1f (the process's own utime+stime: %.1f)%n", instance, pct, truth);
        assertTrue(Math.abs(pct - truth) < 5, "cpu_pct " + pct + " disagrees with /proc/PID/stat " + truth);
        return pct;
    }

    private static long ticks(long pid) throws Exception {
        String stat = java.nio.file.Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]); // fields 14 and 15
    }

    @Test
    void busyLoopNearOneCoreIdleNearZero() throws Exception {
        Worker busy = monitor.spawn(WorkerSpec.command("/bin/sh", "-c", "while :; do :; done").withMonitoring(group, "busy").build());
        Worker idle = monitor.spawn(WorkerSpec.command("/bin/sleep", "1000").withMonitoring(group, "idle").build());
        try {
            // On a quiet 2-core machine the loop owns one core.  Other load can take some of it (the
            // agreement with /proc is checked every time): up to 3 windows for one with the core.
            double b = 0;
            for (int w = 0; w < 3 && !(b >= 85 && b <= 115); w++) b = cpuOver3s("busy", busy.pid());
            double i = cpuOver3s("idle", idle.pid());
            assertTrue(b >= 85 && b <= 115, "busy loop cpu_pct " + b);
            assertTrue(i < 5, "idle cpu_pct " + i);
        } finally {
            busy.kill();
            idle.kill();
            busy.onExit().join();
            idle.onExit().join();
        }
    }

    @Test
    void statsAreHonestAboutWhatThisHostLacks() throws Exception {
        Worker w = monitor.spawn(WorkerSpec.command("/bin/sh", "-c", "exec sleep 1000", "x", "--model", "llama-3.2-1b")
                .withMonitoring(group, "8080").build());
        try {
            ProcessStats s = monitor.collectInstance(group, "8080").orElseThrow();
            assertEquals(w.pid(), s.pid());
            assertEquals(List.of(w.pid()), s.pids());
            assertTrue(s.uptimeS().isPresent());
            assertTrue(s.cpuUsageUsec().isPresent());
            String controllers = java.nio.file.Files.readString(groupDir.resolve("cgroup.controllers"));
            if (!controllers.contains("memory")) {
                assertTrue(s.rssMb().isEmpty(), "no memory controller: rss absent, not 0");
                assertEquals("memory controller not enabled", s.absent().get("rss_mb"));
                assertTrue(s.memoryCurrentBytes().isEmpty());
            }
            assertTrue(s.absent().containsKey("cpu_pct"), "first sample has no rate: " + s.absent());
            assertTrue(s.vramMb().isEmpty(), "GPU fields absent without a sampler");
        } finally {
            w.kill();
            w.onExit().join();
        }
    }

    @Test
    void modelFromTheCommandLine() throws Exception {
        // sh -c 'script' NAME ARGS...: the model argument sits in the main process's argv.
        Worker w = monitor.spawn(WorkerSpec.command("/bin/sh", "-c", "sleep 1000", "worker", "--port", "8080", "--model", "llama-3.2-1b")
                .withMonitoring(group, "m").build());
        try {
            assertEquals("llama-3.2-1b", monitor.collectInstance(group, "m").orElseThrow().model().orElseThrow());
        } finally {
            w.kill();
            w.onExit().join();
        }
    }

    @Test
    void secondMonitorEnumeratesWorkersOfTheFirst() throws Exception {
        Worker w = monitor.spawn(WorkerSpec.command("/bin/sleep", "1000").withMonitoring(group, "1").build());
        try {
            ProcessMonitor other = TestEnv.monitor();
            assertTrue(other.enumerateAll().contains(new MonitorConfig(group, "1")));
            List<ProcessStats> g = other.collectGroup(group);
            assertEquals(1, g.size());
            assertEquals(w.pid(), g.get(0).pid());
            assertTrue(other.collectAllWorkers().stream().anyMatch(s -> s.group().equals(group)));
        } finally {
            w.kill();
            w.onExit().join();
        }
    }

    @Test
    void emptyLeavesAreNotWorkers() throws Exception {
        java.nio.file.Files.createDirectories(groupDir.resolve("empty"));
        assertFalse(monitor.enumerateAll().contains(new MonitorConfig(group, "empty")));
        assertTrue(monitor.collectInstance(group, "empty").isEmpty());
    }

    /** A worker whose cgroup is removed ends its series; nothing reaches the listener as an exception. */
    @Test
    void removedCgroupEndsItsSeriesQuietly() throws Exception {
        Worker w = monitor.spawn(WorkerSpec.command("/bin/sleep", "1000").withMonitoring(group, "gone").build());
        List<Snapshot> seen = new CopyOnWriteArrayList<>();
        try (Sampler s = monitor.sampler().interval(Duration.ofMillis(100)).gpu(false).start()) {
            s.addListener(seen::add);
            waitFor(() -> seen.stream().anyMatch(x -> has(x, "gone")));
            w.kill();
            w.onExit().join(); // the reaper removed the cgroup
            int before = seen.size();
            waitFor(() -> seen.size() >= before + 3);
        }
        Snapshot last = seen.get(seen.size() - 1);
        assertFalse(has(last, "gone"), "removed worker no longer reported");
        assertTrue(seen.stream().allMatch(x -> x.errors().isEmpty()), "no errors: " + seen.stream().flatMap(x -> x.errors().stream()).toList());
    }

    private boolean has(Snapshot s, String instance) {
        return s.workers().stream().anyMatch(p -> p.group().equals(group) && p.instance().equals(instance));
    }

    static void waitFor(java.util.function.BooleanSupplier c) throws InterruptedException {
        for (int i = 0; i < 200 && !c.getAsBoolean(); i++) Thread.sleep(25);
        assertTrue(c.getAsBoolean(), "condition not reached in 5 s");
    }
}
