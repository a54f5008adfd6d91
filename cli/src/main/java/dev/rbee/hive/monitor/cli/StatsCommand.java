package dev.rbee.hive.monitor.cli;

import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.model.ProcessStats;
import dev.rbee.hive.monitor.Sampler;
import dev.rbee.hive.monitor.model.Snapshot;
import dev.rbee.hive.monitor.gpu.GpuSampler;
import dev.rbee.hive.monitor.json.Wire;

import java.io.PrintStream;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/** rbee-mon stats: one snapshot of the workers, taken after one interval so that rates exist. */
final class StatsCommand {
    private StatsCommand() {}

    static int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        Args a = Args.parse(argv, 1, Set.of("group", "instance", "interval", "backend"), Set.of("json"));
        if (!a.rest().isEmpty()) throw new UsageException("unexpected argument \"" + a.rest().get(0) + "\"");
        String group = a.get("group").map(g -> dev.rbee.hive.monitor.model.Names.check("group", g)).orElse(null);
        String instance = a.get("instance").map(i -> dev.rbee.hive.monitor.model.Names.check("instance", i)).orElse(null);
        Duration interval = a.get("interval").map(v -> Durations.parse("--interval", v, RunCommand.MIN_INTERVAL)).orElse(Duration.ofSeconds(1));
        ProcessMonitor monitor = Backends.monitor(a);
        Snapshot snap = secondRound(monitor, interval);
        List<ProcessStats> workers = snap.workers().stream()
                .filter(w -> group == null || w.group().equals(group))
                .filter(w -> instance == null || w.instance().equals(instance)).toList();
        if (a.has("json")) {
            Map<String, Object> tree = Wire.hiveTelemetry(InetAddress.getLocalHost().getHostName(),
                    new Snapshot(snap.timestamp(), snap.backend(), snap.node(), workers, snap.errors()));
            out.println(Wire.json(tree));
        } else {
            out.println("backend: " + snap.backend());
            out.printf("node: cpu %s%%, ram %s / %s MiB%n", StatsLine.num(snap.node().cpuPct(), 1),
                    StatsLine.num(snap.node().ramUsedMb(), 0), StatsLine.num(snap.node().ramTotalMb(), 0));
            if (workers.isEmpty()) out.println("no workers" + (group != null ? " in group " + group : ""));
            workers.forEach(w -> out.println(StatsLine.of(w)));
        }
        snap.errors().forEach(e -> err.println("rbee-mon: not sampled: " + e));
        return 0;
    }

    /**
     * The second round of a sampler (the first has no rates), or a later one
     * while NVML is still starting (its first load can outlast a round; the
     * sampler gives up waiting for it after {@link GpuSampler#STARTUP_GRACE}).
     */
    static Snapshot secondRound(ProcessMonitor monitor, Duration interval) throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        AtomicReference<Snapshot> last = new AtomicReference<>();
        AtomicInteger rounds = new AtomicInteger();
        try (Sampler s = monitor.sampler().interval(interval).start()) {
            s.addListener(snap -> {
                last.set(snap);
                boolean gpuStarting = snap.node().absent().getOrDefault("gpus", "").startsWith(GpuSampler.STARTING);
                if (rounds.incrementAndGet() >= 2 && !gpuStarting) done.countDown();
            });
            long limit = interval.toMillis() * 3 + GpuSampler.STARTUP_GRACE.toMillis() + 5_000;
            if (!done.await(limit, TimeUnit.MILLISECONDS) && last.get() == null)
                throw new IllegalStateException("the sampler produced no round within " + limit + " ms");
        }
        return last.get();
    }
}
