package dev.rbee.hive.monitor;

import dev.rbee.hive.monitor.backend.Life;
import dev.rbee.hive.monitor.model.ExitReport;
import dev.rbee.hive.monitor.model.MonitorConfig;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

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
    private final Life life;

    private Worker(Life life) {
        this.life = life;
    }

    /** The one facade of {@code life}: the same Worker object every time for the same life. */
    static Worker of(Life life) {
        return life.facade(Worker.class, Worker::new);
    }

    /**
     * The main process.
     *
     * @return its pid (signals go through its pidfd, never to this number)
     */
    public long pid() {
        return life.pid();
    }

    /**
     * The worker's id and limits, for a monitored worker.
     *
     * @return its {@code group/instance}; empty for a plain spawn
     */
    public Optional<MonitorConfig> monitoring() {
        return life.monitoring();
    }

    /**
     * The cgroup directory the worker lives in (monitored workers only).
     *
     * @return its leaf; empty for a plain spawn or another backend
     */
    public Optional<Path> cgroup() {
        return life.cgroup();
    }

    /**
     * The cgroup id of this life's leaf (its directory's inode; a leaf made again for a successor has another).
     *
     * @return the id; empty without a cgroup
     */
    public java.util.OptionalLong cgroupId() {
        return life.cgroupId();
    }

    /**
     * Whether this monitor owns the worker (spawned or took it over): then it
     * cleans up at the end.  False for a worker another live process owns.
     *
     * @return whether this monitor owns it
     */
    public boolean owned() {
        return life.owned();
    }

    /**
     * When the main process started.
     *
     * @return its start time (from /proc for an adopted worker)
     */
    public Instant startedAt() {
        return life.startedAt();
    }

    /**
     * The process (streams, waitFor, exit value) of a worker this monitor spawned; empty for an adopted one.
     * On the native path it is our own {@link Process} over the clone's pidfd and our pipe fds: no JDK
     * waiting thread, and {@link Process#toHandle()} is not offered (it would act on the pid number).
     *
     * @return the process
     */
    public Optional<Process> process() {
        return life.process();
    }

    /**
     * How this monitor started the worker: {@code NATIVE} (clone3 into its cgroup through librbee-spawn.so),
     * {@code LAUNCHER} (rbee-launch, the fallback) or {@code JDK} (portable backend).
     *
     * @return the path; empty for a worker found running
     */
    public Optional<dev.rbee.hive.monitor.model.SpawnPath> spawnPath() {
        return life.spawnPath();
    }

    /**
     * Whether this monitor found the worker running (took it over, or observes it) rather than spawning it.
     *
     * @return true for an adopted worker
     */
    public boolean adopted() {
        return life.adopted();
    }

    /**
     * Whether the main process is still running.
     *
     * @return false once it has exited
     */
    public boolean isAlive() {
        return life.isAlive();
    }

    /**
     * Completes once the worker has ended and been cleaned up: the rest of its
     * process tree killed, its final figures read and its cgroup removed.
     *
     * @return the future of the exit report (completed on an "rbee-reaper" thread)
     */
    public CompletableFuture<ExitReport> onExit() {
        return life.onExit();
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
        return life.stop(grace, signalAll);
    }

    /**
     * SIGKILL to the whole tree at once (cgroup.kill), or to the main process
     * of a plain spawn.  Nothing to do, and no error, once the worker has ended.
     *
     * @throws IOException if the kill cannot be written
     */
    public void kill() throws IOException {
        life.kill();
    }

    @Override
    public String toString() {
        return life.toString();
    }
}
