package dev.rbee.hive.monitor.model;


import java.time.Instant;
import java.util.List;

/**
 * One sampling round: every worker, the node, and the workers that could not
 * be sampled (with why).
 *
 * <p>Immutable: thread-safe, to share between threads as it is.
 *
 * @param timestamp when the round ended
 * @param backend   the monitor's backend
 * @param node      the machine as a whole
 * @param workers   one entry per worker sampled
 * @param errors    the workers that could not be sampled, each with why
 */
public record Snapshot(Instant timestamp, Backend backend, NodeStats node, List<ProcessStats> workers,
                       List<String> errors) {
    /** Copies the lists. */
    public Snapshot {
        workers = List.copyOf(workers);
        errors = List.copyOf(errors);
    }
}
