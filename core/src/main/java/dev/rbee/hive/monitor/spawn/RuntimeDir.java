package dev.rbee.hive.monitor.spawn;

import dev.rbee.hive.monitor.internal.Libc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The private directory (mode 0700, owned by us, not a symlink) that holds the
 * unpacked launcher and the process-tree registry.  (Launch status sockets are
 * abstract now: no file; older versions left launch-*.sock files here.)  Another user able to write
 * there could swap the launcher, so its ownership and mode are checked.
 */
public final class RuntimeDir {
    private static final Set<PosixFilePermission> PRIVATE = PosixFilePermissions.fromString("rwx------");

    private RuntimeDir() {}

    /** $XDG_RUNTIME_DIR/rbee-hive-monitor, else /run/rbee-hive-monitor for root, else $TMPDIR/rbee-hive-monitor-UID. */
    public static Path get() throws IOException {
        int uid = Libc.getuid();
        String xdg = System.getenv("XDG_RUNTIME_DIR");
        Path dir;
        if (xdg != null && !xdg.isEmpty() && Files.isDirectory(Path.of(xdg))) dir = Path.of(xdg, "rbee-hive-monitor");
        else if (uid == 0 && Files.isWritable(Path.of("/run"))) dir = Path.of("/run/rbee-hive-monitor");
        else dir = Path.of(System.getProperty("java.io.tmpdir"), "rbee-hive-monitor-" + uid);
        return ensurePrivate(dir, uid);
    }

    /** Removes launch-*.sock files that older versions left when killed mid-spawn; returns them. */
    public static java.util.List<Path> removeStaleSockets(Path dir) throws IOException {
        java.util.List<Path> removed = new java.util.ArrayList<>();
        try (var s = Files.newDirectoryStream(dir, "launch-*.sock")) {
            for (Path p : s) if (Files.deleteIfExists(p)) removed.add(p);
        }
        return removed;
    }

    static Path ensurePrivate(Path dir, int uid) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PRIVATE));
            } catch (java.nio.file.FileAlreadyExistsException raced) {
                // another monitor made it first: checked below like any existing one
            }
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS))
            throw new IOException("runtime directory " + dir + " is not a directory (or is a symlink)");
        int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        if (owner != uid)
            throw new IOException("runtime directory " + dir + " is owned by uid " + owner + ", not by us (uid " + uid + ")");
        if (!Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS).equals(PRIVATE))
            Files.setPosixFilePermissions(dir, PRIVATE);
        return dir;
    }
}
