package dev.rbee.hive.monitor.cli;

import dev.rbee.hive.monitor.model.ExitReport;
import dev.rbee.hive.monitor.model.ExitStatus;
import dev.rbee.hive.monitor.json.Wire;
import sun.misc.Signal;
import dev.rbee.hive.monitor.model.Limits;
import dev.rbee.hive.monitor.model.MonitorConfig;
import dev.rbee.hive.monitor.model.Output;
import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.model.SpawnException;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/** rbee-mon run: start a program in its cgroup leaf and exit with its status. */
final class RunCommand {
    private static final Set<String> VALUES = Set.of("group", "instance", "cpu", "cpu-weight", "memory-max",
            "memory-high", "swap-max", "pids-max", "io", "log", "output", "grace", "interval", "backend");
    private static final Set<String> FLAGS = Set.of("quiet", "json", "stats-json", "allow-no-limits");

    private RunCommand() {}

    static int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        // Everything is checked before anything is spawned: a bad argument leaves no worker behind.
        Args a = Args.parse(argv, 1, VALUES, FLAGS, true);
        if (a.rest().isEmpty()) throw new UsageException("missing PROGRAM (options go before it; -- ends them)");
        Limits.Builder lb = Limits.builder();
        limit(a, "cpu", lb::cpuPercent);
        if (a.has("cpu-weight")) lb.cpuWeight(intOption(a, "cpu-weight"));
        limit(a, "memory-max", lb::memoryMax);
        limit(a, "memory-high", lb::memoryHigh);
        limit(a, "swap-max", lb::swapMax);
        limit(a, "pids-max", lb::pidsMax);
        limit(a, "io", lb::io);
        WorkerSpec.Builder spec = WorkerSpec.command(a.rest())
                .withMonitoring(a.require("group"), a.require("instance"))
                .limits(lb.build());
        a.get("log").ifPresent(f -> spec.output(Output.appendTo(Path.of(f))));
        if (a.has("output")) {
            if (a.has("log")) throw new UsageException("--output and --log exclude each other (--log FILE is --output file)");
            switch (a.get("output").orElseThrow()) {
                case "journal" -> spec.output(Output.journal());
                case "inherit" -> spec.output(Output.inherit());
                default -> throw new UsageException("--output: expected inherit or journal, got \"" + a.get("output").orElseThrow()
                        + "\" (a file: --log FILE)");
            }
        }
        spec.allowUnenforcedLimits(a.has("allow-no-limits"));
        WorkerSpec ws = spec.build();
        Duration grace = a.get("grace").map(v -> Durations.parse("--grace", v, Duration.ZERO)).orElse(Duration.ofSeconds(10));
        Duration interval = a.get("interval").map(v -> Durations.parse("--interval", v, MIN_INTERVAL))
                .orElse(Duration.ofSeconds(1));
        ProcessMonitor monitor = Backends.monitor(a);

