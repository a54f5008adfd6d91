package dev.rbee.hive.monitor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * /metrics as Prometheus itself sees it: {@code promtool check metrics} on
 * the live text, and a real Prometheus (Debian's, started here on
 * 127.0.0.1, a free port and its own storage, killed at the end) that
 * scrapes a live worker, found by a PromQL query on our label names.
 * Prometheus asks for OpenMetrics, so its scrape checks that format too.
 * Both skip, saying so, where the Debian package prometheus is not installed.
 */
class RealPrometheusTest {
    static final Path PROMTOOL = Path.of("/usr/bin/promtool"), PROMETHEUS = Path.of("/usr/bin/prometheus");

    final String group = TestEnv.uniqueGroup("prom");
    final ProcessMonitor monitor = TestEnv.monitor();
    final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    Worker worker;
    Server server;
    Process prometheus;

    @BeforeEach
    void start() throws Exception {
        worker = monitor.spawn(WorkerSpec.command("/bin/sh", "-c", "while :; do :; done", "busy", "--model", "m-7b")
                .withMonitoring(group, "8080").build());
        server = Server.start(monitor, new Server.Options().bind(InetAddress.getLoopbackAddress()).port(0)
                .interval(Duration.ofMillis(500)).gpu(false));
    }

    @AfterEach
    void stop() throws Exception {
        if (prometheus != null) {
            prometheus.destroyForcibly();
            assertTrue(prometheus.waitFor(20, TimeUnit.SECONDS), "prometheus ended");
        }
        server.close();
        client.close();
        if (worker.isAlive()) worker.stop(Duration.ofSeconds(1));
        TestEnv.destroyTree(TestEnv.cgroupMount().resolve("rbee.slice").resolve(group));
    }

    String get(String url) throws Exception {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), url + ": " + r.body());
        return r.body();
    }

    @Test
    void promtoolFindsTheLiveMetricsClean(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(PROMTOOL),
                PROMTOOL + " is missing: install the Debian package prometheus (make deps does, as root)");
        String url = "http://127.0.0.1:" + server.port() + Server.METRICS;
        String text = "";
        for (int i = 0; i < 100 && !text.contains("group=\"" + group + "\""); i++) {
            Thread.sleep(100);
            text = get(url);
        }
        assertTrue(text.contains("rbee_worker_info{group=\"" + group + "\",worker=\"8080\""), text);
        Path file = dir.resolve("metrics.txt");
        Files.writeString(file, text);
        Process p = new ProcessBuilder(PROMTOOL.toString(), "check", "metrics").redirectInput(file.toFile())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), "promtool check metrics: " + out);
        assertEquals("", out.strip(), "no lint findings");
    }

    @Test
    void aRealPrometheusScrapesTheWorkerByOurLabelNames(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(PROMETHEUS),
                PROMETHEUS + " is missing: install the Debian package prometheus (make deps does, as root)");
        int port = freePort();
        Path config = dir.resolve("prometheus.yml");
        Files.writeString(config, """
                global:
                  scrape_interval: 1s
                  evaluation_interval: 1s
                scrape_configs:
                  - job_name: rbee
                    static_configs:
                      - targets: ['127.0.0.1:%d']
                """.formatted(server.port()));
        prometheus = new ProcessBuilder(PROMETHEUS.toString(), "--config.file=" + config,
                "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + port, "--log.level=warn")
                .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
        String api = "http://127.0.0.1:" + port + "/api/v1/";
        String query = "rbee_worker_info{group=\"" + group + "\",worker=\"8080\"}";
        JsonNode result = null;
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < end) {
            assertTrue(prometheus.isAlive(), () -> "prometheus exited: " + log(dir));
            try {
                result = ServerTest.JSON.readTree(get(api + "query?query=" + URLEncoder.encode(query, StandardCharsets.UTF_8)))
                        .get("data").get("result");
                if (result.size() > 0) break;
            } catch (IOException notYetListening) {
                // still starting
            }
            Thread.sleep(250);
        }
        assertTrue(result != null && result.size() == 1, () -> query + " found nothing; targets: " + targets(api) + "; log: " + log(dir));
        JsonNode labels = result.get(0).get("metric");
        assertEquals("m-7b", labels.get("model").asText());
        assertEquals(Long.toString(worker.pid()), labels.get("pid").asText());
        assertEquals("127.0.0.1:" + server.port(), labels.get("instance").asText(), "instance is the target's, as Prometheus sets it");
        assertFalse(labels.has("exported_instance"), "no label of ours clashed with Prometheus's: " + labels);
        JsonNode target = ServerTest.JSON.readTree(targets(api)).get("data").get("activeTargets").get(0);
        assertEquals("up", target.get("health").asText(), target.toString());
        assertEquals("", target.get("lastError").asText());

        // A counter by our label names, with a rate once there are two scrapes.
        String cpu = "rate(rbee_worker_cpu_usage_seconds_total{group=\"" + group + "\",worker=\"8080\"}[5s])";
        JsonNode rate = null;
        end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < end) {
            rate = ServerTest.JSON.readTree(get(api + "query?query=" + URLEncoder.encode(cpu, StandardCharsets.UTF_8)))
                    .get("data").get("result");
            if (rate.size() > 0) break;
            Thread.sleep(250);
        }
        assertTrue(rate != null && rate.size() == 1, cpu + ": " + rate);
        double busy = rate.get(0).get("value").get(1).asDouble();
        // Positive, not a share: on a loaded 2-core machine the loop may get little of a core.
        assertTrue(busy > 0, "a busy loop's CPU rate: " + busy);
    }

    String targets(String api) {
        try {
            return get(api + "targets");
        } catch (Exception e) {
            return e.toString();
        }
    }

    static String log(Path dir) {
        try {
            return Files.readString(dir.resolve("prometheus.log"));
        } catch (IOException e) {
            return e.toString();
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
