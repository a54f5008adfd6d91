package dev.rbee.hive.monitor.cgroup;

import dev.rbee.hive.monitor.model.CgroupException;
import dev.rbee.hive.monitor.internal.Libc;

import java.nio.file.Path;

/**
 * One worker's life in the cgroup tree: its leaf directory, the leaf's cgroup
 * id (the directory's inode: a leaf made again for a successor has another),
 * and an open fd on that very directory.  An owner's Leaf holds the flock on
 * it that says "this id is taken" to every other thread and process (see
 * docs/identity.md); an observer's Leaf (a worker another live process owns)
 * only pins the directory.
 *
 * <p>Writes go through {@code openat} on the held directory, so they reach
 * this life's cgroup and never a successor's that got the same path.
 * Thread-safe: any thread may write; {@link #close} once, by the life's end.
 */
public final class Leaf implements AutoCloseable {
    private final Path path;
    private final long id;
    private final boolean owner;
    private int fd;
    /** Whether the claim that made this leaf also made the tree's root (a failed spawn then removes it). */
    boolean madeRoot;

    Leaf(Path path, long id, int fd, boolean owner) {
        this.path = path;
        this.id = id;
        this.fd = fd;
        this.owner = owner;
    }

    /** Pins {@code dir} without taking it (a worker another live process owns); empty if it is gone. */
    public static java.util.Optional<Leaf> observe(Path dir) throws CgroupException {
        int fd = Libc.openDirectory(dir.toString());
        if (fd < 0) {
            if (-fd == dev.rbee.hive.monitor.internal.Errno.ENOENT) return java.util.Optional.empty();
            throw new CgroupException(dir, Libc.errnoName(-fd), "cannot open cgroup " + dir + ": " + Libc.errnoName(-fd));
        }
        return java.util.Optional.of(new Leaf(dir, Libc.inode(fd), fd, false));
    }

    public Path path() {
        return path;
    }

    /** The cgroup id: the leaf directory's inode number. */
    public long id() {
        return id;
    }

    /** Whether this process owns the id through this leaf (else it only observes another owner's worker). */
    public boolean owner() {
        return owner;
    }

    /**
     * The open directory fd of this very cgroup (for clone3's CLONE_INTO_CGROUP), or -1 once closed.  Valid
     * while the caller holds the leaf (a spawn between claim and release/abandon).
     */
    public synchronized int directoryFd() {
        return fd;
    }

    /** Whether {@link #path} still names this life's cgroup (not removed, not made again). */
    public boolean isCurrent() {
        return Libc.inode(path.toString()) == id;
    }

    /** Writes {@code value} to {@code file} of this very cgroup, in one write(2). */
    public synchronized void write(String file, String value) throws CgroupException {
        Path where = path.resolve(file);
        if (fd < 0) throw new CgroupException(where, "EBADF", "cannot write \"" + value + "\" to " + where + ": the worker's life has ended");
        CgroupFiles.writeAndClose(Libc.openat(fd, file, Libc.O_WRONLY | Libc.O_CLOEXEC | Libc.O_NOFOLLOW), where, value);
    }

    /** Releases the directory (and with it the owner's lock).  Idempotent. */
    @Override
    public synchronized void close() {
        if (fd >= 0) {
            Libc.close(fd);
            fd = -1;
        }
    }

    @Override
    public String toString() {
        return path + " (cgroup id " + id + (owner ? ", owned" : ", observed") + ")";
    }
}
