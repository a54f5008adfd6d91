package dev.rbee.hive.monitor.vm.systemd;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

import static dev.rbee.hive.monitor.vm.systemd.SdEnv.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 14, done-when 1: the monitor as root under systemd.  A supervisor runs
 * as a service (systemd-run ... rbee-mon run), its workers live in the
 * delegated scope rbee-hive.scope in rbee-hive.slice (cgroup
 * /rbee.slice/rbee-hive.slice/rbee-hive.scope), what happens to them when
 * the service is restarted or killed follows the documented policy, systemd's
 * own reloads take nothing from them.  The journal output is checked by
 * JournalOutputVmTest (API) and PackagedServiceVmTest (CLI).
 * Each test uses group names of its own and removes its units and leaves.
 */
@Tag("systemd")
class SystemdPlacementVmTest {
    // A CLI start under TCG on a loaded 2-core host took up to a minute.
    static final Duration SPAWN = Duration.ofSeconds(200);

    @BeforeAll
    static void guest() {
        requireGuest();
    }

    @Test
    void workersLandInTheDelegatedScopeSystemdShowsThemAndReloadsTakeNothingFromThem() {
        Map<String, String> b = keyValues(rbeeMon("backend").ok().out());
        assertEquals("systemd", b.get("placement"), b.toString());
        assertEquals(SCOPE, b.get("unit"), b.toString());
        assertEquals(SLICE, b.get("slice"), b.toString());
        assertEquals(HIVE.toString(), b.get("root"), b.toString());

        String unit = "hive-a", g = "sda";
        try {
            startSupervisor(unit, List.of(), g, "i", List.of("--pids-max", "50", "--memory-max", "64M", "--cpu", "50%"),
                    "sleep", "600");
            Path leaf = awaitWorkerOf(unit, g, "i", SPAWN);
            long pid = onlyPid(leaf);
            Optional<String> born = startTime(pid);
            assertEquals(HIVE.resolve(g).resolve("i"), leaf);
            assertEquals("0::/rbee.slice/" + SLICE + "/" + SCOPE + "/" + g + "/i", procCgroup(pid));
            assertEquals("yes", sh("systemctl", "show", "-P", "Delegate", SCOPE).out().strip());
            assertEquals(SLICE, sh("systemctl", "show", "-P", "Slice", SCOPE).out().strip());
            Pattern worker = Pattern.compile("\\b" + pid + " sleep 600\\b");
            String status = sh("systemctl", "status", "--no-pager", "--lines=0", SCOPE).out();
            assertTrue(worker.matcher(status).find(), "systemctl status " + SCOPE + " shows the worker:\n" + status);
            String cgls = sh("systemd-cgls", "--no-pager", "-u", SCOPE).ok().out();
            assertTrue(worker.matcher(cgls).find(), "systemd-cgls -u " + SCOPE + " shows the worker:\n" + cgls);
            String service = sh("systemctl", "status", "--no-pager", "--lines=0", unit + ".service").out();
            assertFalse(worker.matcher(service).find(), "the worker is not in the supervisor's service:\n" + service);

            // systemd re-applies what it owns at a reload and when units start, in our slice too.
            Map<String, String> before = workerView(leaf);
            assertEquals("50", before.get("pids.max"), before.toString());
            assertEquals(Long.toString(64L << 20), before.get("memory.max"), before.toString());
            assertTrue(before.get("cgroup.controllers").contains("cpu"), before.toString());
            sh("systemctl", "daemon-reload").ok();
            sh("systemd-run", "--unit=sda-other", "--quiet", "--collect", "--wait", "sleep", "1").ok();
            sh("systemd-run", "--unit=sda-in-slice", "--slice=" + SLICE, "--quiet", "--collect", "--wait", "true").ok();
            sh("systemctl", "daemon-reload").ok();
            assertEquals(before, workerView(leaf), "after daemon-reload and other units");
            assertEquals(born, startTime(pid));

            rbeeMon("stop", g + "/i").ok();
            await(Duration.ofSeconds(30), "the worker is gone", () -> startTime(pid).isEmpty());
            await(Duration.ofSeconds(30), "the supervisor ended with its worker", () -> !unitState(unit).equals("active"));
            assertFalse(Files.exists(leaf), "stop removed the leaf");
        } finally {
            stopUnit(unit);
            destroy(HIVE.resolve(g));
        }
    }

    @Test
    void restartedOrKilledSupervisorLeavesItsWorkerRunningAndTheNextOneAdoptsAndStopsIt() {
        String unit = "hive-b", g = "sdb";
        try {
            startSupervisor(unit, List.of(), g, "i", List.of(), "sleep", "600");
            Path leaf = awaitWorkerOf(unit, g, "i", SPAWN);
            long pid = onlyPid(leaf);
            Optional<String> born = startTime(pid);

            sh("systemctl", "restart", unit).ok();
            assertEquals(born, startTime(pid), "the worker outlived the restart of its supervisor's service");
            assertEquals(List.of(pid), procs(leaf));

            sh("systemctl", "kill", "-s", "SIGKILL", unit).ok();
            await(Duration.ofSeconds(30), unit + " is no longer active", () -> !unitState(unit).equals("active"));
            assertEquals(born, startTime(pid), "the worker outlived its supervisor (workers-outlive-service defaults to true)");
            assertEquals(List.of(pid), procs(leaf));

            String stats = rbeeMon("stats", "--group", g, "--json").ok().out();
            assertTrue(stats.contains(Long.toString(pid)), "rbee-mon stats finds the survivor:\n" + stats);
            rbeeMon("stop", g + "/i").ok();
            await(Duration.ofSeconds(30), "the survivor is gone", () -> startTime(pid).isEmpty());
            assertFalse(Files.exists(leaf), "stop removed the leaf");
        } finally {
            stopUnit(unit);
            destroy(HIVE.resolve(g));
        }
    }

    @Test
    void withoutOutlivingTheWorkerEndsWithItsService() {
        // docs/systemd.md: with false, each worker gets SIGKILL as its parent-death signal (the shared scope
        // is not bound to one service, which would stop every other supervisor's workers).
        String unit = "hive-x", g = "sdx";
        try {
            startSupervisor(unit, List.of("--workers-outlive-service", "false"), g, "i", List.of(), "sleep", "600");
            Path leaf = awaitWorkerOf(unit, g, "i", SPAWN);
            long pid = onlyPid(leaf);
            assertEquals(HIVE.resolve(g).resolve("i"), leaf);

            sh("systemctl", "kill", "-s", "SIGKILL", unit).ok();
            await(Duration.ofSeconds(30), "the worker ended with its supervisor's service", () -> startTime(pid).isEmpty());
            rbeeMon("cleanup").ok();
            await(Duration.ofSeconds(30), "no leaf " + g + "/i is left", () -> !Files.exists(leaf));
        } finally {
            stopUnit(unit);
            destroy(HIVE.resolve(g));
        }
    }

    /** The worker leaf's controllers and limits, and the controllers its parents pass down. */
    private static Map<String, String> workerView(Path leaf) {
        Map<String, String> m = new java.util.TreeMap<>();
        for (String f : List.of("cgroup.controllers", "pids.max", "memory.max", "cpu.max"))
            m.put(f, read(leaf.resolve(f)));
        for (Path d = leaf.getParent(); d.startsWith(HIVE); d = d.getParent())
            m.put(rel(d) + "/cgroup.subtree_control", read(d.resolve("cgroup.subtree_control")));
        return m;
    }
}
