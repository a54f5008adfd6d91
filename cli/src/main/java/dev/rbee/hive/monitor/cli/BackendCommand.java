package dev.rbee.hive.monitor.cli;

import dev.rbee.hive.monitor.ProcessMonitor;

import java.io.IOException;
import java.io.PrintStream;

/** rbee-mon backend: which backend is active and why. */
final class BackendCommand {
    private BackendCommand() {}

    static int run(PrintStream out) throws IOException {
        out.println(ProcessMonitor.create().backend());
        return 0;
    }
}
