package dev.rbee.hive.monitor.life;

import dev.rbee.hive.monitor.model.ExitReport;
import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.proc.ProcStat;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The end of a worker's life: exit, stop, kill; each leaves no cgroup and no zombie, with a right report. */
class LifecycleTest {
    final String group = TestEnv.uniqueGroup("life");
    final ProcessMonitor monitor = TestEnv.monitor();
    final Path groupDir = monitor.backend().root().orElseThrow().resolve(group);

    @AfterEach
    void cleanup() {
        TestEnv.destroyTree(groupDir);
    }

    private Worker spawn(String instance, String script) throws Exception {
        return monitor.spawn(WorkerSpec.command("/bin/sh", "-c", script).withMonitoring(group, instance).build());
    }

    private void assertClean(Worker w, ExitReport r) throws Exception {
        System.out.println("report: " + r.summary());
        assertTrue(r.cgroupRemoved(), "cgroup removed");
        assertFalse(Files.exists(w.cgroup().orElseThrow()), "leaf left behind");
        assertFalse(Files.exists(groupDir), "empty group left behind");
        assertTrue(r.cpuUsageUsec().isPresent(), "cpu.stat exists on every cgroup2");
        assertEquals(List.of(), zombies(), "zombie children");
    }

    /** Children of this JVM that are zombies (exited, never reaped). */
    static List<Long> zombies() {
        return ProcessHandle.current().children().map(ProcessHandle::pid)
                .filter(p -> ProcStat.read(p).map(s -> s.state() == 'Z').orElse(false)).toList();
    }

    @Test
    void exitsNormally() throws Exception {
        Worker w = spawn("1", "exit 3");
        ExitReport r = w.onExit().get(10, TimeUnit.SECONDS);
        assertEquals(3, r.status().orElseThrow().code().getAsInt());
        assertFalse(r.killedByStop());
        assertFalse(r.oomKilled());
        assertClean(w, r);
    }

    @Test
    void killedBySignal() throws Exception {
        Worker w = spawn("1", "kill -USR1 $$");
        ExitReport r = w.onExit().get(10, TimeUnit.SECONDS);
        assertEquals(10, r.status().orElseThrow().signal().getAsInt());
        assertClean(w, r);
    }

    @Test
    void ignoresSigtermWithForkedChildrenKilledAfterGrace() throws Exception {
        // SIG_IGN is inherited across fork and exec: the children ignore SIGTERM too.
        Worker w = spawn("1", "trap '' TERM; sleep 1000 & sleep 1000 & echo started; wait");
        waitForProcs(w, 3);
        long t0 = System.nanoTime();
        ExitReport r = w.stop(Duration.ofMillis(300));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms >= 300, "waited the grace period");
        assertTrue(r.killedByStop());
        assertEquals(9, r.status().orElseThrow().signal().getAsInt());
        assertClean(w, r);
    }

    @Test
    void gracefulStopWithinGrace() throws Exception {
        Worker w = spawn("1", "trap 'exit 0' TERM; sleep 1000 & wait");
        waitForProcs(w, 2);
        ExitReport r = w.stop(Duration.ofSeconds(10));
        assertEquals(0, r.status().orElseThrow().code().getAsInt());
        assertFalse(r.killedByStop());
        assertClean(w, r); // the sleep child is gone too: killed with the cgroup once the main process left
    }

    @Test
    void childrenOutlivingTheMainProcessAreKilled() throws Exception {
        Worker w = spawn("1", "sleep 1000 & sleep 1000 & exit 0");
        ExitReport r = w.onExit().get(10, TimeUnit.SECONDS);
        assertEquals(0, r.status().orElseThrow().code().getAsInt());
        assertClean(w, r);
    }

    @Test
    void killAtOnce() throws Exception {
        Worker w = spawn("1", "sleep 1000 & wait");
        waitForProcs(w, 2);
        w.kill();
        ExitReport r = w.onExit().get(10, TimeUnit.SECONDS);
        assertTrue(r.killedByStop());
        assertEquals(9, r.status().orElseThrow().signal().getAsInt());
        assertClean(w, r);
    }

    @Test
    void freezeKillFallbackWhereCgroupKillIsMissing() throws Exception {
        Worker w = spawn("1", "sleep 1000 & sleep 1000 & wait");
        waitForProcs(w, 3);
        dev.rbee.hive.monitor.cgroup.CgroupKillerAccess.freezeKill(w.cgroup().orElseThrow());
        ExitReport r = w.onExit().get(10, TimeUnit.SECONDS);
        assertEquals(9, r.status().orElseThrow().signal().getAsInt());
        assertClean(w, r);
    }

    /** The seed's vocabulary: spawnMonitored(config, binary, args), and where the worker lives. */
    @Test
    void spawnMonitoredAsTheSeedCalledIt() throws Exception {
        Worker w = monitor.spawnMonitored(new dev.rbee.hive.monitor.model.MonitorConfig(group, "8080"), "/bin/sh",
                List.of("-c", "exit 0"));
        assertEquals(monitor.cgroupOf(group, "8080"), w.cgroup().orElseThrow());
        assertEquals(0, w.onExit().get(10, TimeUnit.SECONDS).status().orElseThrow().code().getAsInt());
    }

    @Test
    void plainSpawnHasAReportWithoutCgroupFigures() throws Exception {
        Worker w = monitor.spawn(WorkerSpec.command("/bin/sh", "-c", "exit 4").build());
        ExitReport r = w.onExit().get(10, TimeUnit.SECONDS);
        assertEquals(4, r.status().orElseThrow().code().getAsInt());
        assertTrue(r.cpuUsageUsec().isEmpty());
        assertFalse(r.cgroupRemoved());
    }

    static void waitForProcs(Worker w, int n) throws Exception {
        Path procs = w.cgroup().orElseThrow().resolve("cgroup.procs");
        for (int i = 0; i < 500; i++) {
            if (Files.readAllLines(procs).size() >= n) return;
            Thread.sleep(10);
        }
        throw new AssertionError("worker never had " + n + " processes: " + Files.readString(procs));
    }
}
