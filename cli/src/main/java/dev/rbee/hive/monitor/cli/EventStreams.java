package dev.rbee.hive.monitor.cli;

import com.sun.net.httpserver.HttpExchange;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The open server-sent-event streams.  Each has a short queue and one virtual
 * thread that writes it, so publishing never blocks: a client that reads
 * slowly loses its oldest events, and one that takes nothing for the stall
 * timeout is disconnected.  A client that went away is dropped when a write
 * to it fails (at the latest two events after it left); then its thread ends
 * and its connection is closed.
 */
final class EventStreams {
    private static final int QUEUE = 4;

    private final int max;
    private final long stallNanos;
    private final byte[] preamble;
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicInteger threads = new AtomicInteger();
    private final AtomicLong ids = new AtomicLong();
    private final Set<Stream> live = ConcurrentHashMap.newKeySet();
    /** The last event, sent first to a new client; guarded by this. */
    private byte[] last;
    private boolean closed;

    EventStreams(int max, Duration interval, Duration stall) {
        this.max = max;
        this.stallNanos = stall.toNanos();
        this.preamble = (": rbee-mon heartbeats: one HiveTelemetry JSON per " + Format.duration(interval)
                + "\nretry: " + Math.max(1000, interval.toMillis()) + "\n\n").getBytes(StandardCharsets.UTF_8);
    }

    /** Takes a place for a new stream; false when there are already {@code max}. */
    boolean reserve() {
        if (open.incrementAndGet() > max) {
            open.decrementAndGet();
            return false;
        }
        return true;
    }

    /** Gives back a place taken by {@link #reserve} that was not used. */
    void release() {
        open.decrementAndGet();
    }

    int open() {
        return open.get();
    }

    int threads() {
        return threads.get();
    }

    /** Starts writing to {@code ex} (its 200 and headers sent, its place reserved): the last event, then every new one. */
    void attach(HttpExchange ex) {
        Stream s = new Stream(ex);
        synchronized (this) {
            if (!closed) {
                live.add(s);
                s.queue.offer(preamble);
                if (last != null) s.queue.offer(last);
            } else {
                s.killed = true;
            }
        }
        threads.incrementAndGet();
        try {
            s.thread = Thread.ofVirtual().name("rbee-sse-" + ids.incrementAndGet()).start(s::run);
        } catch (Throwable t) {
            threads.decrementAndGet();
            s.end();
            throw t;
        }
    }

    /** Queues {@code event} on every stream (never blocks); disconnects the ones stalled too long. */
    synchronized void publish(byte[] event) {
        last = event;
        long now = System.nanoTime();
        for (Stream s : live) {
            s.offer(event);
            if (s.writing && now - s.writingSince > stallNanos) s.kill();
        }
    }

    /** Disconnects every stream and refuses new ones. */
    void closeAll() {
        List<Stream> all;
        synchronized (this) {
            closed = true;
            all = new ArrayList<>(live);
        }
        all.forEach(Stream::kill);
    }

    /** Waits until every writer thread has ended. */
    boolean awaitThreads(Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (threads.get() > 0) {
            if (System.nanoTime() > end) return false;
            Thread.sleep(10);
        }
        return true;
    }

    private final class Stream {
        final HttpExchange ex;
        final ArrayBlockingQueue<byte[]> queue = new ArrayBlockingQueue<>(QUEUE);
        volatile Thread thread;
        volatile boolean writing, killed;
        volatile long writingSince;

        Stream(HttpExchange ex) {
            this.ex = ex;
        }

        /** Queues an event, dropping the oldest one of a client that is behind. */
        void offer(byte[] event) {
            while (!queue.offer(event)) queue.poll();
        }

        /** Interrupting a thread blocked on a socket channel closes the channel: no write can hang on. */
        void kill() {
            killed = true;
            Thread t = thread;
            if (t != null) t.interrupt();
        }

        void run() {
            try {
                OutputStream out = ex.getResponseBody();
                while (!killed) {
                    byte[] b = queue.take();
                    writingSince = System.nanoTime();
                    writing = true;
                    out.write(b);
                    out.flush();
                    writing = false;
                }
            } catch (IOException | InterruptedException e) {
                // the client went away, stalled, or the server is closing
            } finally {
                try {
                    end();
                } finally {
                    threads.decrementAndGet();
                }
            }
        }

        void end() {
            synchronized (EventStreams.this) {
                live.remove(this);
            }
            // A killed stream closes abruptly: with the interrupt status set, the first
            // write of close() closes the channel rather than block on a stalled client.
            if (killed) Thread.currentThread().interrupt();
            else Thread.interrupted();
            try {
                ex.close();
            } finally {
                Thread.interrupted();
                open.decrementAndGet();
            }
        }
    }
}
