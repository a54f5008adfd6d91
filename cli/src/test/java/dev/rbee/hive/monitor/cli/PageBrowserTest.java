package dev.rbee.hive.monitor.cli;

import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The live page in Debian's headless Chromium: two workers' rows and charts
 * drawn from live data, a stop through the page's button (two clicks, the
 * API's checks), the row turning "exited", the page going on after the
 * server restarts under it; and no console error at any point.  Skips, saying
 * so, where chromium is not installed.
 */
class PageBrowserTest {
    final String group = TestEnv.uniqueGroup("page");
    final ProcessMonitor monitor = TestEnv.monitor();
    final List<Worker> workers = new ArrayList<>();
    Server server;

    @AfterEach
    void cleanup() throws Exception {
        if (server != null) server.close();
        for (Worker w : workers) if (w.isAlive()) w.stop(Duration.ofSeconds(1));
        TestEnv.destroyTree(TestEnv.cgroupMount().resolve("rbee.slice").resolve(group));
    }

    Server start(int port, boolean control) throws Exception {
        server = Server.start(monitor, new Server.Options().bind(InetAddress.getLoopbackAddress()).port(port)
                .interval(Duration.ofMillis(300)).allowControl(control).hiveId("page-test").gpu(false));
        return server;
    }

    String row(String instance) {
        return "document.querySelector('tr[data-worker=\"" + group + "/" + instance + "\"]')";
    }

    String points(String instance, int column) {
        return "Number(" + row(instance) + ".querySelector('td:nth-child(" + column + ") svg').dataset.points)";
    }

