package dev.rbee.hive.monitor.cli;

import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.json.Wire;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** rbee-mon cleanup [--json]: remove what crashed supervisors left behind, and say what went. */
final class CleanupCommand {
    private CleanupCommand() {}

    static int run(String[] argv, PrintStream out) throws Exception {
        Args a = Args.parse(argv, 1, Set.of("backend"), Set.of("json"));
        if (!a.rest().isEmpty()) throw new UsageException("unexpected argument \"" + a.rest().get(0) + "\"");
        List<Path> removed;
        try (ProcessMonitor monitor = Backends.monitor(a)) {
            removed = monitor.cleanupStale();
        }
        if (a.has("json")) {
            out.println(Wire.json(java.util.Map.of("removed", removed.stream().map(Path::toString).toList())));
        } else if (removed.isEmpty()) {
            out.println("nothing to remove");
        } else {
            for (Path p : removed) out.println("removed " + p);
        }
        return 0;
    }
}
