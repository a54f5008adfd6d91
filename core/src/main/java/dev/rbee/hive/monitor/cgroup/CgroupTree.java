package dev.rbee.hive.monitor.cgroup;

import dev.rbee.hive.monitor.model.CgroupException;
import dev.rbee.hive.monitor.model.Limits;
import dev.rbee.hive.monitor.model.MonitorConfig;
import dev.rbee.hive.monitor.model.Names;
import dev.rbee.hive.monitor.model.SpawnException;
import dev.rbee.hive.monitor.model.SpawnException.Step;
import dev.rbee.hive.monitor.internal.Errno;
import dev.rbee.hive.monitor.internal.Libc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code rbee.slice/{group}/{instance}} tree under a cgroup2 mount, and
 * who owns each id in it.
 *
 * <p>Ownership (docs/identity.md): the owner of {@code group/instance} holds an
 * flock on the leaf directory for the worker's whole life.  Every change of
 * owner (claim for a spawn, takeover after a crash, cleanup of leftovers)
 * happens while holding an flock on the group directory, so that a leaf is
 * never seen between its mkdir and its owner's lock.  The group lock is
 * the only lock ever waited for; leaf locks are only tried (LOCK_NB), so no
 * two holders can wait on each other.  The kernel drops both with the
 * process, so a crashed owner leaves no stale lock.
 *
 * <p>Only leaves hold processes ("no internal processes").  Controllers are
 * enabled in {@code cgroup.subtree_control} of our own directories only (the
 * root and the groups), never above: what the root's parent does not offer
 * (systemd's, or the administrator's, file) is a failed limit or an absent stat.
 *
 * <p>Thread-safe: every method may be called from any thread, in any number of
 * processes at once.
 */
public final class CgroupTree {
    /** How long rmdir is retried on EBUSY (runc ~1 s, crun up to 5 s). */
    public static final long RMDIR_BUDGET_MS = 2_000;

    private final Path root;
    private final RootKeeper keeper;

    /** @param root the rbee.slice directory (its parent must be a cgroup2 directory); made by the first claim */
    public CgroupTree(Path root) {
        this(root, RootKeeper.OURS);
    }

    /**
     * @param root   the directory that holds the groups
     * @param keeper makes sure it exists before each claim; unless {@link RootKeeper#OURS}, the tree never
     *               makes nor removes the root itself (a systemd scope, a delegated cgroup)
     */
    public CgroupTree(Path root, RootKeeper keeper) {
        this.root = root;
        this.keeper = keeper;
    }

    public Path root() {
        return root;
    }

    public Path groupDir(String group) {
        return root.resolve(group);
    }

    public Path leaf(String group, String instance) {
        return root.resolve(group).resolve(instance);
    }

    /**
     * Takes {@code cfg}'s id for a new life: makes its leaf (an empty leftover
     * of a dead owner is made anew, so no old limit stays), locks it, enables
     * the controllers it needs and writes its limits.  On failure nothing made
     * here is left.
     *
     * @throws SpawnException {@code BUSY} naming the owner when the id is taken,
     *         or has live processes whose owner died (adopt or stop them first)
     */
    public Leaf claim(MonitorConfig cfg) throws SpawnException {
        Path leafDir = leaf(cfg.group(), cfg.instance());
        keeper.ensure();
        try (GroupLock g = lockGroup(cfg.group(), true)) {
            // The usual claim finds no leaf: its mkdir is the test (no open and statx of a missing path first).
            if (!CgroupFiles.mkdir(leafDir)) {
                Optional<Leaf> old = tryLock(leafDir);
                if (old.isEmpty() && Libc.inode(leafDir.toString()) >= 0)
                    throw new SpawnException(Step.BUSY, "instance busy: " + cfg.id() + " is owned by " + owner(leafDir));
                if (old.isPresent()) {
                    try (Leaf o = old.get()) {
                        if (CgroupFiles.populated(leafDir))
                            throw new SpawnException(Step.BUSY, "instance busy: " + cfg.id() + " has live processes ("
                                    + pidsOf(leafDir) + ") and no owner (its supervisor died): adopt it (ProcessMonitor.worker)"
                                    + " or stop it (rbee-mon stop " + cfg.id() + ") first");
                        removeTree(leafDir); // a dead owner's empty leaf: made anew below, without its old limits
                    }
                }
                if (!CgroupFiles.mkdir(leafDir))
                    throw new SpawnException(Step.BUSY, "instance busy: " + leafDir + " was made by a process that does not take "
                            + "the group lock");
            }
            Leaf l = tryLock(leafDir).orElseThrow(() -> new CgroupException(leafDir, "EWOULDBLOCK",
                    "cannot lock the new cgroup " + leafDir + ": locked by " + owner(leafDir)));
            l.madeRoot = g.createdRoot;
            try {
                enableControllers(cfg.limits(), List.of(root, groupDir(cfg.group())));
                applyLimits(l, cfg.limits());
                return l;
            } catch (SpawnException | RuntimeException e) {
                removeQuietly(l, g, e);
                throw e;
            } catch (IOException e) {
                removeQuietly(l, g, e);
                throw e;
            }
        } catch (SpawnException e) {
            throw e;
        } catch (IOException e) {
            throw new SpawnException(Step.MKDIR, e instanceof CgroupException ce ? ce.errno().orElse(null) : null,
                    e.getMessage(), e);
        }
    }

