package dev.rbee.hive.monitor.life;

import dev.rbee.hive.monitor.model.ExitReport;
import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.internal.Libc;
import dev.rbee.hive.monitor.testing.Supervisor;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A fresh monitor finds, stops and sees the exit of workers it did not spawn. */
class AdoptionTest {
    final String group = TestEnv.uniqueGroup("adopt");
    final Path groupDir = TestEnv.monitor().backend().root().orElseThrow().resolve(group);

    @AfterEach
    void cleanup() {
        TestEnv.destroyTree(groupDir);
    }

    @Test
    void sameJvmSecondMonitorAdoptsStopsAndSeesTheExit() throws Exception {
        ProcessMonitor a = TestEnv.monitor();
        Worker spawned = a.spawn(WorkerSpec.command("/bin/sh", "-c", "sleep 1000 & wait").withMonitoring(group, "1").build());
        LifecycleTest.waitForProcs(spawned, 2);

        ProcessMonitor b = TestEnv.monitor();
        List<Worker> found = b.workers().stream().filter(w -> w.monitoring().orElseThrow().group().equals(group)).toList();
        assertEquals(1, found.size(), found.toString());
        Worker adopted = found.get(0);
        assertTrue(adopted.adopted());
        assertEquals(spawned.pid(), adopted.pid(), "the main process is the oldest in the leaf");

        ExitReport r = adopted.stop(Duration.ofSeconds(5));
        System.out.println("adopted report: " + r.summary());
        assertTrue(r.status().isEmpty(), "not our child: no exit status");
        assertTrue(r.absent().containsKey("exit_code"));
        assertTrue(r.cgroupRemoved());
        // The spawning monitor sees the exit too, with the status it alone can read.
        ExitReport own = spawned.onExit().get(10, TimeUnit.SECONDS);
        assertEquals(15, own.status().orElseThrow().signal().getAsInt());
        assertFalse(Files.exists(groupDir));
    }

    @Test
    void secondJvmSpawnsThisOneAdopts() throws Exception {
        Map<String, Long> pids = startSupervisor("exit", "1", "2").pids;
        ProcessMonitor m = TestEnv.monitor();
        Worker w1 = m.worker(group, "1").orElseThrow();
        assertEquals(pids.get("1"), w1.pid());
        ExitReport r = w1.stop(Duration.ofSeconds(5));
        assertTrue(r.cgroupRemoved());
        // An exit that happens on its own is seen too (pidfd), and cleaned up.
        Worker w2 = m.worker(group, "2").orElseThrow();
        assertEquals(0, Libc.kill((int) w2.pid(), 9));
        ExitReport r2 = w2.onExit().get(10, TimeUnit.SECONDS);
        assertTrue(r2.cgroupRemoved(), r2.summary());
        assertFalse(Files.exists(groupDir));
    }

    /** The supervising JVM is SIGKILLed while its workers run: a new one adopts them and cleans up. */
    @Test
    void supervisorKilledNewOneAdoptsAndCleansUp() throws Exception {
        Started s = startSupervisor("wait", "1", "2", "3");
        Files.createDirectories(groupDir.resolve("stale")); // an empty leftover from an older crash
        s.process.destroyForcibly(); // SIGKILL
        s.process.waitFor();
        ProcessMonitor m = TestEnv.monitor();
        List<Path> removed = m.cleanupStale();
        assertTrue(removed.contains(groupDir.resolve("stale")), "stale leaf removed: " + removed);
        List<Worker> live = m.workers().stream().filter(w -> w.monitoring().orElseThrow().group().equals(group)).toList();
        assertEquals(3, live.size(), "workers survive their supervisor: " + live);
        for (Worker w : live) {
            assertEquals(s.pids.get(w.monitoring().orElseThrow().instance()), w.pid());
            ExitReport r = w.stop(Duration.ofSeconds(5));
            assertTrue(r.cgroupRemoved(), r.summary());
        }
        assertFalse(Files.exists(groupDir));
        assertTrue(m.cleanupStale().stream().noneMatch(p -> p.startsWith(groupDir)));
    }

    /** From a worker's death to its exit event (a figure, not a timing assert). */
    @Test
    void exitEventLatency() throws Exception {
        ProcessMonitor m = TestEnv.monitor();
        List<Long> own = new ArrayList<>(), adopted = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            Worker w = m.spawn(WorkerSpec.command("/bin/sleep", "1000").withMonitoring(group, "lat").build());
            long t0 = System.nanoTime();
            Libc.kill((int) w.pid(), 9);
            w.onExit().get(10, TimeUnit.SECONDS);
            own.add((System.nanoTime() - t0) / 1000);

            Worker s = m.spawn(WorkerSpec.command("/bin/sleep", "1000").withMonitoring(group, "lat2").build());
            Worker a = TestEnv.monitor().worker(group, "lat2").orElseThrow();
            t0 = System.nanoTime();
            Libc.kill((int) a.pid(), 9);
            a.onExit().get(10, TimeUnit.SECONDS);
            adopted.add((System.nanoTime() - t0) / 1000);
            s.onExit().get(10, TimeUnit.SECONDS);
        }
        own.sort(null);
        adopted.sort(null);
        System.out.printf("exit event latency (kill -9 to onExit, incl. cleanup), median of 20: own child %.2f ms, adopted %.2f ms%n",
                own.get(10) / 1000.0, adopted.get(10) / 1000.0);
    }

    record Started(Process process, Map<String, Long> pids) {}

    private Started startSupervisor(String mode, String... instances) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Supervisor.class.getName(), group, mode));
        cmd.addAll(Arrays.asList(instances));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        Map<String, Long> pids = new HashMap<>();
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()));
        for (String line; (line = r.readLine()) != null && !line.equals("ready"); ) {
            String[] f = line.split(" ");
            pids.put(f[1], Long.parseLong(f[2]));
        }
        assertEquals(instances.length, pids.size(), "supervisor did not start its workers");
        if (mode.equals("exit")) p.waitFor();
        return new Started(p, pids);
    }
}
