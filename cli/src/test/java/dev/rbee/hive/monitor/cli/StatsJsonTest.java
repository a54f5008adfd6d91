package dev.rbee.hive.monitor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The JSON of `stats --json` and `run --stats-json` carries the queen's wire names, and no invented zeros. */
class StatsJsonTest {
    static final ObjectMapper JSON = new ObjectMapper();
    /** HiveTelemetry and WorkerTelemetry names (DESIGN.md §1); some are absent where the kernel gives no value. */
    static final Set<String> HIVE = Set.of("hive_id", "ts", "node", "workers");
    static final Set<String> NODE = Set.of("cpu_pct", "ram_used_mb", "ram_total_mb", "gpus");
    static final Set<String> WORKER_ALWAYS = Set.of("worker_id", "group", "instance", "cgroup", "pids", "port",
            "cpu_pct", "uptime_s", "state");
    static final Set<String> WORKER_ALL = Set.of("worker_id", "group", "instance", "cgroup", "pids", "port", "model",
            "gpu", "cpu_pct", "rss_mb", "vram_mb", "io_r_mb_s", "io_w_mb_s", "uptime_s", "state");

    final String group = TestEnv.uniqueGroup("json");
    final ProcessMonitor monitor = TestEnv.monitor();

    @AfterEach
    void cleanup() {
        TestEnv.destroyTree(monitor.backend().root().orElseThrow().resolve(group));
    }

    @Test
    void statsJson() throws Exception {
        Worker w = monitor.spawn(WorkerSpec.command("/bin/sh", "-c", "sleep 1000", "w", "--model", "m1")
                .withMonitoring(group, "8080").build());
        try {
            Cli.Result r = Cli.run("stats", "--group", group, "--json", "--interval", "500ms");
            assertEquals(0, r.exit(), r.err());
            JsonNode hive = JSON.readTree(r.out());
            for (String k : HIVE) assertTrue(hive.has(k), "HiveTelemetry." + k + " in " + r.out());
            for (String k : NODE) assertTrue(hive.get("node").has(k) || hive.get("node").get("absent").has(k), "node." + k);
            assertEquals(1, hive.get("workers").size());
            JsonNode wt = hive.get("workers").get(0);
            for (String k : WORKER_ALWAYS) assertTrue(wt.has(k), "WorkerTelemetry." + k + " in " + wt);
            assertEquals(group, wt.get("group").asText());
            assertEquals(group, wt.get("service").asText(), "the heartbeat keeps the queen's name for the group too");
            assertEquals(8080, wt.get("port").asInt());
            assertEquals("m1", wt.get("model").asText());
            assertEquals(w.pid(), wt.get("pids").get(0).asLong());
            assertWireRules(wt);
        } finally {
            w.kill();
            w.onExit().join();
        }
    }

    /** GPU fields: absent with the reason here (no NVML), present with the stand-in libnvidia-ml. */
    @Test
    void gpuFieldsAbsentHerePresentWithTheStandIn(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        Worker w = monitor.spawn(WorkerSpec.command("/bin/sleep", "1000").withMonitoring(group, "8080").build());
        try {
            Cli.Result none = Cli.run(java.util.Map.of("RBEE_NVML_LIBRARY", dir.resolve("no-such-libnvidia-ml.so.1").toString()),
                    "stats", "--group", group, "--json", "--interval", "300ms");
            JsonNode wt = JSON.readTree(none.out()).get("workers").get(0);
            assertFalse(wt.has("vram_mb"), none.out());
            assertTrue(wt.get("absent").get("vram_mb").asText().startsWith("NVML not found"), none.out());
            JsonNode node = JSON.readTree(none.out()).get("node");
            assertFalse(node.has("gpus"), "unknown, not an empty list: " + node);
            assertTrue(node.get("absent").get("gpus").asText().startsWith("NVML not found"), node.toString());

            java.nio.file.Path script = dir.resolve("nvml.script");
            java.nio.file.Files.writeString(script, String.join("\n",
                    "device GPU-0b5e0e3c 25769803776 3221225472 57 20 61 NVIDIA Stand-in 24G",
                    "device GPU-77aa0001 25769803776 0 0 0 40 NVIDIA Stand-in 24G",
                    "process 0 " + w.pid() + " 1610612736",
                    "process 1 " + w.pid() + " 536870912",
                    "process 0 1 1048576") + "\n");
            Cli.Result with = Cli.run(java.util.Map.of("RBEE_NVML_LIBRARY", System.getProperty("rbee.fakenvml"),
                    "RBEE_FAKE_NVML", script.toString()), "stats", "--group", group, "--json", "--interval", "300ms");
            assertEquals(0, with.exit(), with.err());
            JsonNode hive = JSON.readTree(with.out());
            assertEquals(1, hive.get("workers").size(), "stdout: " + with.out() + "\nstderr: " + with.err());
            JsonNode gw = hive.get("workers").get(0);
            assertEquals(2048.0, gw.get("vram_mb").asDouble(), 1e-9, with.out()); // 1.5 GiB + 0.5 GiB over two devices
            assertEquals(2, gw.get("gpu").size());
            assertEquals(49152.0, gw.get("total_vram_mb").asDouble(), 1e-9);
            JsonNode g0 = hive.get("node").get("gpus").get(0);
            assertEquals(0, g0.get("id").asInt());
            assertEquals(57, g0.get("util_pct").asInt());
            assertEquals(3072.0, g0.get("vram_used_mb").asDouble(), 1e-9);
            assertEquals(24576.0, g0.get("vram_total_mb").asDouble(), 1e-9);
            assertEquals(61, g0.get("temp_c").asInt());
        } finally {
            w.kill();
            w.onExit().join();
        }
    }

