package dev.rbee.hive.monitor.cli;

import dev.rbee.hive.monitor.model.Backend;
import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.model.Placement;

import java.io.IOException;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The monitor for a command, with the backend and placement the global options ask for (default: the best
 * available): --backend auto|cgroup2|proctree|portable, --placement auto|systemd|delegated|root,
 * --unit NAME.scope, --slice NAME.slice, --workers-outlive-service true|false.
 */
final class Backends {
    /** The options every command takes. */
    static final Set<String> OPTIONS = Set.of("backend", "placement", "unit", "slice", "workers-outlive-service");

    private Backends() {}

    static ProcessMonitor monitor(Args a) throws IOException, UsageException {
        ProcessMonitor.Builder b = ProcessMonitor.builder();
        Optional<String> k = a.get("backend");
        if (k.isPresent() && !k.get().equals("auto")) {
            try {
                b.backend(Backend.Kind.valueOf(k.get().toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new UsageException("--backend: expected auto, cgroup2, proctree or portable, got \"" + k.get() + "\"");
            }
        }
        Optional<String> p = a.get("placement");
        if (p.isPresent() && !p.get().equals("auto")) {
            try {
                b.placement(Placement.Kind.valueOf(p.get().toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new UsageException("--placement: expected auto, systemd, delegated or root, got \"" + p.get() + "\"");
            }
        }
        a.get("unit").ifPresent(b::unit);
        a.get("slice").ifPresent(b::slice);
        Optional<String> outlive = a.get("workers-outlive-service");
        if (outlive.isPresent()) {
            if (!outlive.get().equals("true") && !outlive.get().equals("false"))
                throw new UsageException("--workers-outlive-service: expected true or false, got \"" + outlive.get() + "\"");
            b.workersOutliveService(Boolean.parseBoolean(outlive.get()));
        }
        return b.build();
    }

    /**
     * Whether {@code monitor}'s workers outlive the supervisor's service: the systemd placement (workers in the
     * hive's scope, not in the supervisor's unit) with --workers-outlive-service true, the default.
     */
    static boolean workersOutliveService(Args a, ProcessMonitor monitor) {
        boolean inScope = monitor.backend().placement().filter(p -> p.kind() == Placement.Kind.SYSTEMD).isPresent();
        return inScope && !a.get("workers-outlive-service").filter("false"::equals).isPresent();
    }
}
