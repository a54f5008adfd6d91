package dev.rbee.hive.monitor.cgroup;

import dev.rbee.hive.monitor.internal.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Tells whether the {@code root/group/instance} tree may have changed since
 * the last look, so that a sampling round lists the tree only when it did:
 * inotify watches on the root and on every group directory report each mkdir
 * and rmdir (cgroupfs sends them like any file system).  A round with no
 * change costs one read(2) that finds nothing, and allocates nothing.
 *
 * <p>Callers list the tree after {@link #changed} said yes, and call
 * {@link #watchGroup} for each group <em>before</em> listing it: a leaf made
 * between the two is then reported at the next look, never missed.  When the
 * events overflow, the root is missing, or inotify is unavailable, every look
 * says yes (the tree is listed each round, as without a watch).
 *
 * <p>Not thread-safe: one sampling thread (the collector's lock).
 */
public final class TreeWatch implements AutoCloseable {
    private static final int MASK = Libc.IN_CREATE | Libc.IN_DELETE | Libc.IN_MOVED_FROM | Libc.IN_MOVED_TO
            | Libc.IN_DELETE_SELF | Libc.IN_ONLYDIR;

    private final Path root;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment events = arena.allocate(16 * 1024, 8);
    private int fd;
    private boolean dirty = true;

    public TreeWatch(Path root) {
        this.root = root;
        this.fd = Libc.inotifyInit(Libc.IN_NONBLOCK | Libc.IN_CLOEXEC);
    }

    /**
     * Whether the tree may have changed since the last call (true the first
     * time).  Drains the pending events; no allocation when there are none.
     */
    public synchronized boolean changed() {
        if (fd < 0) return true;
        boolean any = dirty;
        dirty = false;
        while (Libc.readRaw(fd, events) > 0) any = true;
        if (any && Libc.inotifyAddWatch(fd, root.toString(), MASK) < 0) dirty = true; // no root yet: look every round
        return any;
    }

    /** Watches a group directory; call it before listing the group (see the class note). */
    public synchronized void watchGroup(Path group) {
        if (fd >= 0 && Libc.inotifyAddWatch(fd, group.toString(), MASK) < 0 && Files.isDirectory(group))
            dirty = true; // cannot watch it (watch limit reached): keep listing every round
    }

    @Override
    public synchronized void close() {
        if (fd >= 0) Libc.close(fd);
        fd = -1;
        arena.close();
    }
}
