package dev.rbee.hive.monitor.contract;

import dev.rbee.hive.monitor.model.Backend;
import dev.rbee.hive.monitor.model.ExitReport;
import dev.rbee.hive.monitor.model.Limits;
import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.model.ProcessStats;
import dev.rbee.hive.monitor.model.SpawnException;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The portable backend's ProcessHandle path, forced on Linux (the JNA memory
 * readers for Windows and macOS are compiled but run only there).
 */
class PortableBackendTest {
    final String group = "t-portable-" + ProcessHandle.current().pid();

    @Test
    void spawnStatsAndStopThroughProcessHandle() throws Exception {
        try (ProcessMonitor m = ProcessMonitor.builder().backend(Backend.Kind.PORTABLE).build()) {
            assertEquals(Backend.Kind.PORTABLE, m.backend().kind());
            Worker w = m.spawn(WorkerSpec.command("/bin/sh", "-c", "trap '' TERM; while :; do :; done").withMonitoring(group, "1").build());
            assertTrue(m.collectInstance(group, "1").orElseThrow().cpuPct().isEmpty(), "first sample: no rate");
            Thread.sleep(2000);
            ProcessStats s = m.collectInstance(group, "1").orElseThrow();
            System.out.println("portable: cpu_pct " + s.cpuPct() + ", absent " + s.absent());
            assertTrue(s.cpuPct().orElseThrow() > 30, "a busy loop uses CPU: " + s.cpuPct());
            assertTrue(s.rssMb().isEmpty());
            assertTrue(s.absent().get("rss_mb").startsWith("portable backend: resident memory is read only on Windows and macOS"));
            assertTrue(s.cgroup().isEmpty());
            ExitReport r = w.stop(Duration.ofMillis(300)); // ignores SIGTERM: killed after the grace
            assertTrue(r.killedByStop());
            assertEquals(9, r.status().orElseThrow().signal().getAsInt());
            assertTrue(m.enumerateAll().isEmpty());
        }
    }

    @Test
    void refusesWhatItCannotDo() throws Exception {
        try (ProcessMonitor m = ProcessMonitor.builder().backend(Backend.Kind.PORTABLE).build()) {
            SpawnException e = assertThrows(SpawnException.class, () -> m.spawn(WorkerSpec.command("/bin/true")
                    .withMonitoring(group, "2").limits(Limits.builder().pidsMax(4).build()).build()));
            assertTrue(e.getMessage().contains("no cgroup: limits unavailable"), e.getMessage());
            e = assertThrows(SpawnException.class, () -> m.spawn(WorkerSpec.command("/bin/true")
                    .withMonitoring(group, "2").newSession(true).build()));
            assertTrue(e.getMessage().contains("newSession"), e.getMessage());
            // Allowed explicitly: runs, unlimited.
            Worker w = m.spawn(WorkerSpec.command("/bin/sh", "-c", "exit 6").withMonitoring(group, "2")
                    .limits(Limits.builder().pidsMax(4).build()).allowUnenforcedLimits(true).build());
            assertEquals(6, w.onExit().get(10, TimeUnit.SECONDS).status().orElseThrow().code().getAsInt());
        }
    }
}
