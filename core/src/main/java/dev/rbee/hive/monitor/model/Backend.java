package dev.rbee.hive.monitor.model;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Which way this monitor starts and measures workers, and why.
 *
 * <p>Immutable: thread-safe, to share between threads as it is.
 *
 * @param kind    CGROUP2: each worker in its own cgroup leaf (limits, exact stats, cgroup.kill);
 *                PROCTREE: Linux without a writable cgroup2 (or asked for): a session per worker,
 *                stats summed over its process tree from /proc, no limits;
 *                PORTABLE: other systems: plain spawn, ProcessHandle stats
 * @param reason  a sentence saying why this backend was chosen
 * @param root    the directory that holds the groups, for CGROUP2 only (the same as {@code placement.root()})
 * @param placement where in the cgroup tree the workers live and who writes above them, for CGROUP2 only
 */
public record Backend(Kind kind, String reason, Optional<Path> root, Optional<Placement> placement) {
    /**
     * A backend without a placement (PROCTREE, PORTABLE).
     *
     * @param kind   the backend
     * @param reason why it was chosen
     * @param root   empty
     */
    public Backend(Kind kind, String reason, Optional<Path> root) {
        this(kind, reason, root, Optional.empty());
    }

    /** The backends (see {@code kind} above). */
    public enum Kind {
        /** A cgroup v2 leaf per worker. */
        CGROUP2,
        /** A session per worker, stats from /proc. */
        PROCTREE,
        /** Plain spawn, ProcessHandle stats. */
        PORTABLE
    }

    @Override
    public String toString() {
        return kind.name().toLowerCase() + " (" + reason + ")";
    }
}
