package dev.rbee.hive.monitor.identity;

import dev.rbee.hive.monitor.model.ExitReport;
import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.model.SpawnException;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The randomized part of the identity stress test, run by threads of the test
 * JVM and by the child JVMs alike: random spawn, restart, stop, kill and adopt
 * over a few ids, counting what happened and every broken rule.
 */
public final class IdentityStress {
    /** Operation and outcome counters; "violation:..." keys are broken rules. */
    final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();
    /** Every worker handle seen: each onExit must complete normally. */
    final List<Worker> seen = Collections.synchronizedList(new ArrayList<>());
    private final List<ProcessMonitor> monitors;
    private final String group;
    private final List<String> ids;

    IdentityStress(List<ProcessMonitor> monitors, String group, List<String> ids) {
        this.monitors = monitors;
        this.group = group;
        this.ids = ids;
    }

    void count(String key) {
        counts.computeIfAbsent(key, k -> new AtomicLong()).incrementAndGet();
    }

    /** {@code ops} random operations with {@code seed}. */
    void run(long seed, int ops) {
        Random r = new Random(seed);
        for (int i = 0; i < ops; i++) {
            ProcessMonitor m = monitors.get(r.nextInt(monitors.size()));
            String instance = ids.get(r.nextInt(ids.size()));
            try {
                switch (r.nextInt(6)) {
                    case 0, 1 -> spawn(m, instance, r);
                    case 2 -> {
                        count("op:stop");
                        var w = m.worker(group, instance);
                        if (w.isPresent()) report(w.get().stop(Duration.ofMillis(r.nextInt(200))));
                    }
                    case 3 -> {
                        count("op:kill");
                        var w = m.worker(group, instance);
                        if (w.isPresent()) {
                            seen.add(w.get());
                            w.get().kill();
                        }
                    }
                    case 4 -> {
                        count("op:adopt");
                        for (Worker w : ours(m)) seen.add(w);
                    }
                    default -> {
                        count("op:restart");
                        var w = m.worker(group, instance);
                        if (w.isPresent()) report(w.get().stop(Duration.ofMillis(50)));
                        spawn(m, instance, r);
                    }
                }
            } catch (Exception e) {
                count("violation:" + e.getClass().getSimpleName() + ": " + e.getMessage());
            }
        }
    }

    private void spawn(ProcessMonitor m, String instance, Random r) {
        count("op:spawn");
        try {
            String secs = String.format("%.2f", 0.05 + r.nextDouble() * 0.5);
            Worker w = m.spawn(WorkerSpec.command("/bin/sleep", secs).withMonitoring(group, instance).build());
            seen.add(w);
            count("spawn:ok");
        } catch (SpawnException e) {
            if (e.step() == SpawnException.Step.BUSY) count("spawn:busy");
            else count("violation:spawn " + e.step() + ": " + e.getMessage());
        }
    }

    private void report(ExitReport r) {
        if (!r.cgroupRemoved() && r.worker().isPresent()) count("note:cgroup-not-removed-by-this-handle");
    }

    /** Stops whatever still runs and waits for every exit; counts the exceptional ones. */
    void finish(ProcessMonitor m) throws Exception {
        for (Worker w : ours(m)) {
            seen.add(w);
            w.stop(Duration.ofSeconds(2));
        }
        List<Worker> all;
        synchronized (seen) {
            all = new ArrayList<>(seen);
        }
        for (Worker w : all) {
            try {
                w.onExit().get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                count("violation:onExit " + w + ": " + e);
            }
        }
    }

    /** The live workers of this test's group: never another test's (or a user's) that runs beside it. */
    private List<Worker> ours(ProcessMonitor m) throws java.io.IOException {
        return m.workers().stream().filter(w -> w.monitoring().orElseThrow().group().equals(group)).toList();
    }

    String summary() {
        StringBuilder b = new StringBuilder();
        new java.util.TreeMap<>(counts).forEach((k, v) -> b.append(k).append('=').append(v).append('\t'));
        return b.toString().strip();
    }

    /** A cgroup2 monitor over {@code root} with the launcher the build made. */
    static ProcessMonitor monitor(Path root) throws java.io.IOException {
        return ProcessMonitor.builder().root(root).launcher(dev.rbee.hive.monitor.testing.TestEnv.launcher()).build();
    }

    /** A child JVM: {@code main ROOT GROUP SEED OPS THREADS ID...}; prints one RESULT line. */
    public static void main(String[] args) throws Exception {
        ProcessMonitor m = monitor(Path.of(args[0]));
        String group = args[1];
        long seed = Long.parseLong(args[2]);
        int ops = Integer.parseInt(args[3]), threads = Integer.parseInt(args[4]);
        IdentityStress s = new IdentityStress(List.of(m), group, List.of(args).subList(5, args.length));
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            long sd = seed * 31 + t;
            ts.add(Thread.ofPlatform().start(() -> s.run(sd, ops)));
        }
        for (Thread t : ts) t.join();
        s.finish(m);
        System.out.println("RESULT\t" + s.summary());
        System.exit(0);
    }
}
