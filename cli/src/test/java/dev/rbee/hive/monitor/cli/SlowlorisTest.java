package dev.rbee.hive.monitor.cli;

import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Clients that open sockets and send nothing, or one header byte at a time,
 * from another loopback address (127.0.0.2: another client) while a scraper
 * on 127.0.0.1 reads /metrics.  The scraper is answered every time (within
 * its client's timeout), the sockets beyond the per-client bound get 503, and
 * the slow ones are closed once their head is overdue; nothing is left open.
 */
class SlowlorisTest {
    static final InetAddress ATTACKER, OTHER;

    static {
        try {
            ATTACKER = InetAddress.getByName("127.0.0.2");
            OTHER = InetAddress.getByName("127.0.0.3");
        } catch (IOException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final ProcessMonitor monitor = TestEnv.monitor();
    final HttpClient scraper = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    final List<Socket> sockets = new ArrayList<>();
    Server server;

    @AfterEach
    void close() throws IOException {
        for (Socket s : sockets) s.close();
        if (server != null) server.close();
        scraper.close();
    }

    Server start(Server.Options o) throws IOException {
        server = Server.start(monitor, o.bind(InetAddress.getLoopbackAddress()).port(0).interval(Duration.ofMillis(500)).gpu(false));
        return server;
    }

    Socket connect(InetAddress from) throws IOException {
        Socket s = new Socket();
        sockets.add(s);
        s.bind(new InetSocketAddress(from, 0));
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port()), 5000);
        return s;
    }

    int scrape() throws Exception {
        HttpResponse<String> r = scraper.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + Server.METRICS))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertTrue(r.body().contains("rbee_workers "), r.body());
        return r.statusCode();
    }

    @Test
    void metricsAnswersWhileSlowClientsHoldManySockets() throws Exception {
        start(new Server.Options().headerTimeout(Duration.ofSeconds(3)).maxConnectionsPerClient(64));
        long fds = TestEnv.settledFdCount();
        // 300 sockets that send nothing, and 50 that send a header byte every 100 ms.
        for (int i = 0; i < 300; i++) connect(ATTACKER);
        List<Socket> dribblers = new ArrayList<>();
        for (int i = 0; i < 50; i++) dribblers.add(connect(ATTACKER));
        AtomicBoolean stop = new AtomicBoolean();
        byte[] head = "GET /metrics HTTP/1.1\r\nHost: localhost\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".getBytes(StandardCharsets.US_ASCII);
        Thread dribble = Thread.ofPlatform().daemon().start(() -> {
            for (int i = 0; i < head.length && !stop.get(); i++) {
                for (Socket s : dribblers) {
                    try {
                        s.getOutputStream().write(head[i]);
                    } catch (IOException closedByTheServer) {
                        // what we expect once its head is overdue
                    }
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        ServerTest.waitFor(() -> server.openConnections(ATTACKER) >= 64, () -> "the slow client's sockets are accepted: "
                + server.openConnections(ATTACKER));
        for (int i = 0; i < 10; i++) assertEquals(200, scrape(), "the scraper is answered while the slow client holds its sockets");

        // Their heads are overdue after 3 s (sends one byte at a time or not): each socket is closed by the server.
        ServerTest.waitFor(() -> server.openConnections(ATTACKER) == 0, () -> "slow sockets still open: " + server.openConnections(ATTACKER));
        stop.set(true);
        dribble.join();
        assertTrue(server.timedOutConnections() >= 64, "closed for an overdue head: " + server.timedOutConnections());
        for (Socket s : dribblers) assertClosedByServer(s);
        assertEquals(200, scrape());
        for (Socket s : sockets) s.close();
        sockets.clear();
        ServerTest.waitFor(() -> TestEnv.fdCount() <= fds + 4, () -> "fds " + fds + " -> " + TestEnv.fdCount());
    }

    @Test
    void connectionsBeyondTheBoundsGet503() throws Exception {
        start(new Server.Options().maxConnectionsPerClient(5).maxConnections(8));
        for (int i = 0; i < 5; i++) connect(ATTACKER);
        ServerTest.waitFor(() -> server.openConnections(ATTACKER) == 5, "5 idle sockets");
        String answer = request(connect(ATTACKER));
        assertTrue(answer.startsWith("HTTP/1.1 503 "), answer);
        assertTrue(answer.contains("too many connections (at most 5 from one address, 8 in all; 127.0.0.2 has 6)"), answer);
        assertTrue(answer.toLowerCase().contains("retry-after: 5"), answer);
        // Another address still gets in, up to the total of 8.
        for (int i = 0; i < 2; i++) connect(OTHER);
        ServerTest.waitFor(() -> server.openConnections() == 8, () -> "8 open, not " + server.openConnections());
        answer = request(connect(OTHER));
        assertTrue(answer.startsWith("HTTP/1.1 503 "), "beyond the total: " + answer);
        for (Socket s : sockets) s.close();
        sockets.clear();
        ServerTest.waitFor(() -> server.openConnections() == 0, () -> "open: " + server.openConnections());
        assertEquals(200, scrape());
        assertTrue(server.refusedConnections() >= 2);
    }

    /** A body that does not come in time is answered 408; a keep-alive connection left silent is closed. */
    @Test
    void aLateBodyGets408AndASilentKeepAliveConnectionIsClosed() throws Exception {
        start(new Server.Options().bodyTimeout(Duration.ofSeconds(1)).idleTimeout(Duration.ofSeconds(3)));
        Socket s = connect(OTHER);
        s.setSoTimeout(10_000);
        s.getOutputStream().write(("POST /v1/workers/g/i/stop HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n"
                + "only ten b").getBytes(StandardCharsets.US_ASCII));
        String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(answer.startsWith("HTTP/1.1 408 "), answer);
        assertTrue(answer.endsWith("request body not complete within 1s\n"), answer);

        Socket k = connect(OTHER);
        k.setSoTimeout(10_000);
        k.getOutputStream().write("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        String head = readHead(k.getInputStream());
        assertTrue(head.startsWith("HTTP/1.1 200 "), head);
        int length = Integer.parseInt(ControlSecurityTest.header(head, "Content-Length"));
        assertEquals(length, k.getInputStream().readNBytes(length).length);
        // Kept alive, then nothing more: closed once the next request head is overdue.
        assertClosedByServer(k);
        assertEquals(1, server.timedOutConnections(), "closed for its overdue next request, not by Jetty's longer idle timeout");
        ServerTest.waitFor(() -> server.openConnections() == 0, () -> "open: " + server.openConnections());
    }

    static String readHead(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        while (!b.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) throw new IOException("closed in the head: " + b);
            b.append((char) c);
        }
        return b.toString();
    }

    /** A complete GET /metrics on {@code s}; the answer's head and body as text. */
    static String request(Socket s) throws IOException {
        s.setSoTimeout(10_000);
        s.getOutputStream().write("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    static void assertClosedByServer(Socket s) throws IOException {
        s.setSoTimeout(10_000);
        InputStream in = s.getInputStream();
        try {
            byte[] b = new byte[4096];
            int n;
            while ((n = in.read(b)) > 0) {
                // a 408/400 answer before the close is fine too
            }
            assertEquals(-1, n);
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the server left a slow socket open", e);
        } catch (IOException reset) {
            // closed with unread data: a reset is a close too
        }
    }
}
