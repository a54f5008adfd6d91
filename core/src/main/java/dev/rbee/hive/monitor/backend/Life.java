package dev.rbee.hive.monitor.backend;

import dev.rbee.hive.monitor.cgroup.Leaf;
import dev.rbee.hive.monitor.internal.Errno;
import dev.rbee.hive.monitor.internal.Libc;
import dev.rbee.hive.monitor.model.ExitReport;
import dev.rbee.hive.monitor.model.ExitStatus;
import dev.rbee.hive.monitor.model.MonitorConfig;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * One worker's life, as the backends create it and follow it to its end: its
 * main process (pid, pidfd, the JDK's process if ours), where it lives, when it
 * started, how its main process exited and its exit report.  The public
 * {@code Worker} is a thin facade over one Life; {@link #facade} keeps exactly
 * one facade per life, so a monitor hands out the same object for the same life.
 * Thread-safe.
 */
public final class Life {
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
    /** The one public facade of this life, made on first use. */
    private Object facade;

    Life(long pid, int pidfd, Optional<Process> process, Home where, Instant startedAt) {
        this.pid = pid;
        this.pidfd = pidfd;
        this.process = process;
        this.monitoring = where.id();
        this.leaf = where.leaf();
        this.tree = where.members();
        this.startedAt = startedAt;
    }

    /**
     * The facade of this life: made by {@code make} on the first call, the same object on every later one.
     *
     * @param type the facade's class
     * @param make makes it from this life
     * @param <T>  the facade's type
     * @return the one facade
     */
    public synchronized <T> T facade(Class<T> type, Function<Life, T> make) {
        if (facade == null) facade = make.apply(this);
        return type.cast(facade);
    }

    /** @return the main process's pid */
    public long pid() {
        return pid;
    }

    /** @return the worker's id and limits, for a monitored worker */
    public Optional<MonitorConfig> monitoring() {
        return monitoring;
    }

    /** @return the leaf's directory, for a worker in a cgroup */
    public Optional<Path> cgroup() {
        return leaf.map(Leaf::path);
    }

    /** @return the leaf's cgroup id, for a worker in a cgroup */
    public OptionalLong cgroupId() {
        return leaf.isPresent() ? OptionalLong.of(leaf.get().id()) : OptionalLong.empty();
    }

    Optional<Leaf> leaf() {
        return leaf;
    }

    /** @return whether this monitor owns the worker (false for an observed one) */
    public boolean owned() {
        return leaf.map(Leaf::owner).orElse(true);
    }

    /** @return when the main process started */
    public Instant startedAt() {
        return startedAt;
    }

    /** @return the JDK process, for a worker this monitor spawned */
    public Optional<Process> process() {
        return process;
    }

    /** @return whether the worker was found running rather than spawned */
    public boolean adopted() {
        return process.isEmpty();
    }

    /** @return whether the main process is still running */
    public boolean isAlive() {
        return !mainExit.isDone();
    }

    /** @return the future of the exit report */
    public CompletableFuture<ExitReport> onExit() {
        return report;
    }

    /**
     * SIGTERM, up to {@code grace}, then SIGKILL to the tree (see {@code Worker.stop}).
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
     * SIGKILL to the whole tree at once, or to the main process of a plain spawn (see {@code Worker.kill}).
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
