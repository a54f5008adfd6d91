package dev.rbee.hive.monitor.cgroup;

import dev.rbee.hive.monitor.CgroupException;
import dev.rbee.hive.monitor.Limits;
import dev.rbee.hive.monitor.MonitorConfig;
import dev.rbee.hive.monitor.SpawnException;
import dev.rbee.hive.monitor.SpawnException.Step;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The {@code rbee.slice/{group}/{instance}} tree under a cgroup2 mount.
 *
 * <p>Only leaves hold processes ("no internal processes": a cgroup with
 * controllers in its subtree_control cannot).  Controllers are enabled in the
 * ancestors' cgroup.subtree_control only where a limit or a stat needs them and
 * the parent offers them: a limit whose controller is missing fails with the
 * file and value; a stat whose controller is missing is later reported absent.
 */
public final class CgroupTree {
    /** How long rmdir is retried on EBUSY (runc ~1 s, crun up to 5 s). */
    public static final long RMDIR_BUDGET_MS = 2_000;

    private final Path root;

    /** @param root the rbee.slice directory (its parent must be a cgroup2 directory) */
    public CgroupTree(Path root) {
        this.root = root;
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

    /** A leaf made ready for a worker, and the directories made for it (removed again on failure). */
    public record Prepared(Path leaf, List<Path> created) {}

    /**
     * Creates (or reuses an empty leftover) leaf, enables the controllers it
     * needs and writes its limits.  On failure everything it created is removed
     * before the exception is thrown.
     */
    public synchronized Prepared prepare(MonitorConfig cfg) throws SpawnException {
        Path group = groupDir(cfg.group()), leaf = leaf(cfg.group(), cfg.instance());
        List<Path> created = new ArrayList<>();
        try {
            mkdir(root, created);
            mkdir(group, created);
            if (!created.contains(group) && Files.isDirectory(leaf, LinkOption.NOFOLLOW_LINKS)) {
                if (CgroupFiles.populated(leaf))
                    throw new SpawnException(Step.BUSY, "instance busy: " + cfg.id() + " already has processes in " + leaf);
                // A leftover leaf may carry old limits: recreate it so the worker starts from defaults.
                CgroupFiles.rmdir(leaf, RMDIR_BUDGET_MS);
            }
            mkdir(leaf, created);
            enableControllers(cfg.limits(), List.of(root.getParent(), root, group));
            applyLimits(leaf, cfg.limits());
            return new Prepared(leaf, created);
        } catch (SpawnException e) {
            rollback(new Prepared(leaf, created), e);
            throw e;
        } catch (IOException e) {
            SpawnException se = new SpawnException(Step.MKDIR, errnoOf(e), e.getMessage(), e);
            rollback(new Prepared(leaf, created), se);
            throw se;
        }
    }

    private static void mkdir(Path dir, List<Path> created) throws CgroupException {
        if (CgroupFiles.mkdir(dir)) created.add(dir);
    }

    /** Removes the leaf and the directories this preparation created, deepest first, if empty. */
    public void rollback(Prepared p, Exception reason) {
        List<Path> dirs = new ArrayList<>(p.created());
        if (!dirs.contains(p.leaf())) dirs.add(p.leaf());
        dirs.sort((a, b) -> b.getNameCount() - a.getNameCount());
        synchronized (this) {
            for (Path d : dirs) {
                try {
                    CgroupFiles.rmdir(d, RMDIR_BUDGET_MS);
                } catch (CgroupException e) {
                    reason.addSuppressed(e);
                }
            }
        }
    }

    /**
     * Removes an empty leaf (EBUSY retried, see {@link #RMDIR_BUDGET_MS}) and then
     * its group directory if that is empty too.  A cgroup that still holds
     * processes is never removed.  Returns whether the leaf is gone (also when
     * someone else removed it first, e.g. a second monitor that adopted it).
     */
    public synchronized boolean remove(Path leaf) {
        try {
            if (CgroupFiles.populated(leaf)) return false;
            CgroupFiles.rmdir(leaf, RMDIR_BUDGET_MS); // false: already gone
        } catch (IOException e) {
            // ENODEV/ENOENT while someone else removes it: gone is gone (its directory goes last).
            try {
                if (!dev.rbee.hive.monitor.internal.Backoff.await(() -> !Files.exists(leaf), 200)) return false;
            } catch (IOException ignored) {
                return false;
            }
        }
        removeIfEmpty(leaf.getParent());
        return true;
    }

    private void removeIfEmpty(Path group) {
        try {
            CgroupFiles.rmdir(group, 0); // ENOTEMPTY/EBUSY: another worker lives there
        } catch (CgroupException ignored) {
            // not empty: fine
        }
    }

    /** The leaves {@code rbee.slice/{group}/{instance}} that exist now, whether populated or not. */
    public List<Path> leaves() throws IOException {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(root)) return out;
        try (var groups = Files.list(root)) {
            for (Path g : groups.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).sorted().toList()) {
                if (!dev.rbee.hive.monitor.Names.isValid(g.getFileName().toString())) continue;
                try (var leaves = Files.list(g)) {
                    leaves.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))
                            .filter(p -> dev.rbee.hive.monitor.Names.isValid(p.getFileName().toString()))
                            .sorted().forEach(out::add);
                } catch (java.nio.file.NoSuchFileException gone) {
                    // removed while we listed it
                }
            }
        }
        return out;
    }

    /**
     * Removes every empty leaf and then every empty group (leftovers of a
     * supervisor that died).  Populated leaves are left alone.  Returns what
     * was removed.
     */
    public synchronized List<Path> cleanupStale() throws IOException {
        List<Path> removed = new ArrayList<>();
        for (Path leaf : leaves()) {
            if (CgroupFiles.populated(leaf)) continue;
            try {
                if (CgroupFiles.rmdir(leaf, RMDIR_BUDGET_MS)) removed.add(leaf);
            } catch (CgroupException e) {
                // populated again meanwhile (a spawn reused it): leave it
            }
        }
        if (Files.isDirectory(root)) {
            try (var groups = Files.list(root)) {
                for (Path g : groups.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).toList()) {
                    try {
                        if (CgroupFiles.rmdir(g, 0)) removed.add(g);
                    } catch (CgroupException notEmpty) {
                        // a group with live workers
                    }
                }
            }
        }
        return removed;
    }

    /**
     * Enables, from the top down, each controller that a limit or a stat needs,
     * in every directory of {@code chain} (the parents of the leaf, outermost first).
     */
    void enableControllers(Limits limits, List<Path> chain) throws SpawnException, IOException {
        Set<Controller> wanted = new LinkedHashSet<>();
        for (Controller c : Controller.all())
            if (!c.limitWrites(limits).isEmpty() || c.neededForStats()) wanted.add(c);
        for (Controller c : wanted) {
            boolean required = !c.limitWrites(limits).isEmpty();
            for (Path dir : chain) {
                Path subtree = dir.resolve("cgroup.subtree_control");
                if (CgroupFiles.words(subtree).contains(c.name())) continue;
                Set<String> available = CgroupFiles.words(dir.resolve("cgroup.controllers"));
                if (!available.contains(c.name())) {
                    if (!required) break; // its stats will be absent, with this reason
                    LimitWrite first = c.limitWrites(limits).get(0);
                    throw new SpawnException(Step.SUBTREE_CONTROL, null,
                            "cannot apply " + first.file() + "=\"" + first.value() + "\": the " + c.name()
                                    + " controller is not available in " + dir.resolve("cgroup.controllers")
                                    + " (it lists: " + (available.isEmpty() ? "nothing" : String.join(" ", available))
                                    + "), so \"+" + c.name() + "\" cannot be written to " + subtree, null);
                }
                try {
                    CgroupFiles.write(subtree, "+" + c.name());
                } catch (CgroupException e) {
                    if (!required) break;
                    throw new SpawnException(Step.SUBTREE_CONTROL, e.errno().orElse(null), e.getMessage(), e);
                }
            }
        }
    }

    /** Writes every limit; the first refusal fails with the file, the value and the errno. */
    static void applyLimits(Path leaf, Limits limits) throws SpawnException {
        for (Controller c : Controller.all()) {
            for (LimitWrite w : c.limitWrites(limits)) {
                try {
                    CgroupFiles.write(leaf.resolve(w.file()), w.value());
                } catch (CgroupException e) {
                    throw new SpawnException(Step.LIMIT, e.errno().orElse(null), e.getMessage(), e);
                }
            }
        }
    }

    private static String errnoOf(IOException e) {
        return e instanceof CgroupException ce ? ce.errno().orElse(null) : null;
    }
}
