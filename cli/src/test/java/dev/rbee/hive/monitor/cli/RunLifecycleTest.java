package dev.rbee.hive.monitor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** rbee-mon run's exit report, SIGTERM to rbee-mon run, and rbee-mon stop. */
class RunLifecycleTest {
    final String group = TestEnv.uniqueGroup("clilife");
    final Path groupDir = TestEnv.cgroupMount().resolve("rbee.slice").resolve(group);

    @AfterEach
    void cleanup() {
        TestEnv.destroyTree(groupDir);
    }

    @Test
    void exitReportAsJson() throws Exception {
        Cli.Result r = Cli.run("run", "--group", group, "--instance", "1", "--json", "--", "/bin/sh", "-c", "exit 5");
        assertEquals(5, r.exit());
        JsonNode report = new ObjectMapper().readTree(r.err().lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b).orElseThrow());
        assertEquals(5, report.get("exit_code").asInt());
        assertEquals(group, report.get("group").asText());
        assertFalse(report.get("oom_killed").asBoolean());
        assertTrue(report.get("cgroup_removed").asBoolean());
        assertTrue(report.has("cpu_usage_usec"));
        assertTrue(report.get("absent").has("memory_peak_bytes") || report.has("memory_peak_bytes"));
        assertFalse(Files.exists(groupDir));
    }

    @Test
    void sigtermToRunStopsTheWorkerGracefullyAndStillReports() throws Exception {
        Process p = Cli.start("run", "--group", group, "--instance", "1", "--quiet", "--json", "--grace", "5s", "--",
                "/bin/sh", "-c", "trap 'echo got-term; exit 0' TERM; echo started; while :; do sleep 0.05; done");
        String first = new String(p.getInputStream().readNBytes(8), StandardCharsets.UTF_8);
        assertEquals("started\n", first);
        p.toHandle().destroy(); // SIGTERM to rbee-mon run (Process.destroy would close our ends of its pipes)
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(out.contains("got-term"), "the worker got SIGTERM: " + out);
        assertEquals(0, p.exitValue(), err);
        JsonNode report = new ObjectMapper().readTree(err.lines().filter(l -> l.startsWith("{")).findFirst().orElseThrow());
        assertEquals(0, report.get("exit_code").asInt());
        assertFalse(report.get("killed_by_stop").asBoolean());
        assertTrue(report.get("cgroup_removed").asBoolean());
        assertFalse(Files.exists(groupDir), "cgroup removed");
    }

    @Test
    void stopFromAnotherProcess() throws Exception {
        ProcessMonitor m = TestEnv.monitor();
        Worker w = m.spawn(WorkerSpec.command("/bin/sh", "-c", "trap '' TERM; sleep 1000 & wait").withMonitoring(group, "7").build());
        Cli.Result r = Cli.run("stop", group + "/7", "--grace", "200ms", "--json");
        assertEquals(0, r.exit(), r.err());
        JsonNode report = new ObjectMapper().readTree(r.out());
        assertTrue(report.get("killed_by_stop").asBoolean(), r.out());
        assertTrue(report.get("cgroup_removed").asBoolean(), r.out());
        assertEquals(9, w.onExit().get(10, TimeUnit.SECONDS).status().orElseThrow().signal().getAsInt());
        Cli.Result none = Cli.run("stop", group + "/7");
        assertEquals(1, none.exit());
        assertTrue(none.err().contains("no live worker " + group + "/7"), none.err());
        assertEquals(2, Cli.run("stop", "../x/7").exit());
    }
}
