package dev.rbee.hive.monitor;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A started worker.  When {@link ProcessMonitor#spawn} returned it, its program
 * had already been exec'd inside its cgroup.
 */
public final class Worker {
    private final Process process;
    private final Optional<MonitorConfig> monitoring;
    private final Optional<Path> cgroup;
    private final Instant startedAt;
    private final CompletableFuture<ExitStatus> exit;

    Worker(Process process, Optional<MonitorConfig> monitoring, Optional<Path> cgroup, Instant startedAt) {
        this.process = process;
        this.monitoring = monitoring;
        this.cgroup = cgroup;
        this.startedAt = startedAt;
        this.exit = process.onExit().thenApply(p -> ExitStatus.fromJdk(p.exitValue()));
    }

    public long pid() {
        return process.pid();
    }

    public Optional<MonitorConfig> monitoring() {
        return monitoring;
    }

    /** The cgroup directory the worker was born in (monitored spawns only). */
    public Optional<Path> cgroup() {
        return cgroup;
    }

    public Instant startedAt() {
        return startedAt;
    }

    /** The JDK process: its streams when the output is piped, waitFor, and so on. */
    public Process process() {
        return process;
    }

    /** Completes when the worker's main process has exited. */
    public CompletableFuture<ExitStatus> onExit() {
        return exit;
    }

    @Override
    public String toString() {
        return "Worker[pid=" + pid() + monitoring.map(m -> ", " + m.id()).orElse("") + "]";
    }
}
