package dev.rbee.hive.monitor.cgroup;

import dev.rbee.hive.monitor.CgroupException;
import dev.rbee.hive.monitor.internal.Backoff;
import dev.rbee.hive.monitor.internal.Libc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Kills every process of a cgroup subtree at once: cgroup.kill (Linux 5.14+),
 * else freeze, SIGKILL every pid, thaw (frozen tasks cannot fork new ones
 * between our read of cgroup.procs and the kill).
 */
public final class CgroupKiller {
    private static final int SIGKILL = 9;

    private CgroupKiller() {}

    public static void kill(Path cgroup) throws IOException {
        kill(cgroup, Files.exists(cgroup.resolve("cgroup.kill")));
    }

    static void kill(Path cgroup, boolean useCgroupKill) throws IOException {
        if (useCgroupKill) {
            CgroupFiles.write(cgroup.resolve("cgroup.kill"), "1");
            return;
        }
        CgroupFiles.write(cgroup.resolve("cgroup.freeze"), "1");
        try {
            awaitEvent(cgroup, "frozen 1", 2_000);
            killAll(cgroup);
        } finally {
            thaw(cgroup);
        }
    }

    /** Thaws; a cgroup already removed (its last task died and someone cleaned up) needs no thaw. */
    private static void thaw(Path cgroup) throws CgroupException {
        try {
            CgroupFiles.write(cgroup.resolve("cgroup.freeze"), "0");
        } catch (CgroupException e) {
            if (Files.isDirectory(cgroup)) throw e;
        }
    }

    private static void killAll(Path dir) throws IOException {
        for (String pid : CgroupFiles.read(dir.resolve("cgroup.procs")).split("\n")) {
            if (pid.isBlank()) continue;
            int r = Libc.kill(Integer.parseInt(pid.strip()), SIGKILL);
            if (r < 0 && -r != dev.rbee.hive.monitor.internal.Errno.ESRCH)
                throw new CgroupException(dir, Libc.errnoName(-r), "cannot SIGKILL pid " + pid + " of " + dir + ": " + Libc.errnoName(-r));
        }
        try (var children = Files.list(dir)) {
            for (Path c : children.filter(Files::isDirectory).toList()) killAll(c);
        }
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
