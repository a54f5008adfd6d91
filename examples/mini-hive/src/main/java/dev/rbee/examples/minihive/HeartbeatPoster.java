package dev.rbee.examples.minihive;

import dev.rbee.hive.monitor.model.Snapshot;
import dev.rbee.hive.monitor.json.Wire;

import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A sampler listener that POSTs each snapshot as the HiveTelemetry JSON, plus a
 * {@code supervisor} object with each worker's restart state.  It runs on the
 * sampler's thread and waits for the receiver at most {@code timeout} (the
 * interval, at least 2 s): a slow receiver delays the next heartbeat, it never
 * piles requests up.
 */
final class HeartbeatPoster implements Consumer<Snapshot> {
    private final String hiveId;
    private final URI url;
    private final Duration timeout;
    private final List<SupervisedWorker> workers;
    private final PrintStream log;
    private final HttpClient http;

    HeartbeatPoster(String hiveId, URI url, Duration timeout, List<SupervisedWorker> workers, PrintStream log) {
        this.hiveId = hiveId;
        this.url = url;
        this.timeout = timeout;
        this.workers = workers;
        this.log = log;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
    }

    @Override
    public void accept(Snapshot snapshot) {
        Map<String, Object> body = new LinkedHashMap<>(Wire.hiveTelemetry(hiveId, snapshot));
        Map<String, Object> supervisor = new LinkedHashMap<>();
        for (SupervisedWorker w : workers) supervisor.put(w.instance(), w.status());
        body.put("supervisor", supervisor);
        HttpRequest post = HttpRequest.newBuilder(url).timeout(timeout)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(Wire.json(body))).build();
        try {
            HttpResponse<Void> r = http.send(post, HttpResponse.BodyHandlers.discarding());
            if (r.statusCode() / 100 != 2) log.println("mini-hive: heartbeat to " + url + ": HTTP " + r.statusCode());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the sampler is closing
        } catch (Exception e) {
            log.println("mini-hive: heartbeat to " + url + " failed: " + e); // the next one may get through
        }
    }

    void close() {
        http.close();
    }
}
