package dev.rbee.examples.minihive;

import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.Sampler;
import sun.misc.Signal;

import java.io.PrintStream;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A small hive runtime on rbee-hive-monitor: runs workers, restarts them with
 * exponential backoff (and gives up after N restarts in a row), posts a
 * heartbeat to a URL every interval, and on SIGTERM or Ctrl-C stops every
 * worker, closes the monitor and exits 0.
 *
 * <pre>
 * mini-hive --heartbeat-url http://127.0.0.1:7000/heartbeat [--hive-id ID] [--group G]
 *           [--interval 1s] [--max-restarts 3] [--first-backoff 200ms] [--max-backoff 30s]
 *           [--reset-after 60s] [--grace 5s]  NAME=COMMAND...
 * </pre>
 * Each {@code NAME=COMMAND} is a worker {@code G/NAME} running {@code /bin/sh -c COMMAND}.
 */
public final class MiniHive {
    private MiniHive() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = new LinkedHashMap<>();
        Map<String, String> commands = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].startsWith("--") && i + 1 < args.length) opt.put(args[i].substring(2), args[++i]);
            else if (args[i].indexOf('=') > 0) commands.put(args[i].substring(0, args[i].indexOf('=')), args[i].substring(args[i].indexOf('=') + 1));
            else throw new IllegalArgumentException("not an option nor NAME=COMMAND: " + args[i]);
        }
        if (!opt.containsKey("heartbeat-url") || commands.isEmpty())
            throw new IllegalArgumentException("usage: mini-hive --heartbeat-url URL [options] NAME=COMMAND...");
        String group = opt.getOrDefault("group", "mini-hive");
        Duration interval = duration(opt.getOrDefault("interval", "1s"));
        Duration grace = duration(opt.getOrDefault("grace", "5s"));
        RestartPolicy policy = new RestartPolicy(duration(opt.getOrDefault("first-backoff", "200ms")),
                duration(opt.getOrDefault("max-backoff", "30s")), Integer.parseInt(opt.getOrDefault("max-restarts", "3")),
                duration(opt.getOrDefault("reset-after", "60s")));
        PrintStream log = System.out;

        // SIGTERM (and Ctrl-C) ask for a clean stop; the JVM's default would exit 143 at once.
        CountDownLatch stop = new CountDownLatch(1);
        for (String sig : new String[] {"TERM", "INT"}) Signal.handle(new Signal(sig), s -> stop.countDown());

        ProcessMonitor monitor = ProcessMonitor.create();
        log.println("mini-hive: backend " + monitor.backend());
        monitor.cleanupStale(); // what a crashed hive left behind
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "mini-hive"));
        List<SupervisedWorker> workers = new ArrayList<>();
        commands.forEach((name, command) -> workers.add(new SupervisedWorker(monitor, group, name,
                List.of("/bin/sh", "-c", command), policy, scheduler, log)));
        workers.forEach(SupervisedWorker::start);

        Duration patience = interval.compareTo(Duration.ofSeconds(2)) > 0 ? interval : Duration.ofSeconds(2);
        HeartbeatPoster poster = new HeartbeatPoster(opt.getOrDefault("hive-id", "mini-hive"),
                URI.create(opt.get("heartbeat-url")), patience, workers, log);
        // Given before start(): the poster sees the first round too.
        Sampler sampler = monitor.sampler().interval(interval).listener(poster).start();

        stop.await();
        log.println("mini-hive: stopping");
        // On the scheduler's own thread, so that no restart is under way or comes after.
        scheduler.submit(() -> workers.forEach(SupervisedWorker::markStopping)).get();
        sampler.close();
        poster.close();
        for (SupervisedWorker w : workers) w.stop(grace); // each waits for its cgroup to be removed
        scheduler.shutdown();
        scheduler.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS);
        monitor.close();
        log.println("mini-hive: stopped");
    }

    /** "250ms", "2s", "1m". */
    static Duration duration(String s) {
        if (s.endsWith("ms")) return Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)));
        if (s.endsWith("s")) return Duration.ofSeconds(Long.parseLong(s.substring(0, s.length() - 1)));
        if (s.endsWith("m")) return Duration.ofMinutes(Long.parseLong(s.substring(0, s.length() - 1)));
        throw new IllegalArgumentException("not a duration (250ms, 2s, 1m): " + s);
    }
}
