package dev.rbee.hive.monitor.contract;

import dev.rbee.hive.monitor.model.Backend;
import dev.rbee.hive.monitor.model.ExitReport;
import dev.rbee.hive.monitor.model.MonitorConfig;
import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.model.ProcessStats;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The stats and lifecycle behaviour every Linux backend must show, through the
 * public API only: run against the cgroup2 backend and the process-tree
 * backend (forced, and chosen by itself for a user without cgroup access).
 */
abstract class BackendContract {
    final String group = "t-contract-" + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffffL);
    ProcessMonitor monitor;
    final List<Worker> started = new ArrayList<>();

    /** A fresh monitor of the backend under test (a second one acts as the restarted supervisor). */
    abstract ProcessMonitor newMonitor() throws Exception;

    abstract Backend.Kind expectedKind();

    @BeforeEach
    void setUp() throws Exception {
        monitor = newMonitor();
        System.out.println("backend: " + monitor.backend());
        assertEquals(expectedKind(), monitor.backend().kind(), monitor.backend().reason());
    }

    @AfterEach
    void tearDown() throws Exception {
        for (Worker w : started) if (w.isAlive()) w.kill();
        for (Worker w : started) w.onExit().get(10, TimeUnit.SECONDS);
        monitor.close();
    }

    Worker spawn(String instance, String script, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("/bin/sh", "-c", script, "worker"));
        cmd.addAll(List.of(args));
        Worker w = monitor.spawn(WorkerSpec.command(cmd).withMonitoring(group, instance).build());
        started.add(w);
        return w;
    }

    /** Every pid of the worker, as its stats see them, once it has at least {@code n}. */
    List<Long> pids(String instance, int n) throws Exception {
        for (int i = 0; i < 500; i++) {
            List<Long> p = monitor.collectInstance(group, instance).map(ProcessStats::pids).orElse(List.of());
            if (p.size() >= n) return p;
            Thread.sleep(10);
        }
        throw new AssertionError(instance + " never had " + n + " processes");
    }

    static void assertAllDead(List<Long> pids) {
        for (long p : pids) {
            boolean alive = ProcessHandle.of(p).map(h -> h.isAlive() && !zombie(p)).orElse(false);
            assertFalse(alive, "process " + p + " of the worker survived");
        }
    }

    static boolean zombie(long pid) {
        try {
            String st = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return st.charAt(st.lastIndexOf(')') + 2) == 'Z';
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void exitsNormallyWithItsCode() throws Exception {
        ExitReport r = spawn("1", "exit 3").onExit().get(10, TimeUnit.SECONDS);
        assertEquals(3, r.status().orElseThrow().code().getAsInt());
        assertFalse(monitor.enumerateAll().contains(new MonitorConfig(group, "1")));
    }

    @Test
    void killedBySignal() throws Exception {
        ExitReport r = spawn("1", "kill -USR1 $$").onExit().get(10, TimeUnit.SECONDS);
        assertEquals(10, r.status().orElseThrow().signal().getAsInt());
    }

    @Test
    void ignoresSigtermWithChildrenAllKilledAfterGrace() throws Exception {
        Worker w = spawn("1", "trap '' TERM; sleep 1000 & sleep 1000 & wait");
        List<Long> pids = pids("1", 3);
        ExitReport r = w.stop(Duration.ofMillis(300));
        assertTrue(r.killedByStop());
        assertEquals(9, r.status().orElseThrow().signal().getAsInt());
        assertAllDead(pids);
    }

    @Test
    void childrenOutlivingTheMainProcessAreKilled() throws Exception {
        Worker w = spawn("1", "sleep 1000 & sleep 1000 & sleep 0.5; exit 0");
        List<Long> pids = pids("1", 3);
        ExitReport r = w.onExit().get(10, TimeUnit.SECONDS);
        assertEquals(0, r.status().orElseThrow().code().getAsInt());
        assertAllDead(pids);
    }

    @Test
    void busyLoopNearOneCoreIdleNearZero() throws Exception {
        spawn("busy", "while :; do :; done");
        spawn("idle", "sleep 1000");
        double busy = 0;
        for (int i = 0; i < 3 && !(busy >= 85 && busy <= 115); i++) busy = cpuOver3s("busy");
        double idle = cpuOver3s("idle");
        System.out.printf("%s: busy %.1f%%, idle %.2f%%%n", monitor.backend().kind(), busy, idle);
        assertTrue(busy >= 85 && busy <= 115, "busy cpu_pct " + busy);
        assertTrue(idle < 5, "idle cpu_pct " + idle);
    }

    /** cpu_pct over 3 s, checked against the kernel's per-process account of the same window. */
    private double cpuOver3s(String instance) throws Exception {
        List<Long> pids = monitor.collectInstance(group, instance).orElseThrow().pids();
        long t0 = System.nanoTime(), ticks0 = ticks(pids);
        Thread.sleep(3000);
        double pct = monitor.collectInstance(group, instance).orElseThrow().cpuPct().orElseThrow();
        double truth = (ticks(pids) - ticks0) * 100.0 / dev.rbee.hive.monitor.proc.ProcStat.TICKS_PER_SECOND
                / ((System.nanoTime() - t0) / 1e9);
        System.out.printf("%s cpu_pct %s: %.1f (its processes' own utime+stime: %.1f)%n", expectedKind(), instance, pct, truth);
        assertTrue(Math.abs(pct - truth) < 5, "cpu_pct " + pct + " disagrees with /proc " + truth);
        return pct;
    }

    private static long ticks(List<Long> pids) throws Exception {
        long t = 0;
        for (long p : pids) {
            String st = Files.readString(Path.of("/proc", Long.toString(p), "stat"));
            String[] f = st.substring(st.lastIndexOf(')') + 2).split(" ");
            t += Long.parseLong(f[11]) + Long.parseLong(f[12]);
        }
        return t;
    }

    @Test
    void statsOfTheWholeTree() throws Exception {
        Worker w = spawn("8080", "sleep 1000 & sleep 1000 & wait", "--model", "llama-3.2-1b");
        List<Long> pids = pids("8080", 3);
        ProcessStats s = monitor.collectInstance(group, "8080").orElseThrow();
        assertEquals(w.pid(), s.pid());
        assertEquals(3, pids.size());
        assertEquals("llama-3.2-1b", s.model().orElseThrow());
        assertTrue(s.uptimeS().isPresent());
        assertTrue(s.cpuUsageUsec().isPresent());
    }

    @Test
    void aRestartedSupervisorFindsStopsAndSeesTheExit() throws Exception {
        Worker w = spawn("1", "sleep 1000 & wait");
        pids("1", 2);
        try (ProcessMonitor other = newMonitor()) {
            assertTrue(other.enumerateAll().contains(new MonitorConfig(group, "1")));
            assertEquals(w.pid(), other.collectInstance(group, "1").orElseThrow().pid());
            Worker adopted = other.worker(group, "1").orElseThrow();
            assertTrue(adopted.adopted());
            ExitReport r = adopted.stop(Duration.ofSeconds(5));
            assertTrue(r.status().isEmpty(), "not its child: no status");
            assertFalse(other.enumerateAll().contains(new MonitorConfig(group, "1")));
        }
        assertEquals(15, w.onExit().get(10, TimeUnit.SECONDS).status().orElseThrow().signal().getAsInt());
    }

    @Test
    void instanceBusy() throws Exception {
        spawn("1", "sleep 1000");
        var e = org.junit.jupiter.api.Assertions.assertThrows(dev.rbee.hive.monitor.model.SpawnException.class,
                () -> monitor.spawn(WorkerSpec.command("/bin/true").withMonitoring(group, "1").build()));
        assertEquals(dev.rbee.hive.monitor.model.SpawnException.Step.BUSY, e.step());
    }
}
