package dev.rbee.hive.monitor.cli;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpPrincipal;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The stream bookkeeping with exchanges whose body blocks (a stalled client) or records (a reading one). */
class EventStreamsTest {
    static byte[] event(int n) {
        return ("data: {\"n\":" + n + "}\n\n").getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aStalledClientIsDroppedAfterTheStallTimeoutAndTheOthersGoOn() throws Exception {
        EventStreams streams = new EventStreams(10, Duration.ofMillis(100), Duration.ofMillis(300));
        FakeExchange stalled = new FakeExchange(true), reading = new FakeExchange(false);
        for (FakeExchange ex : new FakeExchange[] {stalled, reading}) {
            assertTrue(streams.reserve());
            streams.attach(ex);
        }
        streams.publish(event(1));
        assertTrue(stalled.blocked.await(5, java.util.concurrent.TimeUnit.SECONDS), "the stalled client's write blocks");
        for (int n = 2; n < 10 && streams.open() == 2; n++) {
            Thread.sleep(100);
            streams.publish(event(n)); // never blocks, though one client does not read
        }
        ServerTest.waitFor(() -> streams.open() == 1 && streams.threads() == 1, "the stalled stream dropped");
        assertTrue(stalled.closed.get(), "its exchange closed");
        assertFalse(reading.closed.get());
        streams.publish(event(99));
        ServerTest.waitFor(() -> reading.body().contains("\"n\":99"), "the reading client still gets events");
        assertTrue(reading.body().startsWith(": rbee-mon heartbeats"), reading.body());
        streams.closeAll();
        assertTrue(streams.awaitThreads(Duration.ofSeconds(5)));
        assertEquals(0, streams.open());
        assertTrue(reading.closed.get());
    }

    @Test
    void aSlowClientLosesOldEventsNotNewOnes() throws Exception {
        EventStreams streams = new EventStreams(10, Duration.ofMillis(100), Duration.ofSeconds(30));
        FakeExchange slow = new FakeExchange(true);
        assertTrue(streams.reserve());
        streams.attach(slow);
        assertTrue(slow.blocked.await(5, java.util.concurrent.TimeUnit.SECONDS));
        for (int n = 0; n < 100; n++) streams.publish(event(n));
        slow.release.countDown(); // the client reads again
        ServerTest.waitFor(() -> slow.body().contains("\"n\":99"), "the newest event arrives");
        assertFalse(slow.body().contains("\"n\":50}"), "old events were dropped, not queued without bound");
        streams.closeAll();
        assertTrue(streams.awaitThreads(Duration.ofSeconds(5)));
    }

    @Test
    void theLimitHolds() {
        EventStreams streams = new EventStreams(2, Duration.ofSeconds(1), Duration.ofSeconds(30));
        assertTrue(streams.reserve());
        assertTrue(streams.reserve());
        assertFalse(streams.reserve());
        streams.release();
        assertTrue(streams.reserve());
        assertEquals(2, streams.open());
    }

    /** An exchange whose body records what is written; a "stalled" one blocks its first write until released or interrupted. */
    static final class FakeExchange extends HttpExchange {
        final boolean stall;
        final CountDownLatch blocked = new CountDownLatch(1), release = new CountDownLatch(1);
        final AtomicBoolean closed = new AtomicBoolean();
        final ByteArrayOutputStream written = new ByteArrayOutputStream();
        final OutputStream out = new OutputStream() {
            @Override
            public void write(int b) throws InterruptedIOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws InterruptedIOException {
                if (stall && release.getCount() > 0) {
                    blocked.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        throw new InterruptedIOException("interrupted while blocked");
                    }
                }
                synchronized (written) {
                    written.write(b, off, len);
                }
            }
        };

        FakeExchange(boolean stall) {
            this.stall = stall;
        }

        String body() {
            synchronized (written) {
                return written.toString(StandardCharsets.UTF_8);
            }
        }

        @Override public Headers getRequestHeaders() { return new Headers(); }
        @Override public Headers getResponseHeaders() { return new Headers(); }
        @Override public URI getRequestURI() { return URI.create(Server.STREAM); }
        @Override public String getRequestMethod() { return "GET"; }
        @Override public HttpContext getHttpContext() { return null; }
        @Override public void close() { closed.set(true); }
        @Override public InputStream getRequestBody() { return InputStream.nullInputStream(); }
        @Override public OutputStream getResponseBody() { return out; }
        @Override public void sendResponseHeaders(int rCode, long responseLength) {}
        @Override public InetSocketAddress getRemoteAddress() { return new InetSocketAddress("127.0.0.1", 1); }
        @Override public int getResponseCode() { return 200; }
        @Override public InetSocketAddress getLocalAddress() { return new InetSocketAddress("127.0.0.1", 2); }
        @Override public String getProtocol() { return "HTTP/1.1"; }
        @Override public Object getAttribute(String name) { return null; }
        @Override public void setAttribute(String name, Object value) {}
        @Override public void setStreams(InputStream i, OutputStream o) {}
        @Override public HttpPrincipal getPrincipal() { return null; }
    }
}
