package dev.rbee.hive.monitor.cli;

import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.model.Backend;

import java.io.IOException;
import java.io.PrintStream;

/**
 * rbee-mon backend: which backend is active and why, and for cgroup2 where the
 * tree lives (placement, root, unit, slice, controllers, absent ones and why).
 */
final class BackendCommand {
    private BackendCommand() {}

    static int run(String[] argv, PrintStream out) throws IOException, UsageException {
        Args a = Args.parse(argv, 1, java.util.Set.of(), java.util.Set.of());
        try (ProcessMonitor m = Backends.monitor(a)) {
            Backend b = m.backend();
            out.println("backend: " + b);
            b.placement().ifPresent(p -> p.describe().forEach(out::println));
        }
        return 0;
    }
}
