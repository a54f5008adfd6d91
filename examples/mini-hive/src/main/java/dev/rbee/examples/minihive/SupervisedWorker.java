package dev.rbee.examples.minihive;

import dev.rbee.hive.monitor.model.ExitReport;
import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.model.SpawnException;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;

import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One worker kept running under a {@link RestartPolicy}.  All its state
 * changes on one thread, the hive's scheduler: the library completes
 * {@link Worker#onExit()} on a thread of its own, so the exit is handed over
 * to the scheduler rather than handled there.
 */
final class SupervisedWorker {
    enum State { RUNNING, BACKOFF, GIVEN_UP, STOPPED }

    private final ProcessMonitor monitor;
    private final String group, instance;
    private final List<String> command;
    private final RestartPolicy policy;
    private final ScheduledExecutorService scheduler;
    private final PrintStream log;
    // Written on the scheduler thread, read by the heartbeat (another thread).
    private volatile State state = State.BACKOFF;
    private volatile int restarts;
    private volatile Worker current;
    private Instant startedAt = Instant.EPOCH;
    private boolean stopping;

    SupervisedWorker(ProcessMonitor monitor, String group, String instance, List<String> command, RestartPolicy policy,
                     ScheduledExecutorService scheduler, PrintStream log) {
        this.monitor = monitor;
        this.group = group;
        this.instance = instance;
        this.command = command;
        this.policy = policy;
        this.scheduler = scheduler;
        this.log = log;
    }

    /** Starts it (on the scheduler thread). */
    void start() {
        scheduler.execute(this::spawn);
    }

    private void spawn() {
        if (stopping) return;
        startedAt = Instant.now();
        try {
            // Born in its own cgroup leaf rbee.slice/{group}/{instance}: it and every child it forks.
            Worker w = monitor.spawn(WorkerSpec.command(command).withMonitoring(group, instance).build());
            current = w;
            state = State.RUNNING;
            log.println("mini-hive: " + id() + " started, pid " + w.pid());
            w.onExit().thenAccept(report -> scheduler.execute(() -> ended(report.summary())));
        } catch (SpawnException e) {
            ended("could not start: " + e.getMessage()); // a failed start counts like an exit
        }
    }

    private void ended(String why) {
        current = null;
        if (stopping) return;
        if (Duration.between(startedAt, Instant.now()).compareTo(policy.resetAfter()) >= 0) restarts = 0; // it was healthy
        if (restarts >= policy.maxRestarts()) {
            state = State.GIVEN_UP;
            log.println("mini-hive: " + id() + " ended (" + why + "); gave up after " + restarts + " restarts");
            return;
        }
        restarts++;
        Duration wait = policy.backoff(restarts);
        state = State.BACKOFF;
        log.println("mini-hive: " + id() + " ended (" + why + "); restart " + restarts + " of " + policy.maxRestarts()
                + " in " + wait.toMillis() + " ms");
        scheduler.schedule(this::spawn, wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Stops it for good; call on the scheduler thread, so that no restart comes after. */
    void markStopping() {
        stopping = true;
    }

    /** SIGTERM, then the whole cgroup killed after {@code grace}; waits for its cleanup. */
    void stop(Duration grace) throws IOException, InterruptedException {
        Worker w = current;
        if (w != null) {
            ExitReport r = w.stop(grace);
            log.println("mini-hive: " + id() + " stopped: " + r.summary());
        }
        state = State.STOPPED;
    }

    /** What the heartbeat says about it beside the library's figures. */
    Map<String, Object> status() {
        return Map.of("state", state.name().toLowerCase().replace('_', '-'), "restarts", restarts);
    }

    String instance() {
        return instance;
    }

    private String id() {
        return group + "/" + instance;
    }
}
