package dev.rbee.hive.monitor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.json.Prometheus;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A real server on an ephemeral loopback port, a real HTTP client and a live worker. */
class ServerTest {
    static final ObjectMapper JSON = new ObjectMapper();
    final String group = TestEnv.uniqueGroup("serve");
    final ProcessMonitor monitor = TestEnv.monitor();
    final List<Server> servers = new ArrayList<>();
    HttpClient client;
    Worker worker;

    @BeforeEach
    void startWorker() throws Exception {
        worker = monitor.spawn(WorkerSpec.command("/bin/sleep", "600").withMonitoring(group, "8080").build());
        client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterEach
    void cleanup() throws Exception {
        servers.forEach(Server::close);
        client.close();
        if (worker.isAlive()) worker.stop(Duration.ofSeconds(1));
        TestEnv.destroyTree(TestEnv.cgroupMount().resolve("rbee.slice").resolve(group));
    }

    Server start(Server.Options o) throws Exception {
        Server s = Server.start(monitor, o.bind(InetAddress.getLoopbackAddress()).port(0).hiveId("test-hive"));
        servers.add(s);
        return s;
    }

    Server start() throws Exception {
        return start(new Server.Options().interval(Duration.ofMillis(200)));
    }

    static URI uri(Server s, String path) {
        return URI.create("http://127.0.0.1:" + s.port() + path);
    }

    HttpResponse<String> get(Server s, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(uri(s, path)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(Server s, String path, Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(s, path)).timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.noBody());
        headers.forEach(b::header);
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void heartbeatStreamYieldsThreeEventsWithRisingTimestamps() throws Exception {
        Server s = start();
        HttpResponse<InputStream> r = client.send(HttpRequest.newBuilder(uri(s, Server.STREAM)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, r.statusCode());
        assertEquals("text/event-stream; charset=utf-8", r.headers().firstValue("Content-Type").orElseThrow());
        List<JsonNode> events = new ArrayList<>();
        List<Long> ids = new ArrayList<>();
        boolean retry = false;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            String line;
            while (events.size() < 3 && (line = in.readLine()) != null) {
                if (line.startsWith("id: ")) {
                    ids.add(Long.parseLong(line.substring(line.lastIndexOf('-') + 1)));
                    String data = in.readLine();
                    assertTrue(data.startsWith("data: "), "the id comes with its data: " + data);
                    events.add(JSON.readTree(data.substring(6)));
                    assertEquals("", in.readLine(), "an event ends with a blank line");
                } else {
                    retry |= line.startsWith("retry: ");
                    assertTrue(line.isEmpty() || line.startsWith(":") || line.startsWith("retry: "), line);
                }
            }
        }
        assertEquals(3, events.size());
        assertTrue(retry, "a retry: line tells the browser when to reconnect");
        for (int i = 1; i < ids.size(); i++) assertEquals(ids.get(i - 1) + 1, ids.get(i), "ids rise by one: " + ids);
        Instant prev = Instant.MIN;
        for (JsonNode e : events) {
            assertEquals("test-hive", e.get("hive_id").asText());
            Instant ts = Instant.parse(e.get("ts").asText());
            assertTrue(ts.isAfter(prev), "ts rises: " + prev + " then " + ts);
            prev = ts;
            assertTrue(e.get("node").isObject());
            JsonNode w = ours(e.get("workers"));
            assertNotNull(w, "our worker is in " + e);
            assertEquals(8080, w.get("port").asInt());
            assertEquals(worker.pid(), w.get("pid").asLong());
            assertEquals(group + "/8080", w.get("worker_id").asText());
        }
        waitFor(() -> s.openStreams() == 0, "the closed stream is dropped");
    }

    JsonNode ours(JsonNode workers) {
        for (JsonNode w : workers) if (w.get("group").asText().equals(group) && w.get("instance").asText().equals("8080")) return w;
        return null;
    }

    @Test
    void workersAsJson() throws Exception {
        Server s = start();
        HttpResponse<String> r = get(s, Server.WORKERS);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElseThrow());
        JsonNode body = JSON.readTree(r.body());
        assertEquals("test-hive", body.get("hive_id").asText());
        JsonNode w = ours(body.get("workers"));
        assertNotNull(w, r.body());
        assertEquals(List.of(worker.pid()), JSON.convertValue(w.get("pids"), List.class).stream()
                .map(x -> ((Number) x).longValue()).toList());
        assertEquals("running", w.get("state").asText());
    }

    @Test
    void metricsPassAStrictExpositionCheck() throws Exception {
        Server s = start();
        waitFor(() -> {
            try {
                return get(s, Server.METRICS).body().contains("group=\"" + group + "\"");
            } catch (Exception e) {
                return false;
            }
        }, "our worker in /metrics");
        HttpResponse<String> r = get(s, Server.METRICS);
        assertEquals(200, r.statusCode());
        assertEquals(Prometheus.CONTENT_TYPE, r.headers().firstValue("Content-Type").orElseThrow());
        Map<String, PromText.Family> f = PromText.parse(r.body());
        Map<String, String> labels = Map.of("group", group, "worker", "8080");
        PromText.Family cpu = f.get("rbee_worker_cpu_usage_seconds_total");
        assertEquals("counter", cpu.type());
        assertTrue(cpu.samples().stream().anyMatch(x -> x.labels().equals(labels) && x.value() >= 0), r.body());
        PromText.Family procs = f.get("rbee_worker_processes");
        assertEquals("gauge", procs.type());
        assertTrue(procs.samples().stream().anyMatch(x -> x.labels().equals(labels) && x.value() == 1), r.body());
        assertEquals("gauge", f.get("rbee_workers").type());
        assertTrue(f.get("rbee_workers").samples().get(0).value() >= 1);
        for (PromText.Family fam : f.values()) {
            assertTrue(fam.name().startsWith("rbee_"), fam.name());
            assertEquals(fam.type().equals("counter"), fam.name().endsWith("_total"), fam.name());
        }
        // Absent means not emitted: where the kernel has no memory controller there is no memory family for us.
        boolean memoryController = TestEnv.read(TestEnv.cgroupMount().resolve("rbee.slice").resolve(group).resolve("8080")
                .resolve("memory.current")).isPresent();
        PromText.Family mem = f.get("rbee_worker_memory_bytes");
        assertEquals(memoryController, mem != null && mem.samples().stream().anyMatch(x -> x.labels().equals(labels)), r.body());
    }

    @Test
    void strictCheckRejectsBadExpositions() {
        String ok = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"q\\\"\\\\\\n\"} 1\n";
        assertEquals("q\"\\\n", PromText.parse(ok).get("a_total").samples().get(0).labels().get("x"));
        for (String bad : new String[] {
                "# TYPE a_total counter\na_total 1\n",                       // no HELP
                "# HELP a A.\n# TYPE a counter\na 1\n",                      // counter without _total
                "# HELP a A.\n# TYPE a gauge\na{x=\"1\"} 1\na{x=\"1\"} 2\n", // duplicate series
                "# HELP a A.\n# TYPE a gauge\na{x=\"\\t\"} 1\n",             // invalid escape
                "# HELP a A.\n# TYPE a gauge\na 1,5\n",                      // not a float
                "# HELP a A.\n# TYPE a gauge\na 1",                          // no final line feed
                "# HELP a A.\n# TYPE a gauge\na 1\n# HELP b B.\n# TYPE b gauge\nb 1\na{x=\"2\"} 1\n", // not contiguous
        }) assertThrows(IllegalArgumentException.class, () -> PromText.parse(bad), bad);
        assertEquals("a\\\\b\\\"c\\nd", Prometheus.escapeLabel("a\\b\"c\nd"));
    }

    @Test
    void controlIsRefusedWithoutAllowControl() throws Exception {
        Server s = start();
        HttpResponse<String> r = post(s, "/v1/workers/" + group + "/8080/stop", Map.of());
        assertEquals(403, r.statusCode());
        assertTrue(r.body().contains("--allow-control"), r.body());
        Thread.sleep(300);
        assertTrue(worker.isAlive());
    }

    @Test
    void controlFromLoopbackStopsTheWorker() throws Exception {
        Server s = start(new Server.Options().interval(Duration.ofMillis(200)).allowControl(true));
        HttpResponse<String> r = post(s, "/v1/workers/" + group + "/8080/stop?grace=2s", Map.of());
        assertEquals(200, r.statusCode(), r.body());
        JsonNode report = JSON.readTree(r.body());
        assertEquals(group, report.get("group").asText());
        assertEquals("8080", report.get("instance").asText());
        assertEquals(15, report.get("signal").asInt(), r.body());
        assertTrue(report.get("cgroup_removed").asBoolean());
        assertFalse(worker.isAlive());
        r = post(s, "/v1/workers/" + group + "/8080/stop", Map.of());
        assertEquals(404, r.statusCode());
        assertEquals("no live worker " + group + "/8080\n", r.body());
    }

    /** Before: stopping a worker whose cgroup was already gone answered 500 (an error about freezer files). */
    @Test
    void stopOfAWorkerThatAlreadyEndedIsNotAnError() throws Exception {
        Server s = start(new Server.Options().interval(Duration.ofMillis(200)).allowControl(true));
        var ended = monitor.spawn(WorkerSpec.command("/bin/true").withMonitoring(group, "ended").build());
        ended.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
        HttpResponse<String> r = post(s, "/v1/workers/" + group + "/ended/stop?grace=0s", Map.of());
        assertEquals(404, r.statusCode(), r.body());
        // Killed from outside a moment before the stop: a 2xx with its report, or 404 once it is cleaned up.
        var killed = monitor.spawn(WorkerSpec.command("/bin/sleep", "600").withMonitoring(group, "killed").build());
        killed.kill();
        r = post(s, "/v1/workers/" + group + "/killed/stop?grace=0s", Map.of());
        assertTrue(r.statusCode() == 200 || r.statusCode() == 404, r.statusCode() + " " + r.body());
        killed.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
    }

    @Test
    void aConfiguredTokenIsRequired() throws Exception {
        Server s = start(new Server.Options().interval(Duration.ofMillis(200)).allowControl(true).token("s3cret-token"));
        String path = "/v1/workers/" + group + "/8080/stop?grace=2s";
        HttpResponse<String> r = post(s, path, Map.of());
        assertEquals(401, r.statusCode());
        assertTrue(r.body().contains("missing token"), r.body());
        assertEquals("Bearer realm=\"rbee-mon\"", r.headers().firstValue("WWW-Authenticate").orElseThrow());
        r = post(s, path, Map.of("Authorization", "Bearer wrong"));
        assertEquals(401, r.statusCode());
        assertTrue(worker.isAlive());
        r = post(s, path, Map.of("Authorization", "Bearer s3cret-token"));
        assertEquals(200, r.statusCode(), r.body());
        assertFalse(worker.isAlive());
    }

    @Test
    void badRequestsGetA4xxWithAClearMessage() throws Exception {
        Server s = start(new Server.Options().interval(Duration.ofMillis(200)).allowControl(true));
        HttpResponse<String> r = get(s, "/v1/nothing-here");
        assertEquals(404, r.statusCode());
        assertTrue(r.body().startsWith("no such endpoint: GET /v1/nothing-here"), r.body());
        assertEquals(404, get(s, "/v1/workers/" + group + "/8080/stop/more").statusCode());

        r = post(s, "/v1/workers/%2e%2e/8080/stop", Map.of());
        assertEquals(400, r.statusCode());
        assertTrue(r.body().startsWith("invalid group \"..\""), r.body());
        r = post(s, "/v1/workers/" + group + "/a%2Fb/stop", Map.of());
        assertEquals(400, r.statusCode());
        assertTrue(r.body().startsWith("invalid instance \"a/b\""), r.body());
        r = post(s, "/v1/workers/" + group + "/8080/stop?grace=soon", Map.of());
        assertEquals(400, r.statusCode());
        assertTrue(r.body().contains("invalid duration \"soon\""), r.body());
        r = post(s, "/v1/workers/" + group + "/8080/stop?force=1", Map.of());
        assertEquals(400, r.statusCode());
        assertTrue(r.body().contains("unknown query parameter \"force\""), r.body());

        r = post(s, Server.METRICS, Map.of());
        assertEquals(405, r.statusCode());
        assertEquals("GET, HEAD, OPTIONS", r.headers().firstValue("Allow").orElseThrow());
        assertEquals("method POST not allowed on /metrics: use GET\n", r.body());
        r = get(s, "/v1/workers/" + group + "/8080/stop");
        assertEquals(405, r.statusCode());
        assertEquals("POST, OPTIONS", r.headers().firstValue("Allow").orElseThrow());

        byte[] huge = new byte[256 * 1024];
        r = client.send(HttpRequest.newBuilder(uri(s, "/v1/workers/" + group + "/8080/stop"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(huge)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(413, r.statusCode());
        assertEquals("request body too large: 262144 bytes (limit 65536 bytes)\n", r.body());
        // Without a length (chunked), the limit holds as well.
        r = client.send(HttpRequest.newBuilder(uri(s, "/v1/workers/" + group + "/8080/stop"))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(huge))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(413, r.statusCode());
        assertTrue(r.body().startsWith("request body too large: more than 65536 bytes"), r.body());
        assertTrue(worker.isAlive(), "no bad request stopped the worker");
        assertEquals(200, get(s, Server.METRICS).statusCode(), "the server still answers");
    }

    /** A port in use: an error naming the address, the port and why, and nothing left running or open. */
    @Test
    void aPortInUseFailsCleanly() throws Exception {
        Server first = start();
        long fds = TestEnv.settledFdCount();
        int threads = Thread.activeCount();
        java.io.IOException e = assertThrows(java.io.IOException.class, () -> Server.start(monitor,
                new Server.Options().bind(InetAddress.getLoopbackAddress()).port(first.port())));
        assertEquals("cannot listen on 127.0.0.1:" + first.port() + ": Address already in use", e.getMessage());
        waitFor(() -> TestEnv.fdCount() <= fds && Thread.activeCount() <= threads,
                () -> "fds " + fds + " -> " + TestEnv.fdCount() + ", threads " + threads + " -> " + Thread.activeCount());
    }

    @Test
    void streamsBeyondTheLimitGet503() throws Exception {
        Server s = start(new Server.Options().interval(Duration.ofMillis(200)).maxStreams(3));
        List<HttpResponse<InputStream>> open = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            HttpResponse<InputStream> r = client.send(HttpRequest.newBuilder(uri(s, Server.STREAM)).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, r.statusCode());
            open.add(r);
        }
        HttpResponse<String> refused = get(s, Server.STREAM);
        assertEquals(503, refused.statusCode());
        assertTrue(refused.body().startsWith("too many event streams (limit 3)"), refused.body());
        open.remove(0).body().close();
        waitFor(() -> s.openStreams() == 2, "a closed stream frees its place");
        HttpResponse<InputStream> again = client.send(HttpRequest.newBuilder(uri(s, Server.STREAM)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, again.statusCode());
        again.body().close();
        for (var r : open) r.body().close();
        waitFor(() -> s.openStreams() == 0, "every stream dropped");
    }

    /** Closing the server ends each open stream with a final "shutdown" event and a clean end of the body. */
    @Test
    void closingTheServerEndsOpenStreamsCleanly() throws Exception {
        Server s = start();
        long fds = TestEnv.settledFdCount();
        List<InputStream> open = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            HttpResponse<InputStream> r = client.send(HttpRequest.newBuilder(uri(s, Server.STREAM)).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, r.statusCode());
            open.add(r.body());
        }
        waitFor(() -> s.openStreams() == 5, "5 streams");
        Thread closer = Thread.ofPlatform().start(s::close);
        for (InputStream in : open) {
            String all;
            try (in) {
                all = new String(in.readAllBytes(), StandardCharsets.UTF_8); // an abrupt end would throw here
            }
            assertTrue(all.endsWith("event: shutdown\ndata: {\"reason\":\"rbee-mon serve is shutting down\"}\n\n"),
                    "the last event says why the stream ends: ..." + all.substring(Math.max(0, all.length() - 200)));
        }
        closer.join();
        assertEquals(0, s.openStreams());
        client.close();
        client = HttpClient.newHttpClient();
        waitFor(() -> TestEnv.fdCount() <= fds, () -> "fds " + fds + " -> " + TestEnv.fdCount());
    }

    /**
     * 1000 event-stream clients, 50 at a time: each gets its 200, reads two
     * events and hangs up.  Afterwards the server has no stream, no stream
     * thread, and this JVM no more threads or fds than before (small slack).
     */
    @Test
    void thousandStreamConnectsAndDisconnectsLeakNothing() throws Exception {
        // 50 clients at once from one address: a closed stream's connection is counted until the server sees it close.
        Server s = start(new Server.Options().interval(Duration.ofMillis(100)).maxConnectionsPerClient(1000));
        ExecutorService clients = Executors.newFixedThreadPool(50, named("churn-client-"));
        ExecutorService clientIo = Executors.newFixedThreadPool(4, named("churn-io-"));
        HttpClient churn = HttpClient.newBuilder().executor(clientIo).build();
        AtomicInteger ok = new AtomicInteger();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        Runnable one = () -> {
            try {
                HttpResponse<InputStream> r = churn.send(HttpRequest.newBuilder(uri(s, Server.STREAM)).build(),
                        HttpResponse.BodyHandlers.ofInputStream());
                try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                    if (r.statusCode() != 200) {
                        failures.add("status " + r.statusCode());
                        return;
                    }
                    int events = 0;
                    String line;
                    while (events < 2 && (line = in.readLine()) != null) if (line.startsWith("data: ")) events++;
                    if (events == 2) ok.incrementAndGet();
                    else failures.add("stream ended after " + events + " events");
                }
            } catch (Exception e) {
                failures.add(e.toString());
            }
        };
        // Warm up (virtual-thread pollers, pool threads, the client's selector), then measure.
        run(clients, one, 50);
        waitFor(() -> s.openStreams() == 0, "warm-up streams dropped");
        Thread.sleep(500);
        long fds = TestEnv.settledFdCount();
        int threads = Thread.activeCount(), serverThreads = serverSideThreads();
        ok.set(0);

        AtomicInteger peak = new AtomicInteger();
        Thread watch = Thread.ofPlatform().daemon().start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                peak.accumulateAndGet(s.openStreams(), Math::max);
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        long t0 = System.nanoTime();
        run(clients, one, 1000);
        long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        watch.interrupt();
        watch.join();
        assertTrue(failures.isEmpty(), failures.size() + " failures, e.g. " + failures.peek());
        assertEquals(1000, ok.get());
        assertTrue(took < 60_000, "1000 connects took " + took + " ms");

        waitFor(() -> s.openStreams() == 0, () -> "streams left: " + s.openStreams());
        clients.shutdown();
        assertTrue(clients.awaitTermination(10, TimeUnit.SECONDS));
        churn.close();
        clientIo.shutdown();
        assertTrue(clientIo.awaitTermination(10, TimeUnit.SECONDS));
        waitFor(() -> TestEnv.fdCount() <= fds + 8 && Thread.activeCount() <= threads + 4
                        && serverSideThreads() <= serverThreads + 2,
                () -> "fds " + fds + " -> " + TestEnv.fdCount() + ", threads " + threads + " -> " + Thread.activeCount()
                        + ", server-side threads " + serverThreads + " -> " + serverSideThreads());
        assertEquals(200, get(s, Server.METRICS).statusCode(), "the server still answers");
        System.err.printf("churn: 1000 SSE connects/disconnects in %d ms, at most %d streams open at once; "
                        + "fds %d -> %d, threads %d -> %d, server-side threads %d -> %d%n", took, peak.get(), fds,
                TestEnv.fdCount(), threads, Thread.activeCount(), serverThreads, serverSideThreads());
    }

    /** Platform threads other than the test's own clients (the JDK HttpClient's included). */
    private static int serverSideThreads() {
        return (int) Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
                .filter(n -> !n.startsWith("churn-") && !n.startsWith("HttpClient-")).count();
    }

    private static java.util.concurrent.ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    private static void run(ExecutorService pool, Runnable task, int times) throws Exception {
        List<Future<?>> fs = new ArrayList<>();
        for (int i = 0; i < times; i++) fs.add(pool.submit(task));
        for (Future<?> f : fs) f.get(120, TimeUnit.SECONDS);
    }

    static void waitFor(BooleanSupplier cond, String what) throws InterruptedException {
        waitFor(cond, () -> what);
    }

    static void waitFor(BooleanSupplier cond, java.util.function.Supplier<String> what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > end) throw new AssertionError("timed out waiting: " + what.get());
            Thread.sleep(50);
        }
    }
}
