package dev.rbee.hive.monitor.vm.systemd;

import dev.rbee.hive.monitor.ProcessMonitor;

import java.nio.file.Path;

/**
 * Prints the spawn cost of the default placement of wherever it runs (a
 * "figures:" line); {@link SystemdFiguresVmTest} runs it as uid 65534 in a
 * Delegate=yes service, where that placement is delegated.
 * Usage: FiguresMain LAUNCHER SPAWNS.  Single-threaded.
 */
public final class FiguresMain {
    private FiguresMain() {}

    public static void main(String[] args) throws Exception {
        try (ProcessMonitor m = ProcessMonitor.builder().launcher(Path.of(args[0])).build()) {
            System.out.println("figures: spawn " + SpawnCost.measure("default placement (" + m.backend() + ")", m, "fig",
                    Integer.parseInt(args[1])));
            m.cleanupStale();
        }
    }
}
