package dev.rbee.hive.monitor.cli;

import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The open server-sent-event streams and the ring of the last events.
 *
 * <p>Every event has an id {@code EPOCH-SEQ} (EPOCH: this server's start, so
 * that an id of an earlier run is recognised as such).  A stream is a cursor
 * into the ring, written asynchronously (Jetty's non-blocking writes; no
 * thread per stream): after each completed write it sends the next event.  A
 * client that falls out of the ring, by reading too slowly or by reconnecting
 * too late with {@code Last-Event-ID}, gets one {@code event: lost} saying how
 * many events it missed, then carries on from the oldest event kept.  Memory
 * is the ring's alone (bounded by count and bytes), shared by every stream.
 * A client that takes nothing for the stall timeout is dropped by Jetty's
 * idle timeout of its connection.  {@link #closeAll} sends each stream a final
 * {@code event: shutdown} and ends it cleanly.
 */
final class EventStreams {
    private final int max;
    private final int ringEvents;
    private final long ringBytes;
    private final String epoch = Long.toString(System.currentTimeMillis(), 36);
    private final byte[] preamble;
    private final AtomicInteger open = new AtomicInteger();
    private final Set<Stream> live = ConcurrentHashMap.newKeySet();
    /** Guarded by this: the events kept, oldest first, their bytes, the last sequence number given. */
    private final ArrayDeque<Event> ring = new ArrayDeque<>();
    private long bytes;
    private long seq;
    private boolean closed;

    private record Event(long seq, byte[] bytes) {}

    EventStreams(int max, Duration interval, int ringEvents, long ringBytes) {
        this.max = max;
        this.ringEvents = Math.max(1, ringEvents);
        this.ringBytes = ringBytes;
        // A browser waits "retry" ms before it reconnects: one interval, at least a second.
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

    /** The id the next event will have (for tests and the page). */
    synchronized String lastId() {
        return epoch + "-" + seq;
    }

    /** Gives {@code json} the next id, keeps it in the ring and sends it to every stream. */
    void publish(String json) {
        List<Stream> wake;
        synchronized (this) {
            if (closed) return;
            seq++;
            byte[] b = ("id: " + epoch + "-" + seq + "\ndata: " + json + "\n\n").getBytes(StandardCharsets.UTF_8);
            ring.addLast(new Event(seq, b));
            bytes += b.length;
            while (ring.size() > 1 && (ring.size() > ringEvents || bytes > ringBytes)) bytes -= ring.removeFirst().bytes.length;
            wake = new ArrayList<>(live);
        }
        for (Stream s : wake) s.pump();
    }

    /**
     * Starts a stream on {@code response} (status and headers set, place
     * reserved); {@code done} is completed when it ends.  Without
     * {@code lastEventId} it starts with the newest event; with one, with the
     * event after it (or a {@code lost} event first, when that one is gone).
     */
    void attach(Response response, Callback done, Optional<String> lastEventId) {
        Stream s = new Stream(response, done);
        synchronized (this) {
            s.extra.add(preamble);
            if (closed) {
                s.ending = true;
            } else {
                live.add(s);
                s.next = lastEventId.isPresent() ? resume(s, lastEventId.get()) : ring.isEmpty() ? seq + 1 : ring.peekLast().seq;
            }
        }
        s.pump();
    }

    /** Where a client that saw {@code id} goes on, with a lost event queued when events are gone. Guarded by this. */
    private long resume(Stream s, String id) {
        int dash = id.lastIndexOf('-');
        long seen = -1;
        if (dash > 0 && id.substring(0, dash).equals(epoch)) {
            try {
                seen = Long.parseLong(id.substring(dash + 1).strip());
            } catch (NumberFormatException e) {
                seen = -1;
            }
        }
        if (seen < 0 || seen > seq) {
            s.extra.add(lost("{\"reason\":\"Last-Event-ID " + jsonEscape(Server.shorten(id))
                    + " is not from this server's run (it restarted, or the id is not ours): events may be missing\"}"));
            return ring.isEmpty() ? seq + 1 : ring.peekFirst().seq;
        }
        long oldest = ring.isEmpty() ? seq + 1 : ring.peekFirst().seq;
        if (seen + 1 < oldest) s.extra.add(lostCount(oldest - seen - 1, id));
        return Math.max(seen + 1, oldest);
    }

    private static byte[] lost(String json) {
        return ("event: lost\ndata: " + json + "\n\n").getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] lostCount(long n, String after) {
        return lost("{\"missed\":" + n + ",\"after_id\":\"" + jsonEscape(after) + "\"}");
    }

    private static String jsonEscape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    /** Ends every stream with a final "shutdown" event and refuses new ones; waits up to {@code timeout}, then cuts the rest. */
    void closeAll(Duration timeout) throws InterruptedException {
        List<Stream> all;
        synchronized (this) {
            closed = true;
            all = new ArrayList<>(live);
        }
        byte[] last = ("event: shutdown\ndata: {\"reason\":\"rbee-mon serve is shutting down\"}\n\n").getBytes(StandardCharsets.UTF_8);
        for (Stream s : all) {
            synchronized (this) {
                s.extra.add(last);
                s.ending = true;
            }
            s.pump();
        }
        long end = System.nanoTime() + timeout.toNanos();
        while (open.get() > 0 && System.nanoTime() < end) Thread.sleep(10);
        // Clients that do not read: their connections are closed, which fails their pending write.
        for (Stream s : new ArrayList<>(live)) s.abort();
    }

    private final class Stream {
        final Response response;
        final Callback done;
        /** Guarded by EventStreams.this: notes to send before the next event, the next event's seq, state. */
        final ArrayDeque<byte[]> extra = new ArrayDeque<>();
        long next;
        boolean writing, ending, finished;
        final java.util.concurrent.atomic.AtomicBoolean ended = new java.util.concurrent.atomic.AtomicBoolean();

        Stream(Response response, Callback done) {
            this.response = response;
            this.done = done;
        }

        /** Writes what is due, unless a write is in flight (its completion pumps again). */
        void pump() {
            byte[] b;
            boolean last = false;
            synchronized (EventStreams.this) {
                if (writing || finished) return;
                b = extra.pollFirst();
                if (b == null && !ending) b = nextEvent();
                if (b == null && ending) {
                    last = true;
                    finished = true;
                }
                if (b == null && !last) return;
                writing = true;
            }
            ByteBuffer buf = last ? ByteBuffer.allocate(0) : ByteBuffer.wrap(b);
            boolean isLast = last;
            response.write(isLast, buf, new Callback() {
                @Override
                public void succeeded() {
                    synchronized (EventStreams.this) {
                        writing = false;
                    }
                    if (isLast) end(null);
                    else pump();
                }

                @Override
                public void failed(Throwable x) {
                    synchronized (EventStreams.this) {
                        writing = false;
                        finished = true;
                    }
                    end(x);
                }
            });
        }

        /** The event at the cursor; when the cursor fell out of the ring, a lost event first. Guarded by EventStreams.this. */
        private byte[] nextEvent() {
            if (ring.isEmpty() || next > ring.peekLast().seq) return null;
            long oldest = ring.peekFirst().seq;
            if (next < oldest) {
                byte[] note = lostCount(oldest - next, epoch + "-" + (next - 1));
                next = oldest;
                return note;
            }
            Iterator<Event> it = ring.descendingIterator();
            while (it.hasNext()) {
                Event e = it.next();
                if (e.seq == next) {
                    next++;
                    return e.bytes;
                }
            }
            return null;
        }

        void abort() {
            end(new java.io.IOException("the client did not take the final event in time"));
        }

        /** Once per stream: completes the exchange (cleanly or not) and frees its place. */
        private void end(Throwable failure) {
            if (!ended.compareAndSet(false, true)) return;
            live.remove(this);
            try {
                if (failure == null) done.succeeded();
                else done.failed(failure);
            } finally {
                open.decrementAndGet();
            }
        }
    }
}