    private void removeQuietly(Leaf l, GroupLock g, Exception reason) {
        try {
            removeTree(l.path());
            // A failed spawn leaves nothing: the group, and the root if this claim made it (a root that was there
            // before, e.g. a delegated one, is not ours to remove).  A concurrent claim that loses the root to
            // this rmdir makes it again: see lockGroup.
            if (g.removeIfEmpty() && g.createdRoot) rmdirIfEmpty(root);
        } catch (IOException e) {
            reason.addSuppressed(e);
        } finally {
            l.close();
        }
    }

    /** What a takeover of an id found. */
    public sealed interface Takeover {
        /** A live worker whose owner is gone: now ours. */
        record Taken(Leaf leaf) implements Takeover {}
        /**
         * Another live process owns it: {@code leaf} pins the directory whose lock was found held (an observer's
         * leaf, opened under the group lock, so it is that very life's and no successor's).  The caller closes
         * it.  The owner is not named here: naming reads /proc/locks, one line per lock on the host, and a
         * monitor observing N owned workers would read it N times (O(N^2)); see {@code owner(Path)}.
         */
        record Owned(Leaf leaf) implements Takeover {}
        /** No leaf, or an empty one. */
        record None() implements Takeover {}
    }

    /** Takes over a populated leaf whose owner is gone (a supervisor that crashed or was restarted). */
    public Takeover takeOver(String group, String instance) throws IOException {
        return takeOver(group, List.of(instance)).get(0);
    }

    /**
     * As {@link #takeOver(String, String)} for several instances of one group,
     * under one hold of the group's lock (adopting a whole hive took and
     * dropped it once per worker).  The answers come in the order asked; if
     * one fails, the leaves already taken are let go before the exception.
     */
    public List<Takeover> takeOver(String group, List<String> instances) throws IOException {
        List<Takeover> out = new ArrayList<>(instances.size());
        try (GroupLock g = lockGroup(group, false)) {
            Path groupDir = g == null ? null : g.dir;
            for (String instance : instances) {
                if (g == null) {
                    out.add(new Takeover.None());
                    continue;
                }
                // openat on the locked group's fd: the leaf of the very group we hold, one name to walk; the same
                // fd is the owner's lock, or the observer's pin (one open either way, no second path lookup).
                int fd = Libc.openat(g.fd, instance, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC);
                if (fd < 0) {
                    if (-fd == Errno.ENOENT) {
                        out.add(new Takeover.None());
                        continue;
                    }
                    Path leafDir = groupDir.resolve(instance);
                    throw new CgroupException(leafDir, Libc.errnoName(-fd), "cannot open cgroup " + leafDir + ": " + Libc.errnoName(-fd));
                }
                int r = Libc.flock(fd, Libc.LOCK_EX | Libc.LOCK_NB);
                if (r < 0 && -r != Errno.EAGAIN) {
                    Libc.close(fd);
                    Path leafDir = groupDir.resolve(instance);
                    throw new CgroupException(leafDir, Libc.errnoName(-r), "cannot flock " + leafDir + ": " + Libc.errnoName(-r));
                }
                Leaf l = new Leaf(groupDir.resolve(instance), Libc.inode(fd), fd, r == 0);
                if (!l.owner()) {
                    out.add(new Takeover.Owned(l));
                    continue;
                }
                boolean populated;
                try {
                    populated = CgroupFiles.populated(fd, l.path());
                } catch (IOException | RuntimeException e) {
                    l.close();
                    throw e;
                }
                if (populated) out.add(new Takeover.Taken(l));
                else {
                    l.close(); // a dead owner's empty leaf: not a worker; cleanup removes it
                    out.add(new Takeover.None());
                }
            }
            return out;
        } catch (IOException | RuntimeException e) {
            for (Takeover t : out) {
                if (t instanceof Takeover.Taken taken) taken.leaf().close();
                else if (t instanceof Takeover.Owned owned) owned.leaf().close();
            }
            throw e;
        }
    }

