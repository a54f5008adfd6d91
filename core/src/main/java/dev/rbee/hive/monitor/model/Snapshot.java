package dev.rbee.hive.monitor.model;


import java.time.Instant;
import java.util.List;

/**
 * One sampling round: every worker, the node, and the workers that could not
 * be sampled (with why).  Immutable.
 *
 * <p>Immutable: thread-safe, to share between threads as it is.
 */
public record Snapshot(Instant timestamp, Backend backend, NodeStats node, List<ProcessStats> workers,
                       List<String> errors) {
    public Snapshot {
        workers = List.copyOf(workers);
        errors = List.copyOf(errors);
    }
}
