package dev.rbee.hive.monitor.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.internal.Libc;
import dev.rbee.hive.monitor.model.WorkerSpec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Issue 17's goals 5 and 6, measured with the public API on the host's cgroup2
 * (a root {@code rbee-bench-[TAG-]PID/life} of our own, removed after):
 * <ul>
 *   <li>exit detection: N workers ({@code sleep}) spawned; each in turn gets
 *       SIGKILL through a pidfd opened beforehand, and the time from the signal
 *       to its {@link Worker#onExit()} completing (the exit seen, the final
 *       figures read, the leaf removed) is taken: p50, p99, max;</li>
 *   <li>adoption: N workers spawned by one monitor, which is then closed (the
 *       workers keep running); a fresh monitor on the same root finds and adopts
 *       them all ({@link ProcessMonitor#workers()}): the wall time of that call.</li>
 * </ul>
 * Single-shot figures, not JMH: each exit and the adoption happen once.
 * {@code java -cp benchmarks.jar dev.rbee.hive.monitor.bench.LifeBench OUT.json [N]}
 */
public final class LifeBench {
    private LifeBench() {}

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        ObjectNode root = new ObjectMapper().createObjectNode();
        root.put("workers", n);
        try (BenchCgroups cgroups = BenchCgroups.create()) {
            Path life = cgroups.root().resolve("life");
            exits(life, n, root.putObject("exit"));
            adoption(life, n, root.putObject("adoption"));
        }
        Files.createDirectories(out.toAbsolutePath().getParent());
        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(out.toFile(), root);
        System.out.println("# life: " + root);
    }

    private static List<Worker> spawn(ProcessMonitor m, String group, int n) throws Exception {
        List<Worker> ws = new ArrayList<>(n);
        for (int i = 0; i < n; i++)
            ws.add(m.spawn(WorkerSpec.command("sleep", "3600").withMonitoring(group, "w" + i).build()));
        return ws;
    }

    static void exits(Path root, int n, ObjectNode into) throws Exception {
        try (ProcessMonitor m = ProcessMonitor.builder().root(root).build()) {
            long t0 = System.nanoTime();
            List<Worker> ws = spawn(m, "exit", n);
            System.out.printf("# exit: %d workers spawned in %d ms%n", n, (System.nanoTime() - t0) / 1_000_000);
            long[] us = new long[n];
            for (int i = 0; i < n; i++) {
                Worker w = ws.get(i);
                int pidfd = Libc.pidfdOpen(w.pid());
                if (pidfd < 0) throw new IllegalStateException("pidfd_open(" + w.pid() + "): " + Libc.errnoName(-pidfd));
                try {
                    long k = System.nanoTime();
                    int r = Libc.pidfdSendSignal(pidfd, 9);
                    if (r < 0) throw new IllegalStateException("pidfd_send_signal: " + Libc.errnoName(-r));
                    w.onExit().get(10, TimeUnit.SECONDS);
                    us[i] = (System.nanoTime() - k) / 1000;
                } finally {
                    Libc.close(pidfd);
                }
            }
            Arrays.sort(us);
            into.put("exits", n);
            into.put("p50_us", us[n / 2]);
            into.put("p99_us", us[Math.min(n - 1, (int) Math.ceil(n * 0.99) - 1)]);
            into.put("max_us", us[n - 1]);
            into.put("mean_us", Arrays.stream(us).average().orElse(0));
        }
    }

    static void adoption(Path root, int n, ObjectNode into) throws Exception {
        ProcessMonitor first = ProcessMonitor.builder().root(root).build();
        List<Worker> spawned;
        try {
            spawned = spawn(first, "adopt", n);
        } finally {
            first.close(); // the workers keep running: a later monitor adopts them
        }
        try (ProcessMonitor fresh = ProcessMonitor.builder().root(root).build()) {
            var threads = java.lang.management.ManagementFactory.getThreadMXBean();
            long c0 = threads.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            List<Worker> found = fresh.workers();
            long ms = (System.nanoTime() - t0) / 1_000_000;
            // The adopting thread's CPU time: on a shared host the wall time also counts the other tenants' turns.
            long cpuMs = (threads.getCurrentThreadCpuTime() - c0) / 1_000_000;
            long adopted = found.stream().filter(Worker::adopted).count();
            // The first monitor lives on in this JVM and keeps its leaf locks: the fresh one observes (not owned).
            long owned = found.stream().filter(Worker::owned).count();
            into.put("found", found.size());
            into.put("adopted", adopted);
            into.put("owned", owned);
            into.put("ms", ms);
            into.put("cpu_ms", cpuMs);
            System.out.printf("# adoption: %d of %d found (%d adopted, %d owned) in %d ms (%d ms CPU)%n",
                    found.size(), n, adopted, owned, ms, cpuMs);
            for (Worker w : found) w.kill();
            for (Worker w : found) w.onExit().get(30, TimeUnit.SECONDS);
        }
        for (Worker w : spawned) w.onExit().get(30, TimeUnit.SECONDS); // the first monitor's view ends too
    }
}