    /**
     * Ends an owned life: removes its leaf (worker-made sub-cgroups first), its
     * group if now empty, and releases the lock.  Returns whether the leaf is
     * gone; false if processes are still in it (then it stays, with no owner,
     * for a later cleanup or takeover).
     */
    public boolean release(Leaf l) {
        try (l; GroupLock g = lockGroup(l.path().getParent().getFileName().toString(), false)) {
            if (!l.isCurrent()) return true; // removed by someone who ignored our lock: nothing of ours left
            // rmdir first: it fails (EBUSY) for a populated leaf, so the usual empty one costs no read of cgroup.events
            int r = Libc.rmdir(l.path().toString());
            if (r < 0 && -r != Errno.ENOENT) {
                if (CgroupFiles.populated(l.directoryFd(), l.path())) return false;
                removeTree(l.path()); // sub-cgroups the worker made
            }
            if (g != null) g.removeIfEmpty();
            return true;
        } catch (IOException e) {
            return !Files.exists(l.path(), LinkOption.NOFOLLOW_LINKS);
        }
    }

    /**
     * Ends a life whose spawn failed (the target never ran): as {@link #release},
     * and the root goes too if the claim made it, so that the failure leaves nothing.
     */
    public void abandon(Leaf l) {
        if (release(l) && l.madeRoot) rmdirIfEmpty(root);
    }

    /** The leaves {@code rbee.slice/{group}/{instance}} that exist now, whether populated or not. */
    public List<Path> leaves() throws IOException {
        return leaves(g -> { });
    }

