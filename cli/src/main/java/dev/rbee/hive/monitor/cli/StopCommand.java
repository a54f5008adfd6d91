package dev.rbee.hive.monitor.cli;

import dev.rbee.hive.monitor.model.ExitReport;
import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.json.Wire;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;

/** rbee-mon stop G/I [--grace 10s] [--json]: stop a worker, wherever it was started from. */
final class StopCommand {
    private StopCommand() {}

    static int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        Args a = Args.parse(argv, 1, Set.of("grace", "backend"), Set.of("json"));
        if (a.rest().size() != 1) throw new UsageException("stop takes one GROUP/INSTANCE");
        String id = a.rest().get(0);
        int slash = id.indexOf('/');
        if (slash < 0) throw new UsageException("expected GROUP/INSTANCE, got \"" + id + "\"");
        String group = id.substring(0, slash), instance = id.substring(slash + 1);
        Duration grace = a.get("grace").map(v -> Durations.parse("--grace", v, Duration.ZERO)).orElse(Duration.ofSeconds(10));
        ProcessMonitor monitor = Backends.monitor(a);
        Optional<ExitReport> r = monitor.stop(group, instance, grace);
        if (r.isEmpty()) {
            err.println("rbee-mon: no live worker " + group + "/" + instance);
            return 1;
        }
        out.println(a.has("json") ? Wire.json(Wire.exitReport(r.get())) : r.get().summary());
        return 0;
    }
}