        // Under systemd, with workers outliving the service (the default), SIGTERM and SIGHUP (systemctl stop or
        // restart of the supervisor's service) leave the worker running in the hive's scope, and the next run of the
        // same id follows it instead of starting another.  Ctrl-C, and every signal elsewhere: stop the worker
        // gracefully; the report below still prints and the cgroup goes.  Installed before the spawn, so a signal
        // that comes right after it is not lost.
        boolean outlive = Backends.workersOutliveService(a, monitor);
        AtomicReference<Worker> started = new AtomicReference<>();
        AtomicBoolean stopRequested = new AtomicBoolean();
        CompletableFuture<String> leftRunning = new CompletableFuture<>();
        for (String sig : new String[] {"INT", "TERM", "HUP"}) {
            Signal.handle(new Signal(sig), s -> {
                if (outlive && !sig.equals("INT")) {
                    leftRunning.complete("SIG" + sig);
                    return;
                }
                stopRequested.set(true);
                Worker target = started.get();
                if (target != null) stopAsync(target, grace, err);
            });
        }
        if (!a.has("quiet")) err.println("rbee-mon: backend " + monitor.backend());
        MonitorConfig id = ws.monitoring().orElseThrow();
        Worker w;
        Optional<Worker> earlier = outlive ? monitor.worker(id.group(), id.instance()).filter(Worker::owned) : Optional.empty();
        if (earlier.isPresent()) {
            // Taken over: its supervisor is gone (a live one would still hold the leaf's lock).
            w = earlier.get();
            err.println("rbee-mon: " + id.id() + " (pid " + w.pid() + ") was left running by an earlier supervisor: "
                    + "following it instead of starting another");
        } else {
            try {
                w = monitor.spawn(ws);
            } catch (SpawnException e) {
                err.println("rbee-mon: " + e.getMessage() + " [step " + e.step().name().toLowerCase() + "]");
                return switch (e.step()) {
                    case EXEC -> e.errno().filter("ENOENT"::equals).isPresent() ? 127 : 126;
                    default -> 125;
                };
            }
        }
        started.set(w);
        if (stopRequested.get()) stopAsync(w, grace, err);
        Thread stats = null;
        if (!a.has("quiet")) stats = statsLoop(monitor, id, w, interval, a.has("stats-json"), err);
        CompletableFuture.anyOf(w.onExit(), leftRunning).join();
        if (stats != null) stats.interrupt();
        if (!w.onExit().isDone() && leftRunning.isDone()) {
            err.println("rbee-mon: " + leftRunning.join() + ": leaving " + id.id() + " (pid " + w.pid() + ") running in "
                    + monitor.backend().placement().flatMap(p -> p.unit()).orElse("its scope")
                    + " (workers outlive the service: --workers-outlive-service); the next run of " + id.id()
                    + " follows it, rbee-mon stop " + id.id() + " stops it");
            return 0;
        }
        ExitReport report = w.onExit().join();
        if (a.has("json")) err.println(Wire.json(Wire.exitReport(report)));
        else if (!a.has("quiet")) err.println("rbee-mon: " + report.summary());
        return report.status().map(ExitStatus::shellValue).orElse(1);
    }

    /** Below this a stats line per interval is noise, and the sampling would cost more than the worker. */
    static final Duration MIN_INTERVAL = Duration.ofMillis(10);

    private static void stopAsync(Worker w, Duration grace, PrintStream err) {
        Thread.ofPlatform().daemon().name("rbee-mon-stop").start(() -> {
            try {
                w.stop(grace);
            } catch (Exception e) {
                err.println("rbee-mon: stopping " + w + ": " + e.getMessage());
            }
        });
    }

    /** Every interval, one line (or one JSON object) of the worker's stats on stderr. */
    private static Thread statsLoop(ProcessMonitor monitor, MonitorConfig cfg, Worker w, Duration interval, boolean json,
                                    PrintStream err) {
        return Thread.ofPlatform().daemon().name("rbee-mon-stats").start(() -> {
            try {
                monitor.collectInstance(cfg.group(), cfg.instance()); // the first sample has no rates
                while (w.isAlive()) {
                    Thread.sleep(interval);
                    var s = monitor.collectInstance(cfg.group(), cfg.instance());
                    if (s.isEmpty() || !w.isAlive()) continue;
                    err.println(json ? Wire.json(Wire.worker(s.get())) : "rbee-mon: " + StatsLine.of(s.get()));
                }
            } catch (InterruptedException e) {
                // the worker ended
            } catch (Exception e) {
                err.println("rbee-mon: stats stopped: " + e.getMessage());
            }
        });
    }

    /** Applies a limit option; a bad value is a usage error naming the option. */
    private static void limit(Args a, String name, java.util.function.Consumer<String> set) throws UsageException {
        if (!a.has(name)) return;
        try {
            set.accept(a.get(name).orElseThrow());
        } catch (IllegalArgumentException e) {
            throw new UsageException("--" + name + ": " + e.getMessage());
        }
    }

    private static int intOption(Args a, String name) throws UsageException {
        String v = a.get(name).orElseThrow();
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + ": not a number: \"" + v + "\"");
        }
    }
}
