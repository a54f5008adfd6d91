package dev.rbee.hive.monitor.systemd;

import dev.rbee.hive.monitor.cgroup.CgroupFiles;
import dev.rbee.hive.monitor.cgroup.RootKeeper;
import dev.rbee.hive.monitor.model.CgroupException;
import dev.rbee.hive.monitor.model.Placement;
import dev.rbee.hive.monitor.model.SpawnException;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The SYSTEMD placement, Slurm's way: one transient scope with Delegate=yes for
 * the whole hive, asked of systemd over D-Bus (StartTransientUnit, then the
 * job's JobRemoved), held alive by a tiny holder process parked in the scope's
 * leaf {@code .holder}, so the scope outlives any supervisor and the next one
 * adopts it.  Spawns cost no D-Bus call (a stat of the scope's directory): the
 * tree below the scope is ours.
 *
 * <p>Thread-safe: {@link #ensure} (the tree's {@link RootKeeper}) may be called
 * from any spawning thread; D-Bus is used only under this object's lock, on a
 * connection opened for the occasion (a broken one is never reused).
 */
public final class HiveScope implements RootKeeper {
    /** The leaf of the holder: a name Names refuses, so it is never listed as a group. */
    public static final String HOLDER_LEAF = ".holder";
    static final String SYSTEMD = "org.freedesktop.systemd1";
    static final String MANAGER_PATH = "/org/freedesktop/systemd1";
    static final String MANAGER = "org.freedesktop.systemd1.Manager";
    /** How long a job may take (systemd under emulation is slow). */
    static final long JOB_TIMEOUT_MS = 60_000;
    /** The holder: pauses until killed (coreutils' sleep accepts "infinity"). */
    static final List<String> HOLDER = List.of("/bin/sleep", "infinity");

    private final Path dir;
    private final String unit;
    private final String slice;
    private HiveScope(Path dir, String unit, String slice) {
        this.dir = dir;
        this.unit = unit;
        this.slice = slice;
    }

    /** Finds or makes the hive's scope and returns the placement in it, with this as its keeper. */
    static Placer.Outcome.Placed establish(Path mount, Placer.Request r, String why) throws IOException {
        String unit = UnitNames.check("unit", r.unit(), ".scope");
        String slice = UnitNames.check("slice", r.slice(), ".slice");
        Optional<String> own = ownUnit(mount);
        HiveScope s = new HiveScope(mount.resolve(UnitNames.cgroupPath(slice, unit)), unit, slice);
        // An existing scope is adopted now; a missing one is asked for by the first spawn (ensure), so that
        // a command that only reads (rbee-mon stats, backend) leaves no scope and no holder behind.
        boolean exists = Files.isDirectory(s.dir);
        if (!exists) SdBus.lib(); // the first spawn will need it: a missing libsystemd fails the build, not that spawn
        String how = exists ? s.make() : "the scope " + unit + " does not exist yet: the first spawn asks systemd for it";
        List<String> notes = new ArrayList<>();
        notes.add(how);
        notes.add("systemd is the single writer above " + s.dir + " (Delegate=yes: it writes nothing below it)");
        notes.add(r.workersOutlive() ? "workers outlive the supervisor's service (they are in " + unit + ", not in "
                + own.orElse("the supervisor's unit") + "); the next supervisor adopts them; systemctl stop " + unit + " stops them"
                : "workers-outlive-service=false: this supervisor's workers get SIGKILL when it ends (parent-death signal); the "
                + "scope serves every supervisor of the host, so it is bound to none");
        List<String> avail = exists ? List.copyOf(CgroupFiles.words(s.dir.resolve("cgroup.controllers"))) : List.of();
        if (!exists) notes.add("controllers: known once the scope exists (systemd enables cpu io memory pids for it)");
        return new Placer.Outcome.Placed(new Placement(Placement.Kind.SYSTEMD, why, s.dir, Optional.of(unit), Optional.of(slice),
                avail, exists ? Placer.absent(avail, s.dir.resolve("cgroup.controllers"), "systemd did not delegate it (not "
                        + "enabled in " + slice + "'s cgroup.subtree_control)") : java.util.Map.of(), notes), s);
    }

    /** The scope's cgroup directory. */
    public Path dir() {
        return dir;
    }

    @Override
    public void ensure() throws SpawnException {
        if (Files.isDirectory(dir) && holderAlive()) return; // the common case: a stat and a small read, no D-Bus
        synchronized (this) {
            try {
                make();
            } catch (IOException e) {
                throw new SpawnException(SpawnException.Step.BACKEND, null, "the hive's scope " + unit + " (" + dir
                        + ") is gone and systemd cannot make it again now: " + e.getMessage(), e);
            }
        }
    }

    private boolean holderAlive() {
        try {
            return !CgroupFiles.pids(dir.resolve(HOLDER_LEAF)).isEmpty();
        } catch (IOException e) {
            return false;
        }
    }

    /** Adopts the scope if it exists (restarting its holder if needed), else asks systemd for it; says which. */
    synchronized String make() throws IOException {
        return make(true);
    }

    private String make(boolean mayWaitForOther) throws IOException {
        if (Files.isDirectory(dir)) {
            if (holderAlive()) return "adopted the existing scope " + unit + " (its holder keeps it)";
            Process h = startHolder();
            try {
                park(h);
            } catch (IOException e) {
                kill(h);
                throw e;
            }
            return "adopted the existing scope " + unit + " and gave it a new holder (pid " + h.pid() + ")";
        }
        Process h = startHolder();
        try (SdBus bus = SdBus.connect()) {
            try {
                startScope(bus, h.pid());
            } catch (SdBusException e) {
                if (!e.errorName().orElse("").equals("org.freedesktop.systemd1.UnitExists")) throw e;
                // Another supervisor made it meanwhile: ours goes, theirs is adopted (once its directory is there).
                kill(h);
                for (int i = 0; i < 100 && !Files.isDirectory(dir); i++) sleep(20);
                if (!Files.isDirectory(dir) || !mayWaitForOther)
                    throw new IOException("systemd has a unit " + unit + " but no cgroup " + dir + " (a scope still stopping? "
                            + "systemctl status " + unit + ")", e);
                return make(false);
            }
            park(h);
            return "asked systemd for the scope " + unit + " in " + slice + " (StartTransientUnit, Delegate=yes; holder pid "
                    + h.pid() + ")";
        } catch (IOException | RuntimeException e) {
            kill(h);
            throw e;
        }
    }

    void startScope(SdBus bus, long holderPid) throws SdBusException {
        startScope(bus, unit, slice, holderPid);
    }

    /**
     * StartTransientUnit(unit, "fail", properties, []) of a scope with Delegate=yes holding {@code pid},
     * and the wait for its job's JobRemoved (subscribed before the call).
     */
    static void startScope(SdBus bus, String unit, String slice, long holderPid) throws SdBusException {
        if (!bus.direct()) { // via dbus-daemon: signals come only to those who asked for them
            try (SdBus.Call c = bus.method("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch")) {
                c.str('s', "type='signal',sender='" + SYSTEMD + "',path='" + MANAGER_PATH + "',interface='" + MANAGER
                        + "',member='JobRemoved'");
                bus.call(c, JOB_TIMEOUT_MS).close();
            }
        }
        String job;
        try (SdBus.Call c = bus.method(SYSTEMD, MANAGER_PATH, MANAGER, "StartTransientUnit")) {
            c.str('s', unit).str('s', "fail").open('a', "(sv)")
                    .property("Description", "rbee-hive-monitor workers (delegated to the supervisor)")
                    .property("Slice", slice)
                    .property("Delegate", true)
                    // Accounting on: systemd enables these controllers in every slice above us (it is their only writer)
                    .property("CPUAccounting", true).property("MemoryAccounting", true)
                    .property("IOAccounting", true).property("TasksAccounting", true)
                    .property("CollectMode", "inactive-or-failed");
            c.open('r', "sv").str('s', "PIDs").open('v', "au").open('a', "u").u32((int) holderPid).end().end().end();
            c.end().open('a', "(sa(sv))").end();
            try (SdBus.Message reply = bus.call(c, JOB_TIMEOUT_MS)) {
                job = reply.str('o');
            }
        }
        waitForJob(bus, job, unit);
    }

    /** Waits for JobRemoved of {@code job}; fails naming the result unless it is "done". */
    static void waitForJob(SdBus bus, String job, String unit) throws SdBusException {
        long deadline = System.nanoTime() + JOB_TIMEOUT_MS * 1_000_000;
        while (true) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) throw new SdBusException(Optional.empty(), "systemd's job " + job + " for " + unit + " did not finish in "
                    + JOB_TIMEOUT_MS + " ms");
            Optional<SdBus.Message> m = bus.next(left);
            if (m.isEmpty()) continue;
            try (SdBus.Message s = m.get()) {
                if (!s.isSignal(MANAGER, "JobRemoved")) continue;
                s.u32();
                if (!s.str('o').equals(job)) continue;
                s.str('s');
                String result = s.str('s');
                if (!result.equals("done"))
                    throw new SdBusException(Optional.empty(), Optional.of(result), "systemd's job for " + unit + " ended \"" + result
                            + "\" (journalctl -u " + unit + " says why)");
                return;
            }
        }
    }

    /** Moves the holder out of the scope's root into its own leaf, so the root may enable controllers. */
    private void park(Process h) throws IOException {
        Path leaf = dir.resolve(HOLDER_LEAF);
        CgroupFiles.mkdir(leaf);
        try {
            CgroupFiles.write(leaf.resolve("cgroup.procs"), Long.toString(h.pid()));
        } catch (CgroupException e) {
            throw new IOException("cannot move the scope's holder (pid " + h.pid() + ") into " + leaf + ": " + e.getMessage(), e);
        }
    }

    private static Process startHolder() throws IOException {
        return new ProcessBuilder(HOLDER).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    private static void sleep(long ms) throws IOException {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for " + ms + " ms", e);
        }
    }

    private static void kill(Process h) {
        h.destroyForcibly();
        try {
            h.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The unit this process runs in (the last .service or .scope of its cgroup path), if any. */
    static Optional<String> ownUnit(Path mount) throws IOException {
        Optional<Path> self = SelfCgroup.of(mount);
        for (Path p = self.orElse(null); p != null && !p.equals(mount); p = p.getParent()) {
            String n = p.getFileName().toString();
            if (n.endsWith(".service") || n.endsWith(".scope")) return Optional.of(n);
        }
        return Optional.empty();
    }
}