    @Test
    void runStatsJsonLines() throws Exception {
        Cli.Result r = Cli.run("run", "--group", group, "--instance", "1", "--stats-json", "--interval", "300ms", "--",
                "/bin/sh", "-c", "timeout 3.5 sh -c 'while :; do :; done'; exit 0");
        assertEquals(0, r.exit(), r.err());
        List<String> lines = r.err().lines().filter(l -> l.startsWith("{")).toList();
        assertTrue(lines.size() >= 2, "one JSON object per interval on stderr: " + r.err());
        for (String line : lines) {
            JsonNode wt = JSON.readTree(line);
            for (String k : WORKER_ALWAYS) if (!k.equals("port")) assertTrue(wt.has(k), k + " in " + line);
            assertTrue(wt.get("cpu_pct").asDouble() > 20, "a busy worker: " + line);
            assertWireRules(wt);
        }
    }

    /** The process-tree backend, asked for: the CPU % of a busy child (not the main process) is reported. */
    @Test
    void procTreeBackendReportsABusyChild() throws Exception {
        Cli.Result r = Cli.run("run", "--backend", "proctree", "--group", group, "--instance", "2", "--stats-json",
                "--interval", "300ms", "--", "/bin/sh", "-c", "sh -c 'timeout 3.5 sh -c \"while :; do :; done\"'; exit 0");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().contains("rbee-mon: backend proctree (asked for"), r.err());
        List<JsonNode> lines = new java.util.ArrayList<>();
        for (String l : r.err().lines().filter(l -> l.startsWith("{")).toList()) lines.add(JSON.readTree(l));
        assertTrue(lines.size() >= 2, r.err());
        double best = lines.stream().mapToDouble(n -> n.get("cpu_pct").asDouble()).max().orElseThrow();
        assertTrue(best > 50, "a busy grandchild shows in the worker's cpu_pct: " + r.err());
        assertTrue(lines.get(0).get("pids").size() >= 3, "the whole tree: " + lines.get(0));
        assertFalse(lines.get(0).has("cgroup"), "no cgroup on this backend");
        assertTrue(lines.get(0).has("rss_mb"), "anonymous memory summed from /proc/PID/statm");
        assertFalse(Files.exists(TestEnv.cgroupMount().resolve("rbee.slice").resolve(group)), "no cgroup made");
    }

    /** Absent means absent: a field the host cannot give is missing from the object and explained under "absent". */
    static void assertWireRules(JsonNode wt) {
        JsonNode absent = wt.get("absent");
        for (String k : WORKER_ALL) {
            if (wt.has(k)) {
                assertFalse(wt.get(k).isNull(), k + " is null");
                assertFalse(absent != null && absent.has(k), k + " both present and absent");
            }
        }
        if (!wt.has("rss_mb")) assertTrue(absent.has("rss_mb"), "rss_mb absent without a reason");
        if (!wt.has("vram_mb")) assertTrue(absent.has("vram_mb"), "vram_mb absent without a reason");
        assertTrue(wt.get("cpu_pct").isNumber());
    }
}
