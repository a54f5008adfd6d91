package dev.rbee.hive.monitor;

import dev.rbee.hive.monitor.model.ExitReport;
import dev.rbee.hive.monitor.model.ExitStatus;
import dev.rbee.hive.monitor.model.MonitorConfig;
import dev.rbee.hive.monitor.cgroup.Leaf;
import dev.rbee.hive.monitor.internal.Errno;
import dev.rbee.hive.monitor.internal.Libc;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A running worker: one this monitor spawned (its program was already exec'd
 * inside its cgroup when {@link ProcessMonitor#spawn} returned), one it took
 * over after its owner died ({@link #adopted()}), or one another live process
 * owns that this monitor only observes ({@link #owned()} false: it can stop it,
 * and its owner cleans up).
 *
 * <p>A worker's life is named by what cannot be reused: its leaf's cgroup id
 * and a pidfd of its main process, opened by the launcher before exec.
 * Signals go through that pidfd, so they can never reach another process that
 * later got the same pid; the tree is killed through its own cgroup's
 * cgroup.kill (see docs/identity.md).
 *
 * <p>Thread-safe: any thread may stop, kill or query it.  {@link #onExit()}
 * completes on the monitor's reaper thread ("rbee-reaper"); callbacks attached
 * without an executor run there, so they should not block for long.
 */
public final class Worker {
    private static final int SIGTERM = 15, SIGKILL = 9;

    private final long pid;
    private final Optional<Process> process;
    private final Optional<MonitorConfig> monitoring;
    private final Optional<Leaf> leaf;
    /** Its processes: the cgroup, or (process-tree backend) its session and descendants. */
    final Optional<Tree> tree;
    private final Instant startedAt;
    /** Completes when the main process has exited (with its status, if known). */
    final CompletableFuture<Optional<ExitStatus>> mainExit = new CompletableFuture<>();
    /** Completes after the end-of-life work: final figures read, cgroup removed. */
    final CompletableFuture<ExitReport> report = new CompletableFuture<>();
    private int pidfd;
    volatile boolean killedByStop;

    Worker(long pid, int pidfd, Optional<Process> process, Placement where, Instant startedAt) {
        this.pid = pid;
        this.pidfd = pidfd;
        this.process = process;
        this.monitoring = where.id();
        this.leaf = where.leaf();
        this.tree = where.members();
        this.startedAt = startedAt;
    }

    /**
     * The main process.
     *
     * @return its pid (signals go through its pidfd, never to this number)
     */
    public long pid() {
        return pid;
    }

    /**
     * The worker's id and limits, for a monitored worker.
     *
     * @return its {@code group/instance}; empty for a plain spawn
     */
    public Optional<MonitorConfig> monitoring() {
        return monitoring;
    }

    /**
     * The cgroup directory the worker lives in (monitored workers only).
     *
     * @return its leaf; empty for a plain spawn or another backend
     */
    public Optional<Path> cgroup() {
        return leaf.map(Leaf::path);
    }

    /**
     * The cgroup id of this life's leaf (its directory's inode; a leaf made again for a successor has another).
     *
     * @return the id; empty without a cgroup
     */
    public java.util.OptionalLong cgroupId() {
        return leaf.isPresent() ? java.util.OptionalLong.of(leaf.get().id()) : java.util.OptionalLong.empty();
    }

    Optional<Leaf> leaf() {
        return leaf;
    }

    /**
     * Whether this monitor owns the worker (spawned or took it over): then it
     * cleans up at the end.  False for a worker another live process owns.
     *
     * @return whether this monitor owns it
     */
    public boolean owned() {
        return leaf.map(Leaf::owner).orElse(true);
    }

    /**
     * When the main process started.
     *
     * @return its start time (from /proc for an adopted worker)
     */
    public Instant startedAt() {
        return startedAt;
    }

    /**
     * The JDK process (streams, waitFor) for a worker this monitor spawned; empty for an adopted one.
     *
     * @return the process
     */
    public Optional<Process> process() {
        return process;
    }

    /**
     * Whether this monitor found the worker running (took it over, or observes it) rather than spawning it.
     *
     * @return true for an adopted worker
     */
    public boolean adopted() {
        return process.isEmpty();
    }

    /**
     * Whether the main process is still running.
     *
     * @return false once it has exited
     */
    public boolean isAlive() {
        return !mainExit.isDone();
    }

    /**
     * Completes once the worker has ended and been cleaned up: the rest of its
     * process tree killed, its final figures read and its cgroup removed.
     *
     * @return the future of the exit report (completed on an "rbee-reaper" thread)
     */
    public CompletableFuture<ExitReport> onExit() {
        return report;
    }

    /**
     * Stops the worker: SIGTERM to the main process, up to {@code grace} for it
     * to exit, then SIGKILL to the whole tree through its cgroup.  A worker
     * that has already ended is not an error: its report comes back.
     *
     * @param grace how long SIGTERM has before the tree is killed
     * @return how it ended
     * @throws IOException          if it cannot be signalled or killed
     * @throws InterruptedException if interrupted while waiting for its end
     */
    public ExitReport stop(Duration grace) throws IOException, InterruptedException {
        return stop(grace, false);
    }

    /**
     * As {@link #stop(Duration)}; with {@code signalAll}, SIGTERM goes to every process of the cgroup.
     *
     * @param grace     how long SIGTERM has before the tree is killed
     * @param signalAll whether every process gets SIGTERM, not only the main one
     * @return how it ended
     * @throws IOException          if it cannot be signalled or killed
     * @throws InterruptedException if interrupted while waiting for its end
     */
    public ExitReport stop(Duration grace, boolean signalAll) throws IOException, InterruptedException {
        if (grace.isNegative()) throw new IllegalArgumentException("grace must not be negative: " + grace);
        if (isAlive()) {
            signalMain(SIGTERM);
            if (signalAll && tree.isPresent()) tree.get().signalAll(SIGTERM);
            try {
                // A grace too long to count in milliseconds is forever (never a wrap-around to SIGKILL at once).
                long ms = grace.compareTo(Duration.ofDays(365_000)) > 0 ? Long.MAX_VALUE / 2 : grace.toMillis();
                mainExit.get(ms, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                kill();
            } catch (ExecutionException e) {
                throw new IllegalStateException(e.getCause());
            }
        }
        return awaitReport();
    }

    /**
     * SIGKILL to the whole tree at once (cgroup.kill), or to the main process
     * of a plain spawn.  Nothing to do, and no error, once the worker has ended.
     *
     * @throws IOException if the kill cannot be written
     */
    public void kill() throws IOException {
        if (report.isDone() || (!isAlive() && tree.isEmpty())) return;
        killedByStop = true;
        try {
            if (tree.isPresent()) tree.get().killAll();
            else signalMain(SIGKILL);
        } catch (IOException e) {
            // The cgroup went away while we killed (the tree died and was cleaned up): already stopped.
            if (report.isDone() || leaf.isPresent() && !leaf.get().isCurrent()) return;
            throw e;
        }
    }

    private ExitReport awaitReport() throws InterruptedException {
        try {
            return report.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("end-of-life work failed for " + this, e.getCause());
        }
    }

    /** Sends {@code sig} through the pidfd; a process that already exited is not an error. */
    synchronized void signalMain(int sig) throws IOException {
        if (pidfd < 0) {
            // No pidfd (portable backend, or an exit before pidfd_open): the JDK's handle, which knows TERM and KILL.
            process.ifPresent(p -> { if (sig == SIGKILL) p.toHandle().destroyForcibly(); else p.toHandle().destroy(); });
            return;
        }
        int r = Libc.pidfdSendSignal(pidfd, sig);
        if (r < 0 && -r != Errno.ESRCH)
            throw new IOException("cannot send signal " + sig + " to pid " + pid + ": " + Libc.errnoName(-r));
    }

    /** Releases the pidfd once the worker is gone. */
    synchronized void closePidfd() {
        if (pidfd >= 0) {
            Libc.close(pidfd);
            pidfd = -1;
        }
    }

    /** The pidfd (for the exit watcher); -1 once released or where there is none. */
    synchronized int pidfd() {
        return pidfd;
    }

    @Override
    public String toString() {
        return "Worker[pid=" + pid + monitoring.map(m -> ", " + m.id()).orElse("")
                + (!owned() ? ", observed" : adopted() ? ", adopted" : "") + "]";
    }
}
