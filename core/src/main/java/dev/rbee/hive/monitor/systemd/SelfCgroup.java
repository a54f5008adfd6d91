package dev.rbee.hive.monitor.systemd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The cgroup v2 path of a process, from {@code /proc/PID/cgroup}: the line
 * {@code 0::/PATH} (hybrid hosts list v1 hierarchies beside it).
 *
 * <p>Stateless: thread-safe.
 */
public final class SelfCgroup {
    private SelfCgroup() {}

    /**
     * The v2 path in a /proc/PID/cgroup text.
     *
     * @param text the file's content
     * @return the path ("/" or "/system.slice/x.service"); empty if there is no v2 line
     *         (a cgroup outside our namespace reads "/../..": also empty, it cannot be reached from here)
     */
    public static Optional<String> parse(String text) {
        for (String line : text.split("\n")) {
            if (!line.startsWith("0::")) continue;
            String p = line.substring(3).strip();
            if (!p.startsWith("/") || p.equals("/..") || p.startsWith("/../") || p.contains("/../")) return Optional.empty();
            return Optional.of(p);
        }
        return Optional.empty();
    }

    /**
     * This process's v2 cgroup directory under {@code mount}.
     *
     * @param mount the cgroup2 mount point (its root must be the namespace's root)
     * @return the directory, if this process has a v2 cgroup
     * @throws IOException if /proc/self/cgroup cannot be read
     */
    public static Optional<Path> of(Path mount) throws IOException {
        return parse(Files.readString(Path.of("/proc/self/cgroup"))).map(p -> p.equals("/") ? mount : mount.resolve(p.substring(1)));
    }
}
