package dev.rbee.hive.monitor.cgroup;

import dev.rbee.hive.monitor.model.CgroupException;
import dev.rbee.hive.monitor.internal.Backoff;
import dev.rbee.hive.monitor.internal.Pids;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Kills every process of a worker's cgroup subtree at once: cgroup.kill
 * (Linux 5.14+), else freeze, SIGKILL every pid through a pidfd, thaw (frozen
 * tasks cannot fork new ones between our read of cgroup.procs and the kill).
 * Writes go to the life's own directory ({@link Leaf}), never by path alone.
 */
public final class CgroupKiller {
    private static final int SIGKILL = 9;

    private CgroupKiller() {}

    /** Kills the tree; a cgroup already being removed (ENODEV: its last task died) needs nothing. */
    public static void kill(Leaf leaf) throws IOException {
        try {
            leaf.write("cgroup.kill", "1");
            return;
        } catch (CgroupException e) {
            String errno = e.errno().orElse("");
            if (errno.equals("ENODEV")) return;
            if (!errno.equals("ENOENT")) throw e; // ENOENT: no cgroup.kill before Linux 5.14
        }
        freezeKill(leaf);
    }

    static void freezeKill(Leaf leaf) throws IOException {
        leaf.write("cgroup.freeze", "1");
        try {
            awaitEvent(leaf.path(), "frozen 1", 2_000);
            signalAll(leaf.path(), SIGKILL);
        } finally {
            thaw(leaf);
        }
    }

    /** Thaws; a cgroup already removed (its last task died and someone cleaned up) needs no thaw. */
    private static void thaw(Leaf leaf) throws CgroupException {
        try {
            leaf.write("cgroup.freeze", "0");
        } catch (CgroupException e) {
            if (leaf.isCurrent()) throw e;
        }
    }

    /** {@code sig} to every process of the cgroup and its sub-cgroups, each through a pidfd. */
    public static void signalAll(Path cgroup, int sig) throws IOException {
        for (Path dir : CgroupFiles.subtree(cgroup))
            for (long pid : CgroupFiles.pids(dir)) Pids.signalMember(dir, pid, sig);
    }

    /** Waits until the cgroup and its descendants hold no process; false on timeout. */
    public static boolean awaitEmpty(Path cgroup, long timeoutMillis) throws IOException {
        return awaitEvent(cgroup, "populated 0", timeoutMillis);
    }

    /** Waits for a line of cgroup.events (a removed cgroup counts as empty and thawed). */
    private static boolean awaitEvent(Path cgroup, String line, long timeoutMillis) throws IOException {
        return Backoff.await(() -> {
            String events = CgroupFiles.read(cgroup.resolve("cgroup.events"));
            return events.isEmpty() || events.lines().anyMatch(line::equals);
        }, timeoutMillis);
    }
}