    /** As {@link #leaves()}; {@code beforeListing} sees each group just before it is listed (see {@link TreeWatch}). */
    public List<Path> leaves(java.util.function.Consumer<Path> beforeListing) throws IOException {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(root)) return out;
        try (var groups = Files.list(root)) {
            for (Path g : groups.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).sorted().toList()) {
                if (!Names.isValid(g.getFileName().toString())) continue;
                beforeListing.accept(g);
                try (var leaves = Files.list(g)) {
                    leaves.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))
                            .filter(p -> Names.isValid(p.getFileName().toString()))
                            .sorted().forEach(out::add);
                } catch (java.nio.file.NoSuchFileException gone) {
                    // removed while we listed it
                }
            }
        }
        return out;
    }

    /**
     * Removes every empty leaf that has no owner, then every empty group
     * (leftovers of a supervisor that died).  Leaves that are owned or hold
     * processes are left alone.  Returns what was removed.
     */
    public List<Path> cleanupStale() throws IOException {
        List<Path> removed = new ArrayList<>();
        if (!Files.isDirectory(root)) return removed;
        List<String> groups;
        try (var s = Files.list(root)) {
            groups = s.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).map(p -> p.getFileName().toString())
                    .filter(Names::isValid).sorted().toList();
        }
        for (String group : groups) {
            try (GroupLock g = lockGroup(group, false)) {
                if (g == null) continue;
                List<Path> leaves;
                try (var s = Files.list(groupDir(group))) {
                    leaves = s.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).sorted().toList();
                }
                for (Path leafDir : leaves) {
                    Optional<Leaf> l = tryLock(leafDir);
                    if (l.isEmpty()) continue; // owned
                    try (Leaf unowned = l.get()) {
                        if (CgroupFiles.populated(leafDir)) continue; // a live worker without owner: adopt, not remove
                        removeTree(leafDir);
                        removed.add(leafDir);
                    } catch (CgroupException e) {
                        // populated again meanwhile: leave it
                    }
                }
                if (g.removeIfEmpty()) removed.add(groupDir(group));
            }
        }
        return removed;
    }

    /** Reads of /proc/locks by {@link #owner}: O(locks on the host) each, so counted (see AdoptionCostTest). */
    private static final java.util.concurrent.atomic.AtomicLong LOCK_TABLE_READS = new java.util.concurrent.atomic.AtomicLong();

    static long lockTableReads() {
        return LOCK_TABLE_READS.get();
    }

    /** "pid N (comm)" of the process holding the flock on {@code dir}, from /proc/locks. */
    static String owner(Path dir) {
        LOCK_TABLE_READS.incrementAndGet();
        long ino = Libc.inode(dir.toString());
        try {
            for (String line : Files.readAllLines(Path.of("/proc/locks"))) {
                String[] f = line.trim().split("\\s+");
                // "1: FLOCK  ADVISORY  WRITE 2787 00:26:25 0 EOF"; waiters read "1: -> FLOCK ..."
                if (f.length < 6 || !f[1].equals("FLOCK") || !f[5].endsWith(":" + ino)) continue;
                String comm = Files.readString(Path.of("/proc", f[4], "comm")).strip();
                return "pid " + f[4] + " (" + comm + ")";
            }
        } catch (IOException | RuntimeException e) {
            // the owner is gone, or /proc/locks is hidden: say what we know
        }
        return "another live process";
    }

    private static String pidsOf(Path leafDir) throws IOException {
        List<Long> pids = CgroupFiles.pids(leafDir);
        return pids.isEmpty() ? "in sub-cgroups" : "pids " + pids;
    }

    /** The leaf locked, if no one else holds it; empty if it is locked or does not exist. */
    private static Optional<Leaf> tryLock(Path dir) throws CgroupException {
        int fd = Libc.openDirectory(dir.toString());
        if (fd < 0) {
            if (-fd == Errno.ENOENT) return Optional.empty();
            throw new CgroupException(dir, Libc.errnoName(-fd), "cannot open cgroup " + dir + ": " + Libc.errnoName(-fd));
        }
        int r = Libc.flock(fd, Libc.LOCK_EX | Libc.LOCK_NB);
        if (r < 0) {
            Libc.close(fd);
            if (-r == Errno.EAGAIN) return Optional.empty();
            throw new CgroupException(dir, Libc.errnoName(-r), "cannot flock " + dir + ": " + Libc.errnoName(-r));
        }
        return Optional.of(new Leaf(dir, Libc.inode(fd), fd, true));
    }

    /**
     * Removes a cgroup and whatever sub-cgroups its worker made, deepest first
     * (rmdir of a cgroup with children fails EBUSY).  False if it did not exist.
     */
    static boolean removeTree(Path dir) throws CgroupException {
        // Most workers make no sub-cgroup: one rmdir, no listing (a listing costs ~5 KB of garbage per life).
        int r = Libc.rmdir(dir.toString());
        if (r == 0) return true;
        if (-r == Errno.ENOENT) return false;
        List<Path> all;
        try {
            all = CgroupFiles.subtree(dir);
        } catch (IOException e) {
            throw new CgroupException(dir, null, "cannot list cgroup " + dir + ": " + e.getMessage());
        }
        for (int i = all.size() - 1; i > 0; i--) CgroupFiles.rmdir(all.get(i), RMDIR_BUDGET_MS);
        return CgroupFiles.rmdir(dir, RMDIR_BUDGET_MS);
    }

    /**
     * The flock on a group directory, held while owners change.  A waiter can
     * wake holding the lock of a directory that was removed meanwhile: it
     * checks that the path still names the inode it locked, else tries again.
     */
    private GroupLock lockGroup(String group, boolean create) throws IOException {
        Path dir = groupDir(group);
        boolean createdRoot = false;
        for (int attempt = 0; ; attempt++) {
            if (create) {
                try {
                    // The group first: the root is there for every claim but the first (no EEXIST mkdir each time).
                    int r = Libc.mkdir(dir.toString(), 0755);
                    if (-r == Errno.ENOENT && keeper.rootIsOurs()) {
                        createdRoot |= CgroupFiles.mkdir(root);
                        CgroupFiles.mkdir(dir);
                    } else if (r < 0 && -r != Errno.EEXIST) {
                        throw new CgroupException(dir, Libc.errnoName(-r), "cannot create cgroup " + dir + ": " + Libc.errnoName(-r));
                    }
                } catch (CgroupException e) {
                    // ENOENT: the root was removed between our two mkdirs (a failed spawn cleaning up): again
                    if (!e.errno().orElse("").equals("ENOENT") || attempt > 100) throw e;
                    continue;
                }
            }
            int fd = Libc.openDirectory(dir.toString());
            if (fd < 0) {
                if (-fd != Errno.ENOENT) throw new CgroupException(dir, Libc.errnoName(-fd), "cannot open cgroup " + dir + ": " + Libc.errnoName(-fd));
                if (!create) return null;
                if (attempt > 100) throw new CgroupException(dir, "ENOENT", "cgroup " + dir + " keeps being removed while we make it");
                continue; // removed by another monitor between our mkdir and open: make it again
            }
            int r = Libc.flock(fd, Libc.LOCK_EX);
            if (r < 0) {
                Libc.close(fd);
                throw new CgroupException(dir, Libc.errnoName(-r), "cannot flock " + dir + ": " + Libc.errnoName(-r));
            }
            if (Libc.inode(fd) == Libc.inode(dir.toString())) return new GroupLock(dir, fd, createdRoot);
            Libc.close(fd);
            if (!create) return null;
        }
    }

    private static boolean rmdirIfEmpty(Path dir) {
        try {
            return CgroupFiles.rmdir(dir, 0);
        } catch (CgroupException notEmpty) {
            return false; // ENOTEMPTY/EBUSY: another worker lives there
        }
    }

    private static final class GroupLock implements AutoCloseable {
        private final Path dir;
        private final int fd;
        /** Whether taking this lock made the root directory (then a failed claim removes it again). */
        final boolean createdRoot;

        GroupLock(Path dir, int fd, boolean createdRoot) {
            this.dir = dir;
            this.fd = fd;
            this.createdRoot = createdRoot;
        }

        /** rmdir of the group if no leaf is left in it (the lock goes with it). */
        boolean removeIfEmpty() {
            return rmdirIfEmpty(dir);
        }

        @Override
        public void close() {
            Libc.close(fd);
        }
    }

    /**
     * Enables, from the top down, each controller that a limit or a stat needs,
     * in every directory of {@code chain} (the parents of the leaf, outermost first).
     */
    void enableControllers(Limits limits, List<Path> chain) throws SpawnException, IOException {
        Set<Controller> wanted = new LinkedHashSet<>();
        boolean none = limits.isEmpty(); // the usual spawn: no limit, so no LimitWrite lists to build
        for (Controller c : Controller.all())
            if (c.neededForStats() || !none && !c.limitWrites(limits).isEmpty()) wanted.add(c);
        // Each directory's two files read once per claim, not once per controller (a spawn read them 10 times).
        List<Set<String>> enabled = new ArrayList<>(), offered = new ArrayList<>();
        for (int i = 0; i < chain.size(); i++) {
            enabled.add(null);
            offered.add(null);
        }
        for (Controller c : wanted) {
            boolean required = !none && !c.limitWrites(limits).isEmpty();
            for (int i = 0; i < chain.size(); i++) {
                Path dir = chain.get(i);
                if (enabled.get(i) == null) enabled.set(i, CgroupFiles.words(dir.resolve("cgroup.subtree_control")));
                if (enabled.get(i).contains(c.name())) continue;
                if (offered.get(i) == null) offered.set(i, CgroupFiles.words(dir.resolve("cgroup.controllers")));
                Set<String> available = offered.get(i);
                if (!available.contains(c.name())) {
                    if (!required) break; // its stats will be absent, with this reason
                    LimitWrite first = c.limitWrites(limits).get(0);
                    String fix = dir.equals(root) ? "; it is enabled in " + root.getParent().resolve("cgroup.subtree_control")
                            + ", which is not ours to write (systemd's Delegate=, or the administrator's)" : "";
                    throw new SpawnException(Step.SUBTREE_CONTROL, null,
                            "cannot apply " + first.file() + "=\"" + first.value() + "\": the " + c.name()
                                    + " controller is not available in " + dir.resolve("cgroup.controllers")
                                    + " (it lists: " + (available.isEmpty() ? "nothing" : String.join(" ", available))
                                    + "), so \"+" + c.name() + "\" cannot be written to " + dir.resolve("cgroup.subtree_control")
                                    + fix, null);
                }
                try {
                    CgroupFiles.write(dir.resolve("cgroup.subtree_control"), "+" + c.name());
                    // Read again: this directory's for the next controller (the kernel's word, not ours), and the
                    // children's cgroup.controllers, which now offer it.
                    enabled.set(i, null);
                    for (int j = i + 1; j < chain.size(); j++) offered.set(j, null);
                } catch (CgroupException e) {
                    if (!required) break;
                    throw new SpawnException(Step.SUBTREE_CONTROL, e.errno().orElse(null), e.getMessage(), e);
                }
            }
        }
    }

    /** Writes every limit; the first refusal fails with the file, the value and the errno. */
    static void applyLimits(Leaf leaf, Limits limits) throws SpawnException {
        if (limits.isEmpty()) return;
        for (Controller c : Controller.all()) {
            for (LimitWrite w : c.limitWrites(limits)) {
                try {
                    leaf.write(w.file(), w.value());
                } catch (CgroupException e) {
                    throw new SpawnException(Step.LIMIT, e.errno().orElse(null), e.getMessage(), e);
                }
            }
        }
    }

}
