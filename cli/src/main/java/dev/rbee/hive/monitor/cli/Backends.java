package dev.rbee.hive.monitor.cli;

import dev.rbee.hive.monitor.model.Backend;
import dev.rbee.hive.monitor.ProcessMonitor;

import java.io.IOException;
import java.util.Locale;
import java.util.Optional;

/** The monitor for a command, with the backend --backend asks for (default: the best available). */
final class Backends {
    private Backends() {}

    static ProcessMonitor monitor(Args a) throws IOException, UsageException {
        Optional<String> b = a.get("backend");
        if (b.isEmpty() || b.get().equals("auto")) return ProcessMonitor.create();
        Backend.Kind k;
        try {
            k = Backend.Kind.valueOf(b.get().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--backend: expected auto, cgroup2, proctree or portable, got \"" + b.get() + "\"");
        }
        return ProcessMonitor.builder().backend(k).build();
    }
}