    @Test
    void thePageShowsLiveWorkersAndAStopThroughItsButton(@TempDir Path dir) throws Exception {
        Path chromium = Chromium.binary().orElse(null);
        Assumptions.assumeTrue(chromium != null, "chromium is missing: install the Debian package chromium (make deps does, as root)");
        workers.add(monitor.spawn(WorkerSpec.command("/bin/sh", "-c", "while :; do sleep 0.01; done", "w", "--model", "tiny-1b")
                .withMonitoring(group, "a").build()));
        workers.add(monitor.spawn(WorkerSpec.command("/bin/sleep", "600").withMonitoring(group, "b").build()));
        Server s = start(0, true);
        int port = s.port();
        String url = "http://127.0.0.1:" + port + "/";
        try (Chromium browser = new Chromium(chromium, dir)) {
            browser.navigate(url);
            browser.await(row("a") + " !== null && " + row("b") + " !== null", Duration.ofSeconds(30), "both rows");
            // Charts: CPU for both (memory is absent on a host without the memory controller: said in text).
            browser.await(points("a", 6) + " >= 3 && " + points("b", 6) + " >= 3", Duration.ofSeconds(30), "both CPU charts drawn");
            assertTrue(browser.eval(row("a") + ".querySelector('td:nth-child(6)').textContent").asText().endsWith("%"),
                    "the CPU figure as text too");
            assertEquals("tiny-1b", browser.eval(row("a") + ".querySelector('td:nth-child(3)').textContent").asText());
            assertEquals(Long.toString(workers.get(0).pid()), browser.eval(row("a") + ".querySelector('td:nth-child(2)').textContent").asText());
            assertEquals("running", browser.eval(row("a") + ".querySelector('.state').textContent").asText());
            String mem = browser.eval(row("a") + ".querySelector('td:nth-child(7)').textContent").asText();
            assertTrue(mem.contains("MiB") || mem.startsWith("n/a: "), "memory as a figure, or why not: " + mem);

            // Stop "a" through its button: the first click only asks for confirmation.
            String button = "document.querySelector('button[data-stop=\"" + group + "/a\"]')";
            browser.eval(button + ".click()");
            assertEquals("Confirm stop", browser.eval(button + ".textContent").asText());
            assertTrue(workers.get(0).isAlive(), "one click stops nothing");
            browser.eval(button + ".click()");
            browser.await(row("a") + ".querySelector('.state').textContent === 'exited'", Duration.ofSeconds(30), "a exited");
            assertTrue(browser.eval("document.getElementById('status').textContent").asText().startsWith("stopped " + group + "/a"));
            assertEquals("running", browser.eval(row("b") + ".querySelector('.state').textContent").asText());
            assertTrue(browser.eval("document.getElementById('events').textContent").asText().contains(group + "/a exited"));

            // The server restarts under the page: EventSource reconnects and the page goes on.
            int drawn = browser.eval(points("b", 6)).asInt();
            long tick = browser.eval("document.getElementById('events').children.length").asLong();
            int before = browser.errors.size();
            s.close();
            s = start(port, true);
            browser.await("document.getElementById('status').textContent === 'live' && " + points("b", 6) + " > " + drawn,
                    Duration.ofSeconds(30), "the page live again after the restart");
            assertTrue(browser.eval("document.getElementById('events').children.length").asLong() > tick,
                    "the page says the stream was interrupted");
            // A reconnect attempt during the restart may be refused: the browser reports that one as an error.
            List<String> errors = new ArrayList<>(browser.errors.subList(0, before));
            for (String e : browser.errors.subList(before, browser.errors.size()))
                if (!(e.contains("ERR_CONNECTION_REFUSED") && e.contains(Server.STREAM))) errors.add(e);
            assertEquals(List.of(), errors, "no console error");

            Path shot = Path.of("target", "serve-page.png");
            Files.write(shot, browser.screenshot());
        }
        HttpClient http = HttpClient.newHttpClient();
        long total = 0;
        for (String path : List.of("/", "/ui/app.js", "/ui/app.css")) {
            HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create(url.substring(0, url.length() - 1) + path)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, r.statusCode(), path);
            assertTrue(r.headers().firstValue("Content-Security-Policy").orElseThrow().contains("default-src 'none'"));
            total += r.body().length;
        }
        http.close();
        System.err.println("page: " + total + " bytes in all (html, js, css)");
    }

    /** With a token the page asks for it, and the API's check refuses a wrong one (the worker runs on). */
    @Test
    void withATokenTheStopButtonSendsIt(@TempDir Path dir) throws Exception {
        Path chromium = Chromium.binary().orElse(null);
        Assumptions.assumeTrue(chromium != null, "chromium is missing: install the Debian package chromium (make deps does, as root)");
        workers.add(monitor.spawn(WorkerSpec.command("/bin/sleep", "600").withMonitoring(group, "d").build()));
        server = Server.start(monitor, new Server.Options().bind(InetAddress.getLoopbackAddress()).port(0)
                .interval(Duration.ofMillis(300)).allowControl(true).token("page-token").gpu(false));
        try (Chromium browser = new Chromium(chromium, dir)) {
            browser.navigate("http://127.0.0.1:" + server.port() + "/");
            browser.await(row("d") + " !== null", Duration.ofSeconds(30), "the row");
            assertEquals(false, browser.eval("document.getElementById('token-box').hidden").asBoolean(), "the token field shows");
            String button = "document.querySelector('button[data-stop=\"" + group + "/d\"]')";
            browser.eval("document.getElementById('token').value = 'wrong'");
            browser.eval(button + ".click()");
            browser.eval(button + ".click()");
            browser.await("document.getElementById('status').textContent.startsWith('stop of " + group + "/d refused (401)')",
                    Duration.ofSeconds(30), "the refusal, in words");
            assertTrue(workers.get(0).isAlive());
            browser.eval("document.getElementById('token').value = 'page-token'");
            browser.eval(button + ".click()");
            browser.eval(button + ".click()");
            browser.await(row("d") + ".querySelector('.state').textContent === 'exited'", Duration.ofSeconds(30), "d exited");
            // The browser logs the refused fetch (401) as a failed resource load: that one is expected.
            List<String> errors = browser.errors.stream().filter(e -> !(e.contains("401") && e.contains("/stop"))).toList();
            assertEquals(List.of(), errors, "no other console error");
        }
    }

    @Test
    void withControlOffThePageIsReadOnly(@TempDir Path dir) throws Exception {
        Path chromium = Chromium.binary().orElse(null);
        Assumptions.assumeTrue(chromium != null, "chromium is missing: install the Debian package chromium (make deps does, as root)");
        workers.add(monitor.spawn(WorkerSpec.command("/bin/sleep", "600").withMonitoring(group, "c").build()));
        Server s = start(0, false);
        try (Chromium browser = new Chromium(chromium, dir)) {
            browser.navigate("http://127.0.0.1:" + s.port() + "/");
            browser.await(row("c") + " !== null", Duration.ofSeconds(30), "the row");
            assertEquals(0, browser.eval("document.querySelectorAll('button').length").asInt(), "no button without control");
            assertEquals("read-only", browser.eval(row("c") + ".querySelector('td:nth-child(9)').textContent").asText());
            assertEquals(List.of(), browser.errors);
        }
    }
}
