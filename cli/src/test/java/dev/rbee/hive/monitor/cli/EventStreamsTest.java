package dev.rbee.hive.monitor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Event ids, Last-Event-ID replay from the ring and the "lost" event, with a real server and client. */
class EventStreamsTest {
    final ProcessMonitor monitor = TestEnv.monitor();
    final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    Server server;

    @AfterEach
    void close() {
        if (server != null) server.close();
        client.close();
    }

    /** One SSE event as the client parsed it: its event type ("message" when none), id and data. */
    record Event(String type, String id, String data) {
        long seq() {
            return Long.parseLong(id.substring(id.lastIndexOf('-') + 1));
        }
    }

    /** Connects (with {@code lastEventId} unless null) and reads {@code n} events by the SSE rules, then hangs up. */
    List<Event> read(String lastEventId, int n) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + Server.STREAM))
                .timeout(Duration.ofSeconds(20));
        if (lastEventId != null) b.header("Last-Event-ID", lastEventId);
        HttpResponse<java.io.InputStream> r = client.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, r.statusCode());
        List<Event> events = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            String type = "message", id = "", data = null, line;
            while (events.size() < n && (line = in.readLine()) != null) {
                if (line.isEmpty()) {
                    if (data != null) events.add(new Event(type, id, data));
                    type = "message";
                    data = null;
                } else if (line.startsWith("event: ")) {
                    type = line.substring(7);
                } else if (line.startsWith("id: ")) {
                    id = line.substring(4);
                } else if (line.startsWith("data: ")) {
                    data = line.substring(6);
                }
            }
        }
        return events;
    }

    Server start(int replayEvents) throws Exception {
        server = Server.start(monitor, new Server.Options().bind(InetAddress.getLoopbackAddress()).port(0).hiveId("sse")
                .interval(Duration.ofMillis(100)).replay(replayEvents, 64L << 20).gpu(false));
        return server;
    }

    @Test
    void aClientThatReconnectsWithLastEventIdGetsTheEventsItMissed() throws Exception {
        start(100);
        List<Event> first = read(null, 3);
        for (Event e : first) assertEquals("message", e.type());
        String lastSeen = first.get(2).id();
        Thread.sleep(600); // about 6 events published meanwhile
        List<Event> again = read(lastSeen, 8);
        for (int i = 0; i < again.size(); i++) {
            assertEquals("message", again.get(i).type(), "no event lost within the ring: " + again);
            assertEquals(first.get(2).seq() + 1 + i, again.get(i).seq(), "the ids go on from " + lastSeen + ": " + again);
            assertEquals("sse", ServerTest.JSON.readTree(again.get(i).data()).get("hive_id").asText());
        }
        assertEquals(8, again.size());
    }

    @Test
    void aClientTooFarBehindGetsOneLostEventSayingHowMany() throws Exception {
        start(3);
        List<Event> first = read(null, 1);
        Thread.sleep(1000); // about 10 events, of which the ring keeps 3
        List<Event> again = read(first.get(0).id(), 3);
        Event lost = again.get(0);
        assertEquals("lost", lost.type(), again.toString());
        JsonNode info = ServerTest.JSON.readTree(lost.data());
        assertEquals(first.get(0).id(), info.get("after_id").asText());
        Event next = again.get(1);
        assertEquals("message", next.type());
        assertEquals(next.seq() - first.get(0).seq() - 1, info.get("missed").asLong(), "the count is the gap: " + again);
        assertTrue(info.get("missed").asLong() >= 1);
        assertEquals(next.seq() + 1, again.get(2).seq());
    }

    /**
     * A client that stops reading: the server's writes to it back up (events of 200 KB
     * each, by a long hive id) until the stall timeout drops it; the other client goes
     * on getting every event meanwhile, and the server ends with no stream open.
     */
    @Test
    void aStalledClientIsDroppedAndTheOthersGoOn() throws Exception {
        server = Server.start(monitor, new Server.Options().bind(InetAddress.getLoopbackAddress()).port(0)
                .hiveId("h".repeat(200_000)).interval(Duration.ofMillis(100)).stallTimeout(Duration.ofSeconds(1))
                .replay(10, 64L << 20).gpu(false));
        try (java.net.Socket stalled = new java.net.Socket()) {
            stalled.setReceiveBufferSize(4096);
            stalled.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), server.port()));
            stalled.getOutputStream().write(("GET " + Server.STREAM + " HTTP/1.1\r\nHost: localhost\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            ServerTest.waitFor(() -> server.openStreams() == 1, "the stalled client's stream");
            List<Event> got = read(null, 1);
            long first = got.get(0).seq();
            // Reads on while the other one stalls: its events keep coming, in order.
            HttpResponse<java.io.InputStream> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + server.port() + Server.STREAM)).build(), HttpResponse.BodyHandlers.ofInputStream());
            long seen = 0;
            try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
                for (String line; (line = in.readLine()) != null && System.nanoTime() < end; ) {
                    if (line.startsWith("id: ")) seen = Long.parseLong(line.substring(line.lastIndexOf('-') + 1));
                    if (server.openStreams() == 1 && seen > first + 5) break; // the stalled one is gone
                }
            }
            assertEquals(1, server.openStreams(), "the stalled stream was dropped while the reader read on");
            assertTrue(seen > first + 5, "the reader got events all along: up to " + seen);
        }
        ServerTest.waitFor(() -> server.openStreams() == 0, "no stream left");
    }

    @Test
    void anIdFromAnotherRunIsReportedAsLost() throws Exception {
        start(100);
        List<Event> events = read("0-5", 2);
        assertEquals("lost", events.get(0).type());
        assertTrue(events.get(0).data().contains("not from this server's run"), events.get(0).data());
        assertEquals("message", events.get(1).type());
    }
}
