package dev.rbee.hive.monitor.vm.systemd;

import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;

import java.util.Arrays;

/**
 * Median wall time of a spawn of /bin/true to its exit, through the monitor
 * and, as the floor measured in the same JVM, through ProcessBuilder.  Printed
 * only (speed is asserted nowhere; the JMH benchmarks are the reference):
 * these are the figures of issue 14's closing note.  Single-threaded.
 */
final class SpawnCost {
    private SpawnCost() {}

    /** "name: monitor median X ms, ProcessBuilder median Y ms, ratio Z (N spawns)". */
    static String measure(String name, ProcessMonitor m, String group, int n) throws Exception {
        // The first of each warms class loading and the group's directories up; not counted.
        long[] mon = new long[n], pb = new long[n];
        for (int i = -1; i < n; i++) {
            long t0 = System.nanoTime();
            Worker w = m.spawn(WorkerSpec.command("/bin/true").withMonitoring(group, "i" + (i & 3)).build());
            w.onExit().join();
            if (i >= 0) mon[i] = System.nanoTime() - t0;
        }
        for (int i = -1; i < n; i++) {
            long t0 = System.nanoTime();
            new ProcessBuilder("/bin/true").start().waitFor();
            if (i >= 0) pb[i] = System.nanoTime() - t0;
        }
        double a = median(mon), b = median(pb);
        return String.format("%s: monitor median %.2f ms, ProcessBuilder median %.2f ms, ratio %.2f (%d spawns each)",
                name, a, b, a / b, n);
    }

    private static double median(long[] ns) {
        long[] s = ns.clone();
        Arrays.sort(s);
        return (s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2.0) / 1e6;
    }
}
