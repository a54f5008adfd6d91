package dev.rbee.hive.monitor.backend;

import dev.rbee.hive.monitor.model.Backend;
import dev.rbee.hive.monitor.model.MonitorConfig;
import dev.rbee.hive.monitor.model.SpawnException;
import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.stats.Discovery;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** What differs between the backends: how a worker is started, found again, sampled and cleaned up after. */
public interface WorkerBackend {
    /** Starts a monitored worker ({@code spec.monitoring()} is present). */
    Life spawn(WorkerSpec spec) throws SpawnException;

    /** The live workers, as group/instance. */
    List<MonitorConfig> enumerate() throws IOException;

    /**
     * As {@link #enumerate()}, for {@code workers()}: an id for which {@code willAdopt} holds goes on to
     * {@link #adoptAll}, which finds out again whether it holds a live worker (an id without one adopts as
     * nothing), so a backend may list it without checking that here; the others are checked as by
     * {@link #enumerate()}.  By default, {@link #enumerate()}.
     */
    default List<MonitorConfig> enumerate(java.util.function.Predicate<MonitorConfig> willAdopt) throws IOException {
        return enumerate();
    }

    /** A handle on a live worker this monitor did not spawn. */
    Optional<Life> adopt(MonitorConfig cfg) throws IOException;

    /**
     * {@link #adopt} for each of {@code cfgs}, in order; a backend may share
     * work between them (one group lock per group).  If one fails, those
     * adopted before it are returned by nobody but stay registered (as with
     * {@link #adopt} one at a time), and nothing else is held.
     */
    default List<Optional<Life>> adoptAll(List<MonitorConfig> cfgs) throws IOException {
        List<Optional<Life>> out = new java.util.ArrayList<>(cfgs.size());
        for (MonitorConfig c : cfgs) out.add(adopt(c));
        return out;
    }

    /** How the stats collector finds the workers each round. */
    Discovery discovery();

    /** Removes what dead workers left behind; returns what was removed. */
    List<Path> cleanupStale() throws IOException;

    /** Fails a spawn whose limits no cgroup can enforce, unless the caller allowed that. */
    static void checkLimits(WorkerSpec spec, Backend backend) throws SpawnException {
        MonitorConfig cfg = spec.monitoring().orElseThrow();
        if (!cfg.limits().isEmpty() && !spec.allowUnenforcedLimits())
            throw new SpawnException(SpawnException.Step.BACKEND, "cannot apply the limits of " + cfg.id()
                    + ": no cgroup: limits unavailable on the " + backend.kind().name().toLowerCase() + " backend ("
                    + backend.reason() + "); allow running without them with allowUnenforcedLimits (--allow-no-limits)");
    }
}
