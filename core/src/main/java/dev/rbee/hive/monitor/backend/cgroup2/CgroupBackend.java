package dev.rbee.hive.monitor.backend.cgroup2;

import dev.rbee.hive.monitor.backend.Life;
import dev.rbee.hive.monitor.backend.Home;
import dev.rbee.hive.monitor.backend.SpawnerSource;
import dev.rbee.hive.monitor.backend.WorkerBackend;
import dev.rbee.hive.monitor.backend.Workers;
import dev.rbee.hive.monitor.model.MonitorConfig;
import dev.rbee.hive.monitor.model.SpawnException;
import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.cgroup.CgroupFiles;
import dev.rbee.hive.monitor.cgroup.CgroupTree;
import dev.rbee.hive.monitor.cgroup.Leaf;
import dev.rbee.hive.monitor.internal.Errno;
import dev.rbee.hive.monitor.internal.Libc;
import dev.rbee.hive.monitor.model.CgroupException;
import dev.rbee.hive.monitor.model.Names;
import dev.rbee.hive.monitor.proc.ProcStat;
import dev.rbee.hive.monitor.spawn.Spawner;
import dev.rbee.hive.monitor.stats.Discovery;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Workers in their own cgroup v2 leaves: the tree under rbee.slice is the
 * source of truth, and the flock on each leaf names its owner (CgroupTree).
 */
public final class CgroupBackend implements WorkerBackend {
    private final CgroupTree tree;
    private final SpawnerSource spawner;
    private final Workers workers;

    public CgroupBackend(CgroupTree tree, SpawnerSource spawner, Workers workers) {
        this.tree = tree;
        this.spawner = spawner;
        this.workers = workers;
    }

    CgroupTree tree() {
        return tree;
    }

    @Override
    public Life spawn(WorkerSpec spec) throws SpawnException {
        Instant started = Instant.now();
        Leaf leaf = tree.claim(spec.monitoring().orElseThrow()); // BUSY unless the id is free; locked from here on
        try {
            Spawner.Launched l = spawner.get().launch(spec, Optional.of(leaf.path()), leaf.directoryFd());
            return workers.spawned(l.process(), l.pidfd(), Home.cgroup(spec.monitoring().orElseThrow(), leaf, tree), started);
        } catch (SpawnException | RuntimeException e) {
            tree.abandon(leaf); // the target never ran: the leaf is empty and goes, and the id is free
            throw e;
        }
    }

    /**
     * The populated leaves, as {@link CgroupTree#leaves()} lists them (valid names, sorted), but through open
     * directories: getdents64's types instead of a stat per entry, each leaf's cgroup.events read with
     * openat on its group's fd instead of a JDK Path and stream per leaf.
     */
    @Override
    public List<MonitorConfig> enumerate() throws IOException {
        return enumerate(c -> false);
    }

