package dev.rbee.hive.monitor.systemd;

import dev.rbee.hive.monitor.internal.Errno;
import dev.rbee.hive.monitor.internal.Libc;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Whether a cgroup was delegated to this process: systemd marks a unit made
 * with Delegate=yes with the xattr {@code trusted.delegate=1} (the system
 * manager) or {@code user.delegate=1} (a user manager), and chowns the
 * directory and its cgroup.procs, cgroup.subtree_control and cgroup.threads to
 * the unit's user.  What counts for the kernel is write access to those: the
 * marker only says that systemd will not write below it.
 *
 * <p>Immutable result of a one-time look; thread-safe.
 *
 * @param dir         the cgroup directory
 * @param notWritable the files (and the directory) this uid cannot write, empty when delegated
 * @param marker      "trusted.delegate" or "user.delegate" when that xattr reads "1"
 */
public record Delegation(Path dir, List<String> notWritable, Optional<String> marker) {
    /** The files a delegatee must be able to write (systemd's Delegate= chowns the same). */
    static final List<String> FILES = List.of("cgroup.procs", "cgroup.subtree_control");

    public Delegation {
        notWritable = List.copyOf(notWritable);
    }

    /**
     * Looks at {@code dir} as the calling process (its uid; root may write everything).
     *
     * @param dir a cgroup2 directory
     * @return what was found
     */
    public static Delegation inspect(Path dir) {
        List<String> no = new ArrayList<>();
        if (!Files.isWritable(dir)) no.add(dir.toString());
        for (String f : FILES) if (!Files.isWritable(dir.resolve(f))) no.add(dir.resolve(f).toString());
        return new Delegation(dir, no, marker(dir));
    }

    /** The delegation xattr that reads "1", if any. */
    static Optional<String> marker(Path dir) {
        for (String name : List.of("trusted.delegate", "user.delegate")) {
            int[] errno = new int[1];
            byte[] v = Libc.getxattr(dir.toString(), name, errno);
            if (v != null && new String(v, StandardCharsets.US_ASCII).strip().equals("1")) return Optional.of(name);
            // ENODATA: not set; EPERM/ENOTSUP (trusted.* needs CAP_SYS_ADMIN to read, old kernels): unknown, as absent
            if (v == null && errno[0] == Errno.ENOENT) break;
        }
        return Optional.empty();
    }

    /** Whether this uid can write everything a delegatee needs. */
    public boolean writable() {
        return notWritable.isEmpty();
    }
}
