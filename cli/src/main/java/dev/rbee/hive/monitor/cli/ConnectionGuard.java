package dev.rbee.hive.monitor.cli;

import org.eclipse.jetty.io.Connection;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Every open connection of the server, with a deadline for its next complete
 * request head: {@code headerTimeout} after the accept, {@code idleTimeout}
 * after each response, none while a request is being answered.  Jetty's idle
 * timeout alone restarts at every byte, so a client that sends one header
 * byte a second would hold its connection forever; {@link #sweep} closes it.
 *
 * <p>Connections beyond {@code maxPerClient} from one address, or beyond
 * {@code maxTotal}, are let in only to be answered 503 (the handler asks
 * {@link #rejected}) and get a short deadline; beyond twice the total they are
 * closed at once.  A client is its IP address.
 */
final class ConnectionGuard implements Connection.Listener {
    private static final long REJECT_DEADLINE_NANOS = Duration.ofSeconds(2).toNanos();

    private final int maxPerClient, maxTotal;
    private final long headerNanos, idleNanos;
    private final Map<Connection, Tracked> open = new ConcurrentHashMap<>();
    private final Map<InetAddress, AtomicInteger> perClient = new ConcurrentHashMap<>();
    private final AtomicInteger total = new AtomicInteger();
    private final AtomicLong timedOut = new AtomicLong(), refused = new AtomicLong();

    private static final class Tracked {
        final InetAddress client;
        final boolean rejected;
        volatile long deadline;
        volatile boolean unbounded;

        Tracked(InetAddress client, boolean rejected, long deadline) {
            this.client = client;
            this.rejected = rejected;
            this.deadline = deadline;
        }
    }

    ConnectionGuard(int maxPerClient, int maxTotal, Duration headerTimeout, Duration idleTimeout) {
        this.maxPerClient = maxPerClient;
        this.maxTotal = maxTotal;
        this.headerNanos = headerTimeout.toNanos();
        this.idleNanos = idleTimeout.toNanos();
    }

    @Override
    public void onOpened(Connection c) {
        InetAddress client = address(c.getEndPoint().getRemoteSocketAddress());
        // Counted inside compute(): atomic with onClosed's removal of a count that fell to 0.
        int fromClient = perClient.compute(client, (k, n) -> {
            AtomicInteger c2 = n == null ? new AtomicInteger() : n;
            c2.incrementAndGet();
            return c2;
        }).get();
        int all = total.incrementAndGet();
        boolean rejected = fromClient > maxPerClient || all > maxTotal;
        if (rejected) refused.incrementAndGet();
        long now = System.nanoTime();
        open.put(c, new Tracked(client, rejected, now + (rejected ? Math.min(REJECT_DEADLINE_NANOS, headerNanos) : headerNanos)));
        // Far beyond the bound, not even a 503: the socket is closed now.
        if (all > 2 * maxTotal) c.getEndPoint().close();
    }

    @Override
    public void onClosed(Connection c) {
        Tracked t = open.remove(c);
        if (t == null) return;
        total.decrementAndGet();
        perClient.computeIfPresent(t.client, (k, n) -> n.decrementAndGet() == 0 ? null : n);
    }

    /** A request head is complete: no deadline while it is answered. */
    void headComplete(Connection c) {
        Tracked t = open.get(c);
        if (t != null) t.unbounded = true;
    }

    /** The response is complete: the next request head is due within the idle timeout. */
    void exchangeDone(Connection c) {
        Tracked t = open.get(c);
        if (t == null) return;
        t.deadline = System.nanoTime() + idleNanos;
        t.unbounded = false;
    }

    /** Whether this connection is over a bound and must be answered 503. */
    boolean rejected(Connection c) {
        Tracked t = open.get(c);
        return t != null && t.rejected;
    }

    /** Closes the connections whose request head is overdue; returns how many. */
    int sweep() {
        long now = System.nanoTime();
        int n = 0;
        for (Map.Entry<Connection, Tracked> e : open.entrySet()) {
            Tracked t = e.getValue();
            if (!t.unbounded && now - t.deadline > 0) {
                timedOut.incrementAndGet(); // before the close: whoever sees the close sees the count
                e.getKey().getEndPoint().close();
                n++;
            }
        }
        return n;
    }

    int open() {
        return total.get();
    }

    int openFrom(InetAddress client) {
        AtomicInteger n = perClient.get(client);
        return n == null ? 0 : n.get();
    }

    /** Connections closed because their request head was overdue, since the start. */
    long timedOut() {
        return timedOut.get();
    }

    /** Connections answered 503 for being over a bound, since the start. */
    long refused() {
        return refused.get();
    }

    int maxPerClient() {
        return maxPerClient;
    }

    int maxTotal() {
        return maxTotal;
    }

    static InetAddress address(SocketAddress a) {
        return a instanceof InetSocketAddress i ? i.getAddress() : InetAddress.getLoopbackAddress();
    }
}
