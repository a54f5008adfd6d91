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
 * thread at a time blocks in epoll_wait(2) on one epoll set holding every
 * watched pidfd (readable once its process exits) and an eventfd that wakes
 * it to start the fallback checks.  A new pidfd is one epoll_ctl(ADD) from
 * the caller's thread, whatever the number already watched (a poll(2) array
 * rebuilt per registration cost O(N) each, O(N^2) to adopt N workers).
 *
 * <p>The watching moves (leader/follower): the thread that wakes with exits
 * hands the epoll_wait on to another thread of its pool first, then runs the
 * exits' callbacks itself, the first one on its own stack, any others of the
 * same batch on further pool threads.  So the end-of-life work that follows an
 * exit (the backend's reaper stage) runs on the thread that saw it, already
 * scheduled, instead of waiting for a hand-off to another thread; and a
 * callback that blocks delays no other exit.  {@link #mayBlockHere} tells a
 * callback that it runs on such a thread.
 *
 * <p>It survives errors: a failed epoll_wait(2) is logged and retried; a
 * pidfd the kernel will not watch (epoll_ctl fails) or reports as broken
 * (EPOLLERR without EPOLLIN) is checked with its fallback condition every
 * 100 ms instead (that check runs while watching: it must not block); if no
 * thread can be started to take the watching over, the callbacks run on the
 * watching thread, as fallbacks do.  Thread-safe: {@link #watch} from any
 * thread.  Threads: the one watching is named "rbee-exit-watcher", the others
 * "rbee-reaper"; they go after 2 s idle.
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
    /** Whether a thread is in (or on its way to) the watching loop; guarded by this. */
    private boolean watching;
    /** epoll_ctl calls made by {@link #watch}: counted so a test can show each add costs one, whatever N. */
    private long ctlCalls;

    private ExitWatcher() {}

    /** A pool thread; {@code watching} while it runs the loop, so that callbacks know they may block. */
    private static final class ExitThread extends Thread {
        volatile boolean watching;

        ExitThread(Runnable r) {
            super(r, REAPER_NAME);
            setDaemon(true);
        }
    }

    private static final String WATCHER_NAME = "rbee-exit-watcher", REAPER_NAME = "rbee-reaper";
    /** Threads come for exits at once and go after 2 s idle: none is kept per worker. */
    private static final java.util.concurrent.ExecutorService THREADS = new java.util.concurrent.ThreadPoolExecutor(0,
            Integer.MAX_VALUE, 2, java.util.concurrent.TimeUnit.SECONDS, new java.util.concurrent.SynchronousQueue<>(),
            ExitThread::new);

    /**
     * Whether the current thread runs exit callbacks and has handed the watching on (so it may block: the
     * end-of-life work can run right here instead of on another thread).
     */
    public static boolean mayBlockHere() {
        return Thread.currentThread() instanceof ExitThread t && !t.watching;
    }

    /**
     * Runs {@code task} on a thread of this pool (where {@link #mayBlockHere} holds): the backends' end-of-life
     * work when it does not start on the thread that saw the exit.
     *
     * @throws java.util.concurrent.RejectedExecutionException if no thread can be started
     */
    public static void execute(Runnable task) {
        THREADS.execute(task);
    }

    /** Runs {@code task} on a pool thread; false if none could be started. */
    private static boolean submit(Runnable task) {
        try {
            THREADS.execute(task);
            return true;
        } catch (RuntimeException | OutOfMemoryError e) { // RejectedExecution, or "unable to create native thread"
            LOG.log(System.Logger.Level.WARNING, "exit watcher: cannot start a thread ({0})", e.toString());
            return false;
        }
    }

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
        if (watching) return;
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
        watching = true;
        if (!submit(this::loop)) {
            watching = false;
            throw new IllegalStateException("exit watcher: cannot start its thread");
        }
    }

    /** The watching, on a pool thread, until a batch of exits makes this thread hand it on. */
    private void loop() {
        ExitThread self = (ExitThread) Thread.currentThread();
        self.setName(WATCHER_NAME);
        self.watching = true;
        List<Entry> due = null;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment counter = arena.allocate(8);
            MemorySegment events = arena.allocate(Libc.EPOLL_EVENT_SIZE * BATCH, 8);
            MemorySegment delEvent = arena.allocate(Libc.EPOLL_EVENT_SIZE, 8);
            while (due == null) {
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
                        if (e != null) (due == null ? due = new ArrayList<>(2) : due).add(e);
                    }
                    due = checkFallback(due);
                    if (due != null && !handOn()) { // no thread to watch next: the callbacks run here, as before
                        for (Entry e : due) run(e);
                        due = null;
                    }
                } catch (InterruptedException e) {
                    return;
                } catch (Throwable t) {
                    // one broken round must not stop exit detection for every other worker
                    LOG.log(System.Logger.Level.ERROR, "exit watcher: round failed; continuing", t);
                }
            }
        }
        // No longer watching: this batch's exits, here and on further threads.
        for (int i = 1; i < due.size(); i++) {
            Entry e = due.get(i);
            if (!submit(() -> run(e))) run(e);
        }
        run(due.get(0));
    }

    /** Gives the watching to another pool thread; false (and still watching) if none could be started. */
    private boolean handOn() {
        ExitThread self = (ExitThread) Thread.currentThread();
        self.setName(REAPER_NAME); // first: never two threads named the watcher
        self.watching = false;
        if (submit(this::loop)) return true;
        self.setName(WATCHER_NAME);
        self.watching = true;
        return false;
    }

    /** Adds to {@code due} the fallback entries whose condition now holds (checked while watching). */
    private List<Entry> checkFallback(List<Entry> due) {
        List<Entry> check;
        synchronized (this) {
            if (fallback.isEmpty()) return due;
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
            (due == null ? due = new ArrayList<>(2) : due).add(e);
        }
        return due;
    }

    private static void run(Entry e) {
        try {
            e.onExit().run();
        } catch (RuntimeException ex) {
            LOG.log(System.Logger.Level.ERROR, "exit callback failed", ex);
        }
    }
}
