package dev.rbee.hive.monitor.vm.systemd;

import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.Limits;
import dev.rbee.hive.monitor.model.Placement;
import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.systemd.SdBus;
import dev.rbee.hive.monitor.systemd.ScopeBench;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The SYSTEMD placement against systemd 252 as PID 1 (make vm-test-systemd):
 * the hive's scope asked for over sd-bus with Delegate=yes, its holder parked in
 * {@code .holder}, workers in leaves below it with limits, the scope made again
 * after systemd reloaded, re-executed and stopped it; and the spawn cost of
 * the hive scope against one transient scope per worker (printed, not asserted).
 */
@Tag("systemd")
class HiveScopeVmTest {
    static final String UNIT = "rbee-vmtest.scope";
    static final String SLICE = "rbee-hive.slice";
    static final Path DIR = Path.of("/sys/fs/cgroup/rbee.slice/rbee-hive.slice", UNIT);

    @BeforeAll
    static void guest() {
        if (!"1".equals(System.getenv("VM_GUEST")) || !Files.isDirectory(Path.of("/run/systemd/system")))
            fail("tests tagged \"systemd\" run only in the systemd guest: make vm-test-systemd");
    }

    @AfterAll
    static void stopScope() throws Exception {
        sh("systemctl", "stop", UNIT);
    }

    ProcessMonitor monitor() throws Exception {
        return ProcessMonitor.builder().unit(UNIT).slice(SLICE).launcher(TestEnv.launcher()).build();
    }

    @Test
    void theHiveScopeIsDelegatedAndHoldsTheWorkers() throws Exception {
        sh("systemctl", "stop", UNIT);
        for (int i = 0; i < 100 && Files.exists(DIR); i++) Thread.sleep(50);
        try (ProcessMonitor m = monitor()) {
            Placement p = m.backend().placement().orElseThrow();
            System.out.println(String.join("\n", p.describe()));
            assertEquals(Placement.Kind.SYSTEMD, p.kind(), m.backend().toString());
            assertEquals(DIR, p.root());
            assertFalse(Files.exists(DIR), "building a monitor asks for no scope: only a spawn does");
            assertTrue(p.notes().get(0).contains("the first spawn asks systemd for it"), p.notes().toString());
            Worker w = m.spawn(WorkerSpec.command("/bin/sleep", "60").withMonitoring("g", "i")
                    .limits(Limits.builder().pidsMax(10).build()).build());
            assertEquals("ControlGroup=/rbee.slice/rbee-hive.slice/" + UNIT, sh("systemctl", "show", "-p", "ControlGroup", UNIT));
            assertEquals("Delegate=yes", sh("systemctl", "show", "-p", "Delegate", UNIT));
            assertEquals("", Files.readString(DIR.resolve("cgroup.procs")).strip(), "the scope's root holds no process");
            assertEquals(1, Files.readAllLines(DIR.resolve(".holder/cgroup.procs")).size(), "the holder is in its leaf");
            assertEquals("0::/rbee.slice/rbee-hive.slice/" + UNIT + "/g/i",
                    Files.readAllLines(Path.of("/proc/" + w.pid() + "/cgroup")).get(0));
            assertEquals("10", Files.readString(DIR.resolve("g/i/pids.max")).strip());
            String status = sh("systemctl", "status", "--no-pager", UNIT);
            assertTrue(status.contains("sleep 60"), "systemctl status lists the worker:\n" + status);
            assertEquals(List.of("g/i"), m.enumerateAll().stream().map(c -> c.id()).toList(), "the holder's leaf is no worker");
            w.stop(Duration.ofSeconds(5));
            assertFalse(Files.exists(DIR.resolve("g")), "the group went with its last worker");
        }
        try (ProcessMonitor again = monitor()) {
            assertTrue(again.backend().placement().orElseThrow().notes().get(0).startsWith("adopted the existing scope"),
                    again.backend().placement().orElseThrow().notes().toString());
        }
    }

    @Test
    void theScopeIsMadeAgainAfterReloadReexecAndStop() throws Exception {
        try (ProcessMonitor m = monitor()) {
            for (String op : List.of("daemon-reload", "daemon-reexec")) {
                sh("systemctl", op);
                sh("systemctl", "stop", UNIT); // kills the holder: the scope and its directory go
                for (int i = 0; i < 100 && Files.exists(DIR); i++) Thread.sleep(50);
                assertFalse(Files.exists(DIR), "systemctl stop removed the scope");
                Worker w = m.spawn(WorkerSpec.command("/bin/sleep", "60").withMonitoring("g", op).build());
                assertEquals("0::/rbee.slice/rbee-hive.slice/" + UNIT + "/g/" + op,
                        Files.readAllLines(Path.of("/proc/" + w.pid() + "/cgroup")).get(0), "after " + op);
                assertEquals("ActiveState=active", sh("systemctl", "show", "-p", "ActiveState", UNIT), "after " + op);
                w.stop(Duration.ofSeconds(5));
            }
        }
    }

    /** Spawn cost: a worker in the hive scope (no D-Bus) vs StartTransientUnit+job wait per worker, vs ProcessBuilder. */
    @Test
    @Tag("systemd-figures") // opt-in: make vm-test-systemd VM_TAG=systemd-figures
    void spawnCostFigures() throws Exception {
        int n = 15;
        long[] pb = new long[n], hive = new long[n], perWorker = new long[n];
        try (ProcessMonitor m = monitor(); SdBus bus = SdBus.connect()) {
            // Warm-up: the first spawn may ask for the scope, and starts the spawner.
            m.spawn(WorkerSpec.command("/bin/true").withMonitoring("bench", "warm").build()).onExit().get(60, TimeUnit.SECONDS);
            for (int i = 0; i < n; i++) {
                long t0 = System.nanoTime();
                Process p = new ProcessBuilder("/bin/true").start();
                p.waitFor();
                pb[i] = System.nanoTime() - t0;
                t0 = System.nanoTime();
                Worker w = m.spawn(WorkerSpec.command("/bin/sleep", "30").withMonitoring("bench", "w" + i).build());
                hive[i] = System.nanoTime() - t0;
                w.stop(Duration.ofSeconds(5));
                // One scope per worker: what systemd-run --scope does before its exec (the process already exists).
                Process s = new ProcessBuilder("/bin/sleep", "30").start();
                t0 = System.nanoTime();
                ScopeBench.startScope(bus, "rbee-bench-" + i + ".scope", SLICE, s.pid());
                perWorker[i] = System.nanoTime() - t0;
                s.destroyForcibly();
                s.waitFor(5, TimeUnit.SECONDS);
            }
        }
        double floor = median(pb);
        System.out.printf("spawn cost (median of %d, ms): ProcessBuilder /bin/true %.2f; hive scope spawn %.2f (%.1fx); "
                        + "per-worker StartTransientUnit+JobRemoved alone %.2f (%.1fx; a spawn would add it to the hive figure)%n",
                n, floor, median(hive), median(hive) / floor, median(perWorker), median(perWorker) / floor);
    }

    static double median(long[] ns) {
        long[] c = ns.clone();
        Arrays.sort(c);
        return c[c.length / 2] / 1e6;
    }

    static String sh(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!p.waitFor(60, TimeUnit.SECONDS)) fail(String.join(" ", cmd) + " did not end");
        return out;
    }
}
