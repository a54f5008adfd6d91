package dev.rbee.hive.monitor.placement;

import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.ExitReport;
import dev.rbee.hive.monitor.model.Placement;
import dev.rbee.hive.monitor.model.WorkerSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A supervisor started (by {@link DelegatedPlacementTest}) inside a cgroup, maybe as
 * another user: builds a monitor (args[1]: "auto" or a placement asked for), prints
 * its placement, spawns a worker, stops it, and prints "result KEY=VALUE" lines.
 * Usage: DelegatedMain LAUNCHER auto|delegated|...
 */
public final class DelegatedMain {
    public static void main(String[] args) throws Exception {
        ProcessMonitor.Builder b = ProcessMonitor.builder().launcher(Path.of(args[0]));
        if (!args[1].equals("auto")) b.placement(Placement.Kind.valueOf(args[1]));
        ProcessMonitor m;
        try {
            m = b.build();
        } catch (IOException e) {
            System.out.println("result failed=" + e.getMessage());
            return;
        }
        System.out.println("result backend=" + m.backend().kind());
        m.backend().placement().ifPresent(p -> p.describe().forEach(l -> System.out.println("result " + l.replaceFirst(": ", "="))));
        System.out.println("result self=" + v2(Path.of("/proc/self/cgroup")));
        if (m.backend().placement().isEmpty()) return;
        Worker w = m.spawn(WorkerSpec.command("/bin/sleep", "30").withMonitoring("g", "i").build());
        System.out.println("result worker=" + v2(Path.of("/proc", Long.toString(w.pid()), "cgroup")));
        ExitReport r = w.stop(Duration.ofSeconds(5));
        System.out.println("result stopped=" + r.summary());
        System.out.println("result leaf.left=" + Files.exists(m.cgroupOf("g", "i")));
        System.out.println("result group.left=" + Files.exists(m.cgroupOf("g", "i").getParent()));
        m.close();
    }

    private static String v2(Path f) throws IOException {
        return Files.readAllLines(f).stream().filter(l -> l.startsWith("0::")).findFirst().orElse("none").substring(3);
    }
}
