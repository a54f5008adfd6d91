package dev.rbee.hive.monitor.read;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/** Where a worker's counters come from: its cgroup's files, or (without cgroups) its process tree in /proc. */
public interface CounterSource extends AutoCloseable {
    /** Re-reads into {@code into}; false when the worker's cgroup or tree is gone (the series ends). */
    boolean read(CgroupCounters into) throws IOException;

    /**
     * Re-reads into {@code into}; without {@code full} a tiered source reads its
     * fast tier only and leaves the slow tier's fields of {@code into} as they
     * are (the caller carries its last values).  Sources without tiers read everything.
     */
    default boolean read(CgroupCounters into, boolean full) throws IOException {
        return read(into);
    }

    /** The cgroup directory, for a cgroup source. */
    Optional<Path> cgroup();

    /** The main process, where the source knows it (else the oldest in the cgroup, from /proc). */
    default java.util.OptionalLong mainPid() {
        return java.util.OptionalLong.empty();
    }

    /** When the main process started, where the source knows it. */
    default Optional<java.time.Instant> mainStart() {
        return Optional.empty();
    }

    /**
     * Catches up with changes a per-sample read does not look for (files that
     * appeared, sub-cgroups); may allocate: the collector calls it now and then.
     */
    default int refresh() throws IOException {
        return 0;
    }

    @Override
    void close();
}
