package dev.rbee.hive.monitor.spawn;

import dev.rbee.hive.monitor.internal.Errno;
import dev.rbee.hive.monitor.internal.Libc;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The launcher's status channel: a listening unix socket in the abstract
 * namespace (no file, so a killed supervisor leaves none behind), accepting
 * only the launcher it started (SO_PEERCRED pid), and reading its report to
 * end-of-file together with the pidfd it passes (SCM_RIGHTS).
 *
 * <p>One per spawn, used by the spawning thread only.
 */
final class StatusSocket implements AutoCloseable {
    private static final int MAX_MESSAGE = 512;

    private final int fd;
    private final String name;

    private StatusSocket(int fd, String name) {
        this.fd = fd;
        this.name = name;
    }

    static StatusSocket open() throws IOException {
        int errno = 0;
        for (int attempt = 0; attempt < 3; attempt++) {
            String name = "rbee-launch/" + ProcessHandle.current().pid() + "/"
                    + Long.toHexString(ThreadLocalRandom.current().nextLong());
            int fd = Libc.listenAbstract(name);
            if (fd >= 0) return new StatusSocket(fd, name);
            errno = -fd; // EADDRINUSE: 64 random bits collided; try another name
        }
        throw new IOException("cannot listen on an abstract unix socket for the launcher's status: " + Libc.errnoName(errno));
    }

    /** The launcher's --status-socket argument. */
    String address() {
        return "@" + name;
    }

    /** The launcher's report, and the pidfd it sent (-1 if none: then the caller owns nothing to close). */
    record Message(String text, int pidfd) {
        void closePidfd() {
            if (pidfd >= 0) Libc.close(pidfd);
        }
    }

    /** Waits for {@code launcher} to connect, then reads until end-of-file (exec, or its exit). */
    Message await(Process launcher, long timeoutMillis) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        int conn = -1;
        int pidfd = -1;
        try {
            while (conn < 0) {
                if (System.nanoTime() > deadline) throw new IOException("no connection from the launcher within " + timeoutMillis + " ms");
                boolean alive = launcher.isAlive();
                waitReadable(fd, 20);
                int c = Libc.accept(fd);
                if (c >= 0) {
                    // Anyone on this host can connect to an abstract name: listen to our launcher only.
                    if (Libc.peerPid(c) == launcher.pid()) conn = c;
                    else Libc.close(c);
                } else if (-c != Errno.EAGAIN) {
                    throw new IOException("accept on the status socket: " + Libc.errnoName(-c));
                } else if (!alive) {
                    return new Message("", -1); // it ended without connecting (checked before this last accept)
                }
            }
            ByteArrayOutputStream text = new ByteArrayOutputStream();
            int[] errno = new int[1];
            while (true) {
                if (System.nanoTime() > deadline) throw new IOException("no exec within " + timeoutMillis + " ms");
                if (!waitReadable(conn, 20)) continue;
                Libc.Received r = Libc.receive(conn, MAX_MESSAGE, errno);
                if (r == null) {
                    if (errno[0] == Errno.EINTR || errno[0] == Errno.EAGAIN) continue;
                    throw new IOException("reading the launcher's status: " + Libc.errnoName(errno[0]));
                }
                for (int f : r.fds()) {
                    if (pidfd < 0) pidfd = f;
                    else Libc.close(f);
                }
                if (r.data().length == 0) {
                    Message m = new Message(text.toString(StandardCharsets.US_ASCII), pidfd);
                    pidfd = -1;
                    return m;
                }
                text.write(r.data(), 0, r.data().length);
                if (text.size() > MAX_MESSAGE) throw new IOException("launcher status message too long");
            }
        } finally {
            if (conn >= 0) Libc.close(conn);
            if (pidfd >= 0) Libc.close(pidfd);
        }
    }

    /** poll(2) for input on one fd; whether it is readable (or hung up) within the time. */
    private static boolean waitReadable(int fd, int timeoutMillis) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(8, 4);
            p.set(JAVA_INT, 0, fd);
            p.set(JAVA_SHORT, 4, (short) Libc.POLLIN);
            return Libc.poll(p, 1, timeoutMillis) > 0;
        }
    }

    @Override
    public void close() {
        Libc.close(fd);
    }
}
