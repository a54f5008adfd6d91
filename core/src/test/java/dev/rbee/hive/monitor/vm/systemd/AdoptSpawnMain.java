package dev.rbee.hive.monitor.vm.systemd;

import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.model.WorkerSpec;

import java.nio.file.Path;

/**
 * The supervisor that {@link SystemdFiguresVmTest} kills: spawns N sleepers
 * in GROUP (default placement), prints "ready", then waits to be killed.
 * Usage: AdoptSpawnMain LAUNCHER GROUP N.  Single-threaded.
 */
public final class AdoptSpawnMain {
    private AdoptSpawnMain() {}

    public static void main(String[] args) throws Exception {
        ProcessMonitor m = ProcessMonitor.builder().launcher(Path.of(args[0])).build();
        int n = Integer.parseInt(args[2]);
        for (int i = 0; i < n; i++)
            m.spawn(WorkerSpec.command("/bin/sleep", "600").withMonitoring(args[1], "w" + i).build());
        System.out.println("ready " + m.backend());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
