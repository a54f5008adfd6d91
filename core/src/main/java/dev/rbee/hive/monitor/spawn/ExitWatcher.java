package dev.rbee.hive.monitor.spawn;

import dev.rbee.hive.monitor.internal.Backoff;
import dev.rbee.hive.monitor.internal.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.rbee.hive.monitor.internal.Log.LOG;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Tells when workers exit, ours and adopted ones alike, without polling: one
 * daemon thread blocks in poll(2) on their pidfds, which become readable when
 * the process exits, and on an eventfd that wakes it for new registrations.
 *
 * <p>It survives errors: a failed poll(2) is logged and retried; a pidfd the
 * kernel reports as broken (POLLERR, POLLNVAL) is dropped from poll(2) and
 * that one worker is checked with its fallback condition every 100 ms
 * instead.  Thread-safe: {@link #watch} from any thread; callbacks run on the
 * watcher thread ("rbee-exit-watcher") and must not block.
 */
public final class ExitWatcher {
    private static final ExitWatcher SHARED = new ExitWatcher();
    private static final int POLLERR = 0x8, POLLNVAL = 0x20, FALLBACK_PERIOD_MS = 100;

    private record Entry(Runnable onExit, Backoff.Condition exited) {}

    private final Map<Integer, Entry> waiting = new LinkedHashMap<>();
    private final List<Entry> fallback = new ArrayList<>();
    private int wakeFd = -1;
    private Thread thread;

    private ExitWatcher() {}

    public static ExitWatcher shared() {
        return SHARED;
    }

    /**
     * Runs {@code onExit} (on the watcher thread) once the process behind
     * {@code pidfd} has exited; {@code exited} is asked instead if the pidfd
     * cannot be polled (e.g. "the worker's cgroup is empty").
     */
    public synchronized void watch(int pidfd, Runnable onExit, Backoff.Condition exited) {
        if (thread == null || !thread.isAlive()) {
            if (wakeFd < 0) wakeFd = Libc.eventfd();
            if (wakeFd < 0) throw new IllegalStateException("eventfd: " + Libc.errnoName(-wakeFd));
            thread = new Thread(this::loop, "rbee-exit-watcher");
            thread.setDaemon(true);
            thread.start();
        }
        waiting.put(pidfd, new Entry(onExit, exited));
        Libc.eventfdSignal(wakeFd);
    }

    private void loop() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment counter = arena.allocate(8);
            MemorySegment fds = arena.allocate(8);
            int capacity = 1;
            while (true) {
                try {
                    List<Integer> watched;
                    boolean polling;
                    synchronized (this) {
                        watched = new ArrayList<>(waiting.keySet());
                        polling = !fallback.isEmpty();
                    }
                    if (watched.size() + 1 > capacity) {
                        capacity = Math.max(capacity * 2, watched.size() + 1);
                        fds = arena.allocate(8L * capacity);
                    }
                    setPollFd(fds, 0, wakeFd);
                    for (int i = 0; i < watched.size(); i++) setPollFd(fds, i + 1, watched.get(i));
                    int n = Libc.poll(fds, watched.size() + 1, polling ? FALLBACK_PERIOD_MS : -1);
                    if (n < 0) {
                        LOG.log(System.Logger.Level.WARNING, "exit watcher: poll failed ({0}); retrying", Libc.errnoName(-n));
                        Thread.sleep(FALLBACK_PERIOD_MS);
                        continue;
                    }
                    if (fds.get(JAVA_SHORT, 6) != 0) Libc.read(wakeFd, counter);
                    for (int i = 0; i < watched.size(); i++) {
                        short revents = fds.get(JAVA_SHORT, 8L * (i + 1) + 6);
                        if (revents == 0) continue;
                        Entry e;
                        synchronized (this) {
                            e = waiting.remove(watched.get(i));
                            if (e != null && (revents & (POLLERR | POLLNVAL)) != 0) {
                                LOG.log(System.Logger.Level.WARNING, "exit watcher: pidfd {0} is broken (revents {1}); "
                                        + "watching that worker by polling instead", watched.get(i), revents);
                                fallback.add(e);
                                e = null;
                            }
                        }
                        if (e != null) run(e);
                    }
                    checkFallback();
                } catch (InterruptedException e) {
                    return;
                } catch (Throwable t) {
                    // one broken round must not stop exit detection for every other worker
                    LOG.log(System.Logger.Level.ERROR, "exit watcher: round failed; continuing", t);
                }
            }
        }
    }

    private void checkFallback() {
        List<Entry> check;
        synchronized (this) {
            check = new ArrayList<>(fallback);
        }
        for (Entry e : check) {
            boolean gone;
            try {
                gone = e.exited().holds();
            } catch (Exception ex) {
                gone = false;
            }
            if (!gone) continue;
            synchronized (this) {
                fallback.remove(e);
            }
            run(e);
        }
    }

    private static void run(Entry e) {
        try {
            e.onExit().run();
        } catch (RuntimeException ex) {
            LOG.log(System.Logger.Level.ERROR, "exit callback failed", ex);
        }
    }

    private static void setPollFd(MemorySegment fds, int i, int fd) {
        fds.set(JAVA_INT, 8L * i, fd);
        fds.set(JAVA_SHORT, 8L * i + 4, (short) Libc.POLLIN);
        fds.set(JAVA_SHORT, 8L * i + 6, (short) 0);
    }
}
