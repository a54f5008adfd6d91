package dev.rbee.hive.monitor.cli;


import java.io.IOException;
import java.io.PrintStream;

/** rbee-mon backend: which backend is active and why. */
final class BackendCommand {
    private BackendCommand() {}

    static int run(String[] argv, PrintStream out) throws IOException, UsageException {
        Args a = Args.parse(argv, 1, java.util.Set.of("backend"), java.util.Set.of());
        out.println(Backends.monitor(a).backend());
        return 0;
    }
}
