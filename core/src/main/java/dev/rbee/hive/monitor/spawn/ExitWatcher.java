package dev.rbee.hive.monitor.spawn;

import dev.rbee.hive.monitor.internal.Backoff;
import dev.rbee.hive.monitor.internal.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.rbee.hive.monitor.internal.Log.LOG;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * Tells when workers exit, ours and adopted ones alike, without polling: one
 * daemon thread blocks in epoll_wait(2) on one epoll set holding every
 * watched pidfd (readable once its process exits) and an eventfd that wakes
 * it to start the fallback checks.  A new pidfd is one epoll_ctl(ADD) from
 * the caller's thread, whatever the number already watched (a poll(2) array
 * rebuilt per registration cost O(N) each, O(N^2) to adopt N workers).
 *
 * <p>It survives errors: a failed epoll_wait(2) is logged and retried; a
 * pidfd the kernel will not watch (epoll_ctl fails) or reports as broken
 * (EPOLLERR without EPOLLIN) is checked with its fallback condition every
 * 100 ms instead.  Thread-safe: {@link #watch} from any thread; callbacks run
 * on the watcher thread ("rbee-exit-watcher") and must not block.
 */
public final class ExitWatcher {
    private static final ExitWatcher SHARED = new ExitWatcher();
    private static final int FALLBACK_PERIOD_MS = 100, BATCH = 64;

    private record Entry(Runnable onExit, Backoff.Condition exited) {}

    private final Map<Integer, Entry> waiting = new HashMap<>();
    private final List<Entry> fallback = new ArrayList<>();
    /** The caller's epoll_event for epoll_ctl; guarded by this. */
    private final MemorySegment ctlEvent = Arena.ofAuto().allocate(Libc.EPOLL_EVENT_SIZE, 8);
    private int epfd = -1, wakeFd = -1;
    private Thread thread;
    /** epoll_ctl calls made by {@link #watch}: counted so a test can show each add costs one, whatever N. */
    private long ctlCalls;

    private ExitWatcher() {}

    public static ExitWatcher shared() {
        return SHARED;
    }

    /**
     * Runs {@code onExit} (on the watcher thread) once the process behind
     * {@code pidfd} has exited; {@code exited} is asked instead if the pidfd
     * cannot be watched (e.g. "the worker's cgroup is empty").
     */
    public synchronized void watch(int pidfd, Runnable onExit, Backoff.Condition exited) {
        start();
        Entry e = new Entry(onExit, exited);
        waiting.put(pidfd, e);
        ctlCalls++;
        int r = Libc.epollCtl(epfd, Libc.EPOLL_CTL_ADD, pidfd, Libc.EPOLLIN, ctlEvent);
        if (r < 0) {
            waiting.remove(pidfd);
            LOG.log(System.Logger.Level.WARNING, "exit watcher: epoll_ctl(ADD, pidfd {0}) failed ({1}); "
                    + "watching that worker by polling instead", pidfd, Libc.errnoName(-r));
            fallback.add(e);
            Libc.eventfdSignal(wakeFd); // the watcher may be blocked without a timeout
        }
    }

    /** epoll_ctl calls {@link #watch} made so far (for tests: one per watched pidfd). */
    synchronized long ctlCalls() {
        return ctlCalls;
    }

    private void start() {
        if (thread != null && thread.isAlive()) return;
        if (epfd < 0) {
            int fd = Libc.epollCreate();
            if (fd < 0) throw new IllegalStateException("epoll_create1: " + Libc.errnoName(-fd));
            epfd = fd;
        }
        if (wakeFd < 0) {
            int fd = Libc.eventfd();
            if (fd < 0) throw new IllegalStateException("eventfd: " + Libc.errnoName(-fd));
            int r = Libc.epollCtl(epfd, Libc.EPOLL_CTL_ADD, fd, Libc.EPOLLIN, ctlEvent);
            if (r < 0) {
                Libc.close(fd);
                throw new IllegalStateException("epoll_ctl(ADD, eventfd " + fd + "): " + Libc.errnoName(-r));
            }
            wakeFd = fd;
        }
        thread = new Thread(this::loop, "rbee-exit-watcher");
        thread.setDaemon(true);
        thread.start();
    }

    private void loop() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment counter = arena.allocate(8);
            MemorySegment events = arena.allocate(Libc.EPOLL_EVENT_SIZE * BATCH, 8);
            MemorySegment delEvent = arena.allocate(Libc.EPOLL_EVENT_SIZE, 8);
            while (true) {
                try {
                    boolean polling;
                    synchronized (this) {
                        polling = !fallback.isEmpty();
                    }
                    int n = Libc.epollWait(epfd, events, BATCH, polling ? FALLBACK_PERIOD_MS : -1);
                    if (n < 0) {
                        if (-n != dev.rbee.hive.monitor.internal.Errno.EINTR)
                            LOG.log(System.Logger.Level.WARNING, "exit watcher: epoll_wait failed ({0}); retrying",
                                    Libc.errnoName(-n));
                        Thread.sleep(FALLBACK_PERIOD_MS);
                        continue;
                    }
                    for (int i = 0; i < n; i++) {
                        int ev = events.get(JAVA_INT_UNALIGNED, Libc.EPOLL_EVENT_SIZE * i);
                        int fd = (int) events.get(JAVA_LONG_UNALIGNED, Libc.EPOLL_EVENT_SIZE * i + Libc.EPOLL_EVENT_DATA);
                        if (fd == wakeFd) {
                            Libc.read(wakeFd, counter);
                            continue;
                        }
                        Entry e;
                        synchronized (this) {
                            e = waiting.remove(fd);
                            // Out of the set before the callback can close the pidfd (and its number be reused).
                            if (e != null) Libc.epollCtl(epfd, Libc.EPOLL_CTL_DEL, fd, 0, delEvent);
                            if (e != null && (ev & Libc.EPOLLIN) == 0 && (ev & Libc.EPOLLERR) != 0) {
                                LOG.log(System.Logger.Level.WARNING, "exit watcher: pidfd {0} is broken (events {1}); "
                                        + "watching that worker by polling instead", fd, ev);
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
            if (fallback.isEmpty()) return;
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
}
