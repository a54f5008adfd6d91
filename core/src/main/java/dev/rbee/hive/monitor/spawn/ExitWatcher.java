package dev.rbee.hive.monitor.spawn;

import dev.rbee.hive.monitor.internal.Errno;
import dev.rbee.hive.monitor.internal.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Tells when processes that are not our children exit (workers adopted after
 * a restart), without polling: one daemon thread blocks in poll(2) on their
 * pidfds, which become readable when the process exits, and on an eventfd
 * that wakes it for new registrations.
 */
public final class ExitWatcher {
    private static final ExitWatcher SHARED = new ExitWatcher();

    private final Map<Integer, Runnable> waiting = new LinkedHashMap<>();
    private int wakeFd = -1;
    private Thread thread;

    private ExitWatcher() {}

    public static ExitWatcher shared() {
        return SHARED;
    }

    /** Runs {@code onExit} (on the watcher thread) once the process behind {@code pidfd} has exited. */
    public synchronized void watch(int pidfd, Runnable onExit) {
        if (thread == null) {
            wakeFd = Libc.eventfd();
            if (wakeFd < 0) throw new IllegalStateException("eventfd: " + Libc.errnoName(-wakeFd));
            thread = new Thread(this::loop, "rbee-exit-watcher");
            thread.setDaemon(true);
            thread.start();
        }
        waiting.put(pidfd, onExit);
        Libc.eventfdSignal(wakeFd);
    }

    private void loop() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment counter = arena.allocate(8);
            MemorySegment fds = arena.allocate(8);
            int capacity = 1;
            while (true) {
                List<Integer> watched;
                synchronized (this) {
                    watched = new ArrayList<>(waiting.keySet());
                }
                if (watched.size() + 1 > capacity) {
                    capacity = Math.max(capacity * 2, watched.size() + 1);
                    fds = arena.allocate(8L * capacity);
                }
                setPollFd(fds, 0, wakeFd);
                for (int i = 0; i < watched.size(); i++) setPollFd(fds, i + 1, watched.get(i));
                int n = Libc.poll(fds, watched.size() + 1, -1);
                if (n < 0 && -n != Errno.EINTR) throw new IllegalStateException("poll: " + Libc.errnoName(-n));
                if (n <= 0) continue;
                if (fds.get(JAVA_SHORT, 6) != 0) Libc.read(wakeFd, counter);
                for (int i = 0; i < watched.size(); i++) {
                    if (fds.get(JAVA_SHORT, 8L * (i + 1) + 6) == 0) continue;
                    Runnable r;
                    synchronized (this) {
                        r = waiting.remove(watched.get(i));
                    }
                    if (r == null) continue;
                    try {
                        r.run();
                    } catch (RuntimeException e) {
                        // one broken callback must not stop exit detection for every other worker
                        System.getLogger("dev.rbee.hive.monitor").log(System.Logger.Level.ERROR, "exit callback failed", e);
                    }
                }
            }
        }
    }

    private static void setPollFd(MemorySegment fds, int i, int fd) {
        fds.set(JAVA_INT, 8L * i, fd);
        fds.set(JAVA_SHORT, 8L * i + 4, (short) Libc.POLLIN);
        fds.set(JAVA_SHORT, 8L * i + 6, (short) 0);
    }
}
