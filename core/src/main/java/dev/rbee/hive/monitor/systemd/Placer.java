package dev.rbee.hive.monitor.systemd;

import dev.rbee.hive.monitor.cgroup.CgroupFiles;
import dev.rbee.hive.monitor.cgroup.CgroupMount;
import dev.rbee.hive.monitor.model.CgroupException;
import dev.rbee.hive.monitor.model.Placement;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Chooses where the cgroup2 backend keeps its tree (docs/systemd.md) and
 * prepares it: SYSTEMD (a delegated transient scope asked of systemd), DELEGATED
 * (the cgroup we were started in, with this process moved into a leaf of its
 * own) or ROOT (a directory under the mount, today's rbee.slice).
 *
 * <p>Called once per monitor, by the thread that builds it.
 */
public final class Placer {
    /** Where systemd says it is the init system (sd_booted(3)). */
    public static final Path SYSTEMD_RUNTIME = Path.of("/run/systemd/system");
    /** The leaf a DELEGATED supervisor moves itself into: a name Names refuses, so it is never listed as a group. */
    public static final String SUPERVISOR_LEAF = ".supervisor";
    /** The controllers the cgroup2 backend uses for limits or stats. */
    static final List<String> USED = List.of("cpu", "io", "memory", "pids");

    private Placer() {}

    /**
     * What the builder asked for.
     *
     * @param asked          the placement asked for, empty for the automatic choice
     * @param root           a configured root (ROOT only)
     * @param mountinfo      where to read the mount table
     * @param unit           SYSTEMD: the hive's scope
     * @param slice          SYSTEMD: its slice
     * @param workersOutlive SYSTEMD: whether workers survive the stop of the supervisor's own unit
     * @param systemdRuntime the directory whose presence means systemd is PID 1
     */
    public record Request(Optional<Placement.Kind> asked, Optional<Path> root, Path mountinfo, String unit, String slice,
                          boolean workersOutlive, Path systemdRuntime) {}

    /** The outcome: a placement, or the reason no cgroup tree is possible (then the process tree is used). */
    public sealed interface Outcome {
        /** A tree root was found and prepared. */
        record Placed(Placement placement, dev.rbee.hive.monitor.cgroup.RootKeeper keeper) implements Outcome {
            Placed(Placement placement) {
                this(placement, placement.kind() == Placement.Kind.ROOT ? dev.rbee.hive.monitor.cgroup.RootKeeper.OURS
                        : new Existing(placement.root()));
            }
        }
        /** No cgroup2 here; {@code why} says what is missing. */
        record NoCgroup(String why) implements Outcome {}
    }

    /**
     * Chooses and prepares the placement.
     *
     * @param r what was asked
     * @return the placement, or why there is none
     * @throws IOException if the placement asked for cannot work (the message says why), or a file cannot be read
     */
    public static Outcome place(Request r) throws IOException {
        if (r.root().isPresent()) {
            if (r.asked().isPresent() && r.asked().get() != Placement.Kind.ROOT)
                throw new IllegalArgumentException("a configured root is for the ROOT placement, not " + r.asked().get());
            return new Outcome.Placed(root(r.root().get(), "configured root"));
        }
        Optional<CgroupMount> m = CgroupMount.find(r.mountinfo());
        if (m.isEmpty()) {
            if (r.asked().isPresent())
                throw new IOException("the " + name(r.asked().get()) + " placement was asked for but cannot work: no cgroup2 mount in "
                        + r.mountinfo());
            return new Outcome.NoCgroup("no cgroup2 mount in " + r.mountinfo());
        }
        Path mount = m.get().mountPoint();
        boolean systemd = Files.isDirectory(r.systemdRuntime());
        boolean rootUser = dev.rbee.hive.monitor.internal.Libc.getuid() == 0;
        Optional<Path> self = SelfCgroup.of(mount).map(Placer::beforeOurLeaf);
        Optional<Delegation> d = self.filter(p -> !p.equals(mount)).map(Delegation::inspect);
        Placement.Kind kind;
        String why;
        if (r.asked().isPresent()) {
            kind = r.asked().get();
            why = "asked for";
        } else if (d.isPresent() && d.get().writable() && (d.get().marker().isPresent() || !systemd && !rootUser)) {
            kind = Placement.Kind.DELEGATED;
            why = "started in " + d.get().dir() + ", delegated to uid " + uid()
                    + d.get().marker().map(x -> " (xattr " + x + "=1: systemd's Delegate=yes)").orElse(" (writable by us, and no systemd)");
        } else if (systemd && rootUser) {
            kind = Placement.Kind.SYSTEMD;
            why = "systemd is PID 1 (" + r.systemdRuntime() + " exists) and we are root: systemd is the single writer above "
                    + "our scope, which it made with Delegate=yes";
        } else {
            kind = Placement.Kind.ROOT;
            why = !systemd ? "no systemd (" + r.systemdRuntime() + " is absent)"
                    : "systemd is PID 1, but we are uid " + uid() + " and our cgroup " + self.map(Path::toString).orElse("(none)")
                    + " was not delegated to us" + d.map(x -> x.writable() ? " (no delegate xattr)" : " (not writable: "
                    + String.join(", ", x.notWritable()) + ")").orElse("");
        }
        return switch (kind) {
            case ROOT -> new Outcome.Placed(root(mount.resolve("rbee.slice"), why));
            case DELEGATED -> new Outcome.Placed(delegated(self, d, why));
            case SYSTEMD -> {
                if (!systemd) throw new IOException("the systemd placement was asked for but cannot work: systemd is not PID 1 ("
                        + r.systemdRuntime() + " does not exist)");
                if (!rootUser) throw new IOException("the systemd placement was asked for but cannot work: uid " + uid()
                        + " may not ask the system manager for a scope; run in a unit with Delegate=yes (placement delegated)");
                yield HiveScope.establish(mount, r, why);
            }
        };
    }

    /** A ROOT placement; whether it is writable is the builder's check (it falls back when not asked). */
    static Placement root(Path root, String why) throws IOException {
        Path probe = Files.isDirectory(root) ? root : root.getParent();
        List<String> avail = probe != null && Files.exists(probe.resolve("cgroup.controllers"))
                ? List.copyOf(CgroupFiles.words(probe.resolve("cgroup.controllers"))) : List.of();
        return new Placement(Placement.Kind.ROOT, why, root, Optional.empty(), Optional.empty(), avail,
                absent(avail, probe == null ? root : probe.resolve("cgroup.controllers"),
                        "not enabled in the parent's cgroup.subtree_control (not ours to write)"),
                List.of("nothing is written above " + root + "; the parent's cgroup.subtree_control is the administrator's"));
    }

    /** DELEGATED: this process moves into {@code dir/.supervisor}; the groups are made beside it. */
    private static Placement delegated(Optional<Path> self, Optional<Delegation> d, String why) throws IOException {
        if (self.isEmpty() || d.isEmpty())
            throw new IOException("the delegated placement was asked for but cannot work: this process is in "
                    + self.map(p -> "the cgroup2 root " + p).orElse("no cgroup2 cgroup (no 0:: line in /proc/self/cgroup)"));
        Delegation del = d.get();
        if (!del.writable())
            throw new IOException("the delegated placement was asked for but cannot work: " + del.dir() + " is not delegated to uid "
                    + uid() + " (cannot write " + String.join(", ", del.notWritable()) + ")");
        Path dir = del.dir();
        Path leaf = dir.resolve(SUPERVISOR_LEAF);
        CgroupFiles.mkdir(leaf);
        try {
            CgroupFiles.write(leaf.resolve("cgroup.procs"), Long.toString(ProcessHandle.current().pid()));
        } catch (CgroupException e) {
            throw new IOException("the delegated placement cannot move this process into " + leaf + ": " + e.getMessage(), e);
        }
        List<String> notes = new ArrayList<>();
        notes.add("this supervisor moved itself into " + leaf + " (the no-internal-process rule: " + dir
                + " must hold no process for its cgroup.subtree_control to be written)");
        List<Long> others = CgroupFiles.pids(dir);
        if (!others.isEmpty())
            notes.add("other processes remain in " + dir + " (pids " + others + "): no controller can be enabled for the workers"
                    + " until they leave");
        notes.add(del.marker().map(x -> "systemd marked " + dir + " with " + x + "=1: it writes nothing below it")
                .orElse("no delegate xattr on " + dir + ": its writer above us must leave it alone"));
        List<String> avail = List.copyOf(CgroupFiles.words(dir.resolve("cgroup.controllers")));
        String unit = dir.getFileName().toString();
        return new Placement(Placement.Kind.DELEGATED, why, dir,
                unit.endsWith(".service") || unit.endsWith(".scope") ? Optional.of(unit) : Optional.empty(), Optional.empty(),
                avail, absent(avail, dir.resolve("cgroup.controllers"), "not delegated to us (the parent's cgroup.subtree_control, "
                        + "systemd's Delegate= list)"), notes);
    }

    /** The keeper of a delegated root: it is never made by us; when it is gone, spawns fail saying so. */
    record Existing(Path root) implements dev.rbee.hive.monitor.cgroup.RootKeeper {
        @Override
        public void ensure() throws dev.rbee.hive.monitor.model.SpawnException {
            if (!Files.isDirectory(root))
                throw new dev.rbee.hive.monitor.model.SpawnException(dev.rbee.hive.monitor.model.SpawnException.Step.BACKEND,
                        "the delegated cgroup " + root + " is gone (its unit stopped?): nothing can be spawned in it");
        }
    }

    /** A cgroup path with our own supervisor leaf taken off (a second monitor in a JVM that already moved). */
    static Path beforeOurLeaf(Path p) {
        return p.getFileName() != null && p.getFileName().toString().equals(SUPERVISOR_LEAF) ? p.getParent() : p;
    }

    static Map<String, String> absent(List<String> available, Path where, String why) {
        Map<String, String> out = new LinkedHashMap<>();
        Set<String> have = Set.copyOf(available);
        for (String c : USED) if (!have.contains(c)) out.put(c, "not in " + where + ": " + why);
        return out;
    }

    static String name(Placement.Kind k) {
        return k.name().toLowerCase(java.util.Locale.ROOT);
    }

    static String uid() {
        return Integer.toString(dev.rbee.hive.monitor.internal.Libc.getuid());
    }
}
