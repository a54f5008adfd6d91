package dev.rbee.examples.minihive;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.rbee.hive.monitor.model.Backend;
import dev.rbee.hive.monitor.ProcessMonitor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * mini-hive as its user runs it: a JVM of its own, heartbeats to a receiver
 * here on 127.0.0.1, a worker killed and restarted, a worker that fails every
 * start given up, then SIGTERM: exit 0, no worker process and no cgroup left.
 */
class MiniHiveTest {
    /** Waits for what the hive should do soon; only a guard against hanging, never a measure. */
    private static final long PATIENCE_S = 60;
    private final ObjectMapper json = new ObjectMapper();
    private final String group = "t-minihive-" + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffffL);
    private final BlockingQueue<JsonNode> heartbeats = new LinkedBlockingQueue<>();
    /** mini-hive's output lines. */
    private final List<String> events = new CopyOnWriteArrayList<>();
    /** Every worker process the heartbeats named, to check that none is left. */
    private final Map<Long, ProcessHandle> workerProcesses = new ConcurrentHashMap<>();
    private HttpServer receiver;
    private Process hive;
    private Thread hiveOutput;
    private ProcessMonitor observer;

    @BeforeEach
    void receiveHeartbeats() throws Exception {
        receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        receiver.createContext("/heartbeat", x -> {
            heartbeats.add(json.readTree(x.getRequestBody()));
            x.sendResponseHeaders(204, -1);
            x.close();
        });
        receiver.start();
        observer = ProcessMonitor.create(); // only looks: where the cgroups are, which workers exist
    }

    @AfterEach
    void leaveNothingBehind() throws Exception {
        if (hive != null && hive.isAlive()) hive.destroyForcibly().waitFor();
        for (ProcessHandle p : workerProcesses.values()) p.destroyForcibly();
        for (String i : List.of("a", "b", "c")) observer.stop(group, i, Duration.ZERO);
        observer.cleanupStale();
        observer.close();
        receiver.stop(0);
    }

    @Test
    void runsRestartsGivesUpAndStopsCleanlyOnSigterm() throws Exception {
        hive = startHive("--max-restarts", "2", "--first-backoff", "100ms", "--max-backoff", "2s",
                "a=exec sleep 600", "b=exec sleep 600", "c=sleep 1; exit 3");

        // Heartbeats carry the three workers.
        JsonNode hb = awaitHeartbeat(h -> worker(h, "a").isPresent() && worker(h, "b").isPresent() && worker(h, "c").isPresent());
        assertEquals("mini-hive-test", hb.get("hive_id").asText());
        assertTrue(hb.has("node") && hb.has("ts"), hb.toString());

        // b killed from outside: restarted after the first backoff, as a new process.
        long oldB = worker(hb, "b").orElseThrow().get("pid").asLong();
        ProcessHandle.of(oldB).orElseThrow().destroyForcibly();
        awaitEvent(l -> l.startsWith("mini-hive: " + group + "/b ended") && l.endsWith("restart 1 of 2 in 100 ms"));
        hb = awaitHeartbeat(h -> worker(h, "b").filter(w -> w.get("pid").asLong() != oldB).isPresent()
                && h.at("/supervisor/b/state").asText().equals("running"));
        assertEquals(1, hb.at("/supervisor/b/restarts").asInt(), hb.at("/supervisor").toString());

        // c fails every start: restarted with doubling backoff, then given up after 2 restarts.
        awaitEvent(l -> l.startsWith("mini-hive: " + group + "/c ended") && l.endsWith("restart 1 of 2 in 100 ms"));
        awaitEvent(l -> l.startsWith("mini-hive: " + group + "/c ended") && l.endsWith("restart 2 of 2 in 200 ms"));
        awaitEvent(l -> l.startsWith("mini-hive: " + group + "/c ended") && l.endsWith("gave up after 2 restarts"));
        hb = awaitHeartbeat(h -> h.at("/supervisor/c/state").asText().equals("given-up"));
        assertTrue(worker(hb, "c").isEmpty(), "a worker given up runs no more: " + hb);
        assertEquals("running", hb.at("/supervisor/a/state").asText(), "a was left alone: " + hb.at("/supervisor"));
        assertEquals(0, hb.at("/supervisor/a/restarts").asInt());

        // SIGTERM: every worker stopped, the monitor closed, exit 0.
        hive.toHandle().destroy(); // SIGTERM (Process.destroy would also close our end of its output)
        assertTrue(hive.waitFor(PATIENCE_S, TimeUnit.SECONDS), "mini-hive did not exit after SIGTERM");
        assertEquals(0, hive.exitValue());
        hiveOutput.join(TimeUnit.SECONDS.toMillis(PATIENCE_S)); // its last lines
        assertTrue(events.contains("mini-hive: stopped"), String.join("\n", events));
        for (ProcessHandle p : workerProcesses.values())
            assertFalse(p.isAlive(), "worker process " + p.pid() + " outlived the hive");
        assertTrue(observer.enumerateAll().stream().noneMatch(c -> c.group().equals(group)), "a worker of " + group + " is still known");
        if (observer.backend().kind() == Backend.Kind.CGROUP2) {
            for (String i : List.of("a", "b", "c"))
                assertFalse(Files.exists(observer.cgroupOf(group, i)), observer.cgroupOf(group, i) + " is left");
            assertFalse(Files.exists(observer.cgroupOf(group, "a").getParent()), "the group's cgroup is left");
        }
    }

    private Process startHive(String... rest) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), MiniHive.class.getName(),
                "--heartbeat-url", "http://127.0.0.1:" + receiver.getAddress().getPort() + "/heartbeat",
                "--hive-id", "mini-hive-test", "--group", group, "--interval", "200ms", "--grace", "2s"));
        cmd.addAll(List.of(rest));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        hiveOutput = Thread.ofPlatform().daemon().name("mini-hive-output").start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) {
                    System.out.println("[mini-hive] " + l);
                    events.add(l);
                }
            } catch (Exception e) {
                events.add("output reader: " + e);
            }
        });
        return p;
    }

    /** This test's worker {@code instance} in a heartbeat, noting its process for the end check. */
    private Optional<JsonNode> worker(JsonNode heartbeat, String instance) {
        for (JsonNode w : heartbeat.get("workers"))
            if (w.get("service").asText().equals(group) && w.get("instance").asText().equals(instance)) {
                long pid = w.get("pid").asLong();
                ProcessHandle.of(pid).ifPresent(h -> workerProcesses.putIfAbsent(pid, h));
                return Optional.of(w);
            }
        return Optional.empty();
    }

    private JsonNode awaitHeartbeat(Predicate<JsonNode> what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(PATIENCE_S);
        while (System.nanoTime() < deadline) {
            if (!hive.isAlive()) fail("mini-hive exited " + hive.exitValue() + ":\n" + String.join("\n", events));
            JsonNode h = heartbeats.poll(1, TimeUnit.SECONDS);
            if (h != null && what.test(h)) return h;
        }
        throw new AssertionError("no such heartbeat; mini-hive said:\n" + String.join("\n", events));
    }

    /** Waits for a line of the hive's output. */
    private void awaitEvent(Predicate<String> what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(PATIENCE_S);
        while (System.nanoTime() < deadline) {
            if (events.stream().anyMatch(what)) return;
            Thread.sleep(50);
        }
        throw new AssertionError("no such line; mini-hive said:\n" + String.join("\n", events));
    }
}
