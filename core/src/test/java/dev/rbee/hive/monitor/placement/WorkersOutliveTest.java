package dev.rbee.hive.monitor.placement;

import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * workersOutliveService: by default a worker outlives its supervisor killed with
 * SIGKILL (and the next monitor adopts and stops it); with false it ends with it.
 */
class WorkersOutliveTest {
    final String group = TestEnv.uniqueGroup("outlive");

    @AfterEach
    void cleanup() {
        TestEnv.destroyTree(TestEnv.cgroupMount().resolve("rbee.slice").resolve(group));
    }

    @Test
    void byDefaultTheWorkerOutlivesAKilledSupervisorAndIsAdopted() throws Exception {
        ProcessHandle w = spawnInChildAndKillIt("true");
        Thread.sleep(300);
        assertTrue(w.isAlive(), "the worker outlived its supervisor");
        try (ProcessMonitor m = ProcessMonitor.builder().launcher(TestEnv.launcher()).build()) {
            Optional<Worker> adopted = m.worker(group, "i");
            assertTrue(adopted.isPresent(), "the next monitor adopts it");
            var report = adopted.get().stop(Duration.ofSeconds(5));
            // (not w.isAlive(): no longer our child, it may stay a zombie until this host's init reaps it)
            assertTrue(report.cgroupRemoved(), report.summary());
            assertFalse(java.nio.file.Files.exists(m.cgroupOf(group, "i")), "stopped and its leaf removed");
        }
    }

    @Test
    void withFalseTheWorkerEndsWithItsSupervisor() throws Exception {
        ProcessHandle w = spawnInChildAndKillIt("false");
        // Ended: gone, or a zombie waiting for this host's init to reap it (no longer our child).
        for (int i = 0; i < 100 && running(w.pid()); i++) Thread.sleep(50);
        assertFalse(running(w.pid()), "the worker ended with its supervisor");
    }

    static boolean running(long pid) throws Exception {
        Path stat = Path.of("/proc", Long.toString(pid), "stat");
        if (!java.nio.file.Files.exists(stat)) return false;
        String st = java.nio.file.Files.readString(stat);
        return st.charAt(st.lastIndexOf(')') + 2) != 'Z';
    }

    /** A supervisor JVM spawns group/i (sleep 60), prints its pid, and is killed with SIGKILL; returns the worker. */
    private ProcessHandle spawnInChildAndKillIt(String outlive) throws Exception {
        Process sup = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1", "-cp", TestEnv.classPath(), Main.class.getName(),
                TestEnv.launcher().toString(), group, outlive)).redirectErrorStream(true).start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(sup.getInputStream()))) {
            String line;
            while ((line = r.readLine()) != null && !line.startsWith("pid ")) System.out.println("supervisor: " + line);
            assertNotNull(line, "the supervisor printed its worker's pid");
            ProcessHandle w = ProcessHandle.of(Long.parseLong(line.substring(4))).orElseThrow();
            sup.destroyForcibly(); // SIGKILL
            sup.waitFor(10, TimeUnit.SECONDS);
            return w;
        }
    }

    /** The supervisor: Main LAUNCHER GROUP OUTLIVE. */
    public static final class Main {
        public static void main(String[] a) throws Exception {
            ProcessMonitor m = ProcessMonitor.builder().launcher(Path.of(a[0])).workersOutliveService(Boolean.parseBoolean(a[2])).build();
            Worker w = m.spawn(WorkerSpec.command("/bin/sleep", "60").withMonitoring(a[1], "i").build());
            System.out.println("pid " + w.pid());
            Thread.sleep(60_000);
        }
    }
}
