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
 *       them all ({@link ProcessMonitor#workers()}): the wall time of that call
 *       and its thread's CPU time.  The first owner still lives (in this JVM,
 *       its leaf locks held): the fresh monitor observes them;</li>
 *   <li>takeover: the same, but the first owner is another JVM that spawns N
 *       workers and dies (a restarted supervisor): the fresh monitor takes
 *       each over and owns it.</li>
 * </ul>
 * Single-shot figures, not JMH: each exit and the adoption happen once.
 * {@code java -cp benchmarks.jar dev.rbee.hive.monitor.bench.LifeBench OUT.json [N]}
 */
public final class LifeBench {
    private LifeBench() {}

    public static void main(String[] args) throws Exception {
        if (args[0].equals("--spawn-and-die")) { // the takeover's first owner: another JVM, which then dies
            try (ProcessMonitor m = ProcessMonitor.builder().root(Path.of(args[1])).build()) {
                spawn(m, "takeover", Integer.parseInt(args[2]));
            }
            System.out.println("spawned");
            System.out.flush();
            Runtime.getRuntime().halt(0); // as a crash would: its leaf locks go with it, its workers keep running
        }
        Path out = Path.of(args[0]);
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        ObjectNode root = new ObjectMapper().createObjectNode();
        root.put("workers", n);
        try (BenchCgroups cgroups = BenchCgroups.create()) {
            Path life = cgroups.root().resolve("life");
            exits(life, n, root.putObject("exit"));
            adoption(life, n, root.putObject("adoption"));
            takeover(life, n, root.putObject("takeover"));
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

    /**
     * A restarted supervisor: another JVM spawns N workers and dies; a fresh
     * monitor finds them, takes each over (its leaf lock is free) and owns them.
     */
    static void takeover(Path root, int n, ObjectNode into) throws Exception {
        Process first = new ProcessBuilder(ProcessHandle.current().info().command().orElseThrow(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                LifeBench.class.getName(), "--spawn-and-die", root.toString(), Integer.toString(n))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        // one line, not to EOF: the workers it leaves behind hold its stdout open
        String said = new java.io.BufferedReader(new java.io.InputStreamReader(first.getInputStream())).readLine();
        if (first.waitFor() != 0 || !"spawned".equals(said))
            throw new IllegalStateException("the first owner failed: exit " + first.exitValue() + ", said " + said);
        measure(root, "takeover", n, into);
    }

    static void adoption(Path root, int n, ObjectNode into) throws Exception {
        ProcessMonitor first = ProcessMonitor.builder().root(root).build();
        List<Worker> spawned;
        try {
            spawned = spawn(first, "adopt", n);
        } finally {
            first.close(); // the workers keep running: a later monitor adopts them
        }
        measure(root, "adoption", n, into);
        for (Worker w : spawned) w.onExit().get(30, TimeUnit.SECONDS); // the first monitor's view ends too
    }

    /** A fresh monitor on {@code root} finds every live worker: its figures; then it kills them and sees them end. */
    private static void measure(Path root, String what, int n, ObjectNode into) throws Exception {
        try (ProcessMonitor fresh = ProcessMonitor.builder().root(root).build()) {
            var threads = java.lang.management.ManagementFactory.getThreadMXBean();
            long c0 = threads.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            List<Worker> found = fresh.workers();
            long ms = (System.nanoTime() - t0) / 1_000_000;
            // The adopting thread's CPU time: on a shared host the wall time also counts the other tenants' turns.
            long cpuMs = (threads.getCurrentThreadCpuTime() - c0) / 1_000_000;
            long adopted = found.stream().filter(Worker::adopted).count();
            // "adoption": the first owner lives on in this JVM with its leaf locks, so these are observed (not owned)
            long owned = found.stream().filter(Worker::owned).count();
            into.put("found", found.size());
            into.put("adopted", adopted);
            into.put("owned", owned);
            into.put("ms", ms);
            into.put("cpu_ms", cpuMs);
            System.out.printf("# %s: %d of %d found (%d adopted, %d owned) in %d ms (%d ms CPU)%n",
                    what, found.size(), n, adopted, owned, ms, cpuMs);
            for (Worker w : found) w.kill();
            for (Worker w : found) w.onExit().get(30, TimeUnit.SECONDS);
        }
    }
}
