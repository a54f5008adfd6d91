package dev.rbee.hive.monitor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Debian's headless Chromium driven over the DevTools protocol (the JDK's own
 * WebSocket client; no WebDriver, no extra library): one page, its console
 * errors and uncaught exceptions collected, JavaScript evaluated, screenshots.
 * {@link #close} kills the browser and waits for it.
 */
final class Chromium implements AutoCloseable {
    static final List<Path> BINARIES = List.of(Path.of("/usr/bin/chromium"), Path.of("/usr/bin/chromium-browser"));

    private final Process process;
    private final HttpClient http = HttpClient.newHttpClient();
    private final WebSocket ws;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    /** Console errors, uncaught exceptions and failed loads, as text. */
    final List<String> errors = new CopyOnWriteArrayList<>();

    static java.util.Optional<Path> binary() {
        return BINARIES.stream().filter(Files::isExecutable).findFirst();
    }

    /** {@code dir}: the browser's profile and its temporary files, nothing outside it. */
    Chromium(Path binary, Path dir) throws Exception {
        Path profile = dir.resolve("profile"), tmp = dir.resolve("tmp");
        Files.createDirectories(tmp);
        ProcessBuilder pb = new ProcessBuilder(binary.toString(), "--headless=new", "--no-sandbox", "--disable-gpu",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--metrics-recording-only", "--mute-audio",
                "--user-data-dir=" + profile, "--window-size=1280,720", "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0", "about:blank").redirectErrorStream(true);
        pb.environment().put("TMPDIR", tmp.toString()); // its SingletonSocket directory goes there, not to /tmp
        process = pb.start();
        try {
            String browserWs = devToolsUrl();
            int port = URI.create(browserWs).getPort();
            String pageWs = null;
            for (int i = 0; i < 100 && pageWs == null; i++) {
                JsonNode list = ServerTest.JSON.readTree(http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/json/list")).build(), HttpResponse.BodyHandlers.ofString()).body());
                for (JsonNode t : list) if (t.get("type").asText().equals("page")) pageWs = t.get("webSocketDebuggerUrl").asText();
                if (pageWs == null) Thread.sleep(100);
            }
            if (pageWs == null) throw new IOException("chromium opened no page");
            ws = http.newWebSocketBuilder().buildAsync(URI.create(pageWs), new Listener()).get(20, TimeUnit.SECONDS);
            call("Runtime.enable", Map.of());
            call("Log.enable", Map.of());
            call("Page.enable", Map.of());
        } catch (Exception e) {
            close();
            throw e;
        }
    }

    /** Reads chromium's output until it says where DevTools listens. */
    private String devToolsUrl() throws IOException {
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        Pattern p = Pattern.compile("DevTools listening on (ws://\\S+)");
        StringBuilder seen = new StringBuilder();
        for (String line; (line = out.readLine()) != null; ) {
            Matcher m = p.matcher(line);
            if (m.find()) {
                // Keep draining its output, so that chromium never blocks on a full pipe.
                Thread.ofVirtual().start(() -> out.lines().forEach(l -> { }));
                return m.group(1);
            }
            seen.append(line).append('\n');
        }
        throw new IOException("chromium ended before DevTools listened:\n" + seen);
    }

    /** A DevTools command; its result (or an exception carrying the protocol's error). */
    JsonNode call(String method, Map<String, ?> params) throws Exception {
        int id = ids.incrementAndGet();
        ObjectNode msg = ServerTest.JSON.createObjectNode();
        msg.put("id", id);
        msg.put("method", method);
        msg.set("params", ServerTest.JSON.valueToTree(params));
        CompletableFuture<JsonNode> f = new CompletableFuture<>();
        pending.put(id, f);
        ws.sendText(ServerTest.JSON.writeValueAsString(msg), true).get(10, TimeUnit.SECONDS);
        JsonNode r = f.get(30, TimeUnit.SECONDS);
        if (r.has("error")) throw new IOException(method + ": " + r.get("error"));
        return r.get("result");
    }

    /** Evaluates {@code js} in the page; its value (JSON), or an exception with the page's error. */
    JsonNode eval(String js) throws Exception {
        JsonNode r = call("Runtime.evaluate", Map.of("expression", js, "returnByValue", true, "awaitPromise", true));
        if (r.has("exceptionDetails")) throw new IOException("in the page: " + r.get("exceptionDetails"));
        return r.get("result").get("value");
    }

    void navigate(String url) throws Exception {
        call("Page.navigate", Map.of("url", url));
    }

    /** Waits until {@code js} is true in the page, up to {@code timeout}. */
    void await(String js, Duration timeout, String what) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        while (true) {
            JsonNode v = eval(js);
            if (v != null && v.asBoolean()) return;
            if (System.nanoTime() > end) throw new AssertionError("timed out waiting for " + what + " (" + js + "); errors: " + errors);
            Thread.sleep(100);
        }
    }

    byte[] screenshot() throws Exception {
        return java.util.Base64.getDecoder().decode(call("Page.captureScreenshot", Map.of("format", "png")).get("data").asText());
    }

    private void event(JsonNode m) {
        String method = m.get("method").asText();
        JsonNode p = m.get("params");
        switch (method) {
            case "Runtime.consoleAPICalled" -> {
                if (p.get("type").asText().equals("error") || p.get("type").asText().equals("assert"))
                    errors.add("console." + p.get("type").asText() + ": " + p.get("args"));
            }
            case "Runtime.exceptionThrown" -> errors.add("exception: " + p.get("exceptionDetails"));
            case "Log.entryAdded" -> {
                if (p.get("entry").get("level").asText().equals("error")) errors.add("log: " + p.get("entry"));
            }
            default -> { }
        }
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder part = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
            part.append(data);
            if (last) {
                try {
                    JsonNode m = ServerTest.JSON.readTree(part.toString());
                    if (m.has("id")) {
                        CompletableFuture<JsonNode> f = pending.remove(m.get("id").asInt());
                        if (f != null) f.complete(m);
                    } else if (m.has("method")) {
                        event(m);
                    }
                } catch (IOException e) {
                    errors.add("unreadable DevTools message: " + e);
                }
                part.setLength(0);
            }
            w.request(1);
            return null;
        }
    }

    @Override
    public void close() {
        if (ws != null) ws.abort();
        http.close();
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) throw new IllegalStateException("chromium did not end 20 s after SIGKILL");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