    /**
     * As {@link #enumerate()}, but the leaves {@code willAdopt} names are listed whether populated or not:
     * {@link #adoptAll} reads that under the group lock (a free leaf's cgroup.events) or finds no process in
     * it (an owned one), and an empty leaf adopts as nothing.
     */
    @Override
    public List<MonitorConfig> enumerate(java.util.function.Predicate<MonitorConfig> willAdopt) throws IOException {
        List<MonitorConfig> out = new ArrayList<>();
        Path root = tree.root();
        int rootFd = Libc.open(root.toString(), Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        if (rootFd < 0) {
            if (-rootFd == Errno.ENOENT || -rootFd == Errno.ENOTDIR) return out; // no tree yet
            throw new CgroupException(root, Libc.errnoName(-rootFd), "cannot open " + root + ": " + Libc.errnoName(-rootFd));
        }
        try {
            for (String group : CgroupFiles.subdirectories(rootFd, root)) {
                if (!Names.isValid(group)) continue;
                int groupFd = Libc.openat(rootFd, group, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC);
                Path groupDir = root.resolve(group);
                if (groupFd < 0) {
                    if (-groupFd == Errno.ENOENT) continue; // removed while we listed
                    throw new CgroupException(groupDir, Libc.errnoName(-groupFd), "cannot open " + groupDir + ": " + Libc.errnoName(-groupFd));
                }
                try {
                    for (String instance : CgroupFiles.subdirectories(groupFd, groupDir)) {
                        if (!Names.isValid(instance)) continue;
                        MonitorConfig cfg = new MonitorConfig(group, instance);
                        if (willAdopt.test(cfg) || CgroupFiles.populated(groupFd, instance, groupDir)) out.add(cfg);
                    }
                } finally {
                    Libc.close(groupFd);
                }
            }
        } finally {
            Libc.close(rootFd);
        }
        return out;
    }

    /**
     * A handle on a live worker this monitor does not know: taken over when
     * its owner is gone, observed when another live process owns it.
     */
    @Override
    public Optional<Life> adopt(MonitorConfig cfg) throws IOException {
        return adopt(cfg, tree.takeOver(cfg.group(), cfg.instance()));
    }

    /** One group lock per group, not per worker; then each worker as {@link #adopt(MonitorConfig)}. */
    @Override
    public List<Optional<Life>> adoptAll(List<MonitorConfig> cfgs) throws IOException {
        Map<String, List<Integer>> byGroup = new LinkedHashMap<>();
        for (int i = 0; i < cfgs.size(); i++) byGroup.computeIfAbsent(cfgs.get(i).group(), g -> new ArrayList<>()).add(i);
        List<Optional<Life>> out = new ArrayList<>(java.util.Collections.nCopies(cfgs.size(), Optional.empty()));
        for (var e : byGroup.entrySet()) {
            List<Integer> at = e.getValue();
            List<CgroupTree.Takeover> ts = tree.takeOver(e.getKey(), at.stream().map(i -> cfgs.get(i).instance()).toList());
            int k = 0;
            try {
                for (; k < at.size(); k++) out.set(at.get(k), adopt(cfgs.get(at.get(k)), ts.get(k)));
            } finally {
                // a failure part-way: the leaves taken but not yet adopted are let go (unowned again, as before)
                for (k++; k < at.size(); k++) {
                    if (ts.get(k) instanceof CgroupTree.Takeover.Taken taken) taken.leaf().close();
                    else if (ts.get(k) instanceof CgroupTree.Takeover.Owned owned) owned.leaf().close();
                }
            }
        }
        return out;
    }

    private Optional<Life> adopt(MonitorConfig cfg, CgroupTree.Takeover t) throws IOException {
        Leaf leaf;
        if (t instanceof CgroupTree.Takeover.Taken taken) leaf = taken.leaf();
        else if (t instanceof CgroupTree.Takeover.Owned owned) leaf = owned.leaf();
        else return Optional.empty();
        Optional<Main> main;
        try {
            main = mainProcess(leaf);
        } catch (IOException | RuntimeException e) {
            leaf.close(); // taken or observed: let go, as it was
            throw e;
        }
        if (main.isPresent() && !leaf.owner() && stillLaunching(main.get().stat().pid())) {
            // Its owner is between join and exec: not a worker yet, and a stop now would fail that spawn.
            Libc.close(main.get().pidfd());
            main = Optional.empty();
        }
        if (main.isEmpty()) {
            if (leaf.owner()) tree.release(leaf); // emptied meanwhile: the leftover goes
            else leaf.close();
            return Optional.empty();
        }
        return Optional.of(workers.adopted(main.get().stat().pid(), main.get().pidfd(), Home.cgroup(cfg, leaf, tree),
                main.get().stat().startedAt()));
    }

    private record Main(ProcStat stat, int pidfd) {}

    /**
     * The worker's main process, with a pidfd: the one that started first in
     * the leaf or its sub-cgroups (the launcher joined the leaf before exec).
     *
     * <p>The pidfd names the process the checks below were made on: its start
     * time is read after pidfd_open, its membership of this leaf is read after
     * that, and pidfd_send_signal(0) then says it has not been reaped, so its
     * pid was never free for a successor between the open and the last check.
     * With several members the oldest is chosen by start time first, and the
     * one behind the pidfd must have the start time it was chosen by.  Each
     * file is read through the leaf's held fd (this life's cgroup).
     */
    private static Optional<Main> mainProcess(Leaf leaf) throws IOException {
        int dirfd = leaf.directoryFd();
        Path dir = leaf.path();
        for (int attempt = 0; attempt < 3; attempt++) {
            long[] pids = members(dirfd, dir);
            if (pids.length == 0) return Optional.empty();
            long pid = pids[0], chosenStart = 0; // one member (the usual worker): it is the oldest
            boolean several = pids.length > 1;
            if (several) {
                pid = -1;
                for (long p : pids) {
                    Optional<ProcStat> st = ProcStat.read(p);
                    if (st.isPresent() && (pid < 0 || st.get().startTimeTicks() < chosenStart)) {
                        pid = p;
                        chosenStart = st.get().startTimeTicks();
                    }
                }
                if (pid < 0) return Optional.empty();
            }
            int pidfd = Libc.pidfdOpen(pid);
            if (pidfd < 0) continue; // exited meanwhile: look again
            boolean same;
            Optional<ProcStat> now;
            try {
                now = ProcStat.read(pid);
                same = now.isPresent() && (!several || now.get().startTimeTicks() == chosenStart)
                        && isMember(dirfd, dir, pid) && Libc.pidfdSendSignal(pidfd, 0) == 0;
            } catch (IOException | RuntimeException e) {
                Libc.close(pidfd);
                throw e;
            }
            if (same) return Optional.of(new Main(now.get(), pidfd));
            Libc.close(pidfd);
        }
        return Optional.empty();
    }

    private static final byte[] LAUNCHER = "rbee-launch".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** Whether {@code pid} still runs our launcher (joined its leaf, not yet exec'd the worker). */
    private static boolean stillLaunching(long pid) {
        byte[] exe = new byte[4096]; // PATH_MAX
        int n = Libc.readlink("/proc/" + pid + "/exe", exe);
        if (n < 0) return false; // exited, or not ours to look at: then it is not our launcher either
        int name = n;
        while (name > 0 && exe[name - 1] != '/') name--;
        if (n - name < LAUNCHER.length) return false;
        for (int i = 0; i < LAUNCHER.length; i++) if (exe[name + i] != LAUNCHER[i]) return false;
        return true;
    }

    /** Every pid in the leaf and in the sub-cgroups its worker made. */
    private static long[] members(int dirfd, Path leaf) throws IOException {
        // The usual leaf has no sub-cgroup: its cgroup.procs is all, read through its fd.  Its link count says so
        // (2: no subdirectory) with one statx; cgroup.stat would be one more file to open per worker.
        if (Libc.linkCount(dirfd) == 2) return CgroupFiles.pids(dirfd, leaf);
        List<Long> all = new ArrayList<>();
        for (Path dir : CgroupFiles.subtree(leaf)) all.addAll(CgroupFiles.pids(dir));
        return all.stream().mapToLong(Long::longValue).toArray();
    }

    /** Whether {@code pid} is in the leaf itself (one read of its cgroup.procs) or, failing that, in its sub-cgroups. */
    private static boolean isMember(int dirfd, Path leaf, long pid) throws IOException {
        for (long p : CgroupFiles.pids(dirfd, leaf)) if (p == pid) return true;
        if (Libc.linkCount(dirfd) == 2) return false;
        for (long p : members(dirfd, leaf)) if (p == pid) return true;
        return false;
    }

    @Override
    public Discovery discovery() {
        return Discovery.leaves(tree);
    }

    @Override
    public List<Path> cleanupStale() throws IOException {
        return tree.cleanupStale();
    }
}
