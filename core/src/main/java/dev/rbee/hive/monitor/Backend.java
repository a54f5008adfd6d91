package dev.rbee.hive.monitor;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Which way this monitor starts and measures workers, and why.
 *
 * @param kind    CGROUP2 (workers in their own cgroup leaf) or NONE (only plain spawns)
 * @param reason  a sentence saying why this backend was chosen
 * @param root    the rbee.slice directory, for CGROUP2
 */
public record Backend(Kind kind, String reason, Optional<Path> root) {
    public enum Kind { CGROUP2, NONE }

    @Override
    public String toString() {
        return kind.name().toLowerCase() + " (" + reason + ")";
    }
}
