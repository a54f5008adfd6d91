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
import dev.rbee.hive.monitor.internal.Libc;
import dev.rbee.hive.monitor.proc.ProcStat;
import dev.rbee.hive.monitor.spawn.Spawner;
import dev.rbee.hive.monitor.stats.Discovery;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
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
            Spawner.Launched l = spawner.get().launch(spec, Optional.of(leaf.path()));
            return workers.spawned(l.process(), l.pidfd(), Home.cgroup(spec.monitoring().orElseThrow(), leaf, tree), started);
        } catch (SpawnException | RuntimeException e) {
            tree.abandon(leaf); // the target never ran: the leaf is empty and goes, and the id is free
            throw e;
        }
    }

    @Override
    public List<MonitorConfig> enumerate() throws IOException {
        List<MonitorConfig> out = new ArrayList<>();
        for (Path leaf : tree.leaves())
            if (CgroupFiles.populated(leaf))
                out.add(new MonitorConfig(leaf.getParent().getFileName().toString(), leaf.getFileName().toString()));
        return out;
    }

    /**
     * A handle on a live worker this monitor does not know: taken over when
     * its owner is gone, observed when another live process owns it.
     */
    @Override
    public Optional<Life> adopt(MonitorConfig cfg) throws IOException {
        CgroupTree.Takeover t = tree.takeOver(cfg.group(), cfg.instance());
        Leaf leaf;
        if (t instanceof CgroupTree.Takeover.Taken taken) leaf = taken.leaf();
        else if (t instanceof CgroupTree.Takeover.Owned) {
            Optional<Leaf> seen = Leaf.observe(tree.leaf(cfg.group(), cfg.instance()));
            if (seen.isEmpty()) return Optional.empty();
            leaf = seen.get();
        } else return Optional.empty();
        Optional<Main> main = mainProcess(leaf.path());
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
     */
    private static Optional<Main> mainProcess(Path leaf) throws IOException {
        for (int attempt = 0; attempt < 3; attempt++) {
            Optional<ProcStat> oldest = Optional.empty();
            for (long pid : members(leaf)) {
                Optional<ProcStat> st = ProcStat.read(pid);
                if (st.isPresent() && (oldest.isEmpty() || st.get().startTimeTicks() < oldest.get().startTimeTicks()))
                    oldest = st;
            }
            if (oldest.isEmpty()) return Optional.empty();
            int pidfd = Libc.pidfdOpen(oldest.get().pid());
            if (pidfd < 0) continue; // exited meanwhile: look again
            // The pid could have been reused between the listing and pidfd_open: same start time, still a member?
            Optional<ProcStat> now = ProcStat.read(oldest.get().pid());
            if (now.isPresent() && now.get().startTimeTicks() == oldest.get().startTimeTicks()
                    && members(leaf).contains(oldest.get().pid()))
                return Optional.of(new Main(oldest.get(), pidfd));
            Libc.close(pidfd);
        }
        return Optional.empty();
    }

    /** Whether {@code pid} still runs our launcher (joined its leaf, not yet exec'd the worker). */
    private static boolean stillLaunching(long pid) {
        try {
            return Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "exe")).getFileName().toString()
                    .startsWith("rbee-launch");
        } catch (IOException | UnsupportedOperationException e) {
            return false; // exited, or not ours to look at: then it is not our launcher either
        }
    }

    /** Every pid in the leaf and in the sub-cgroups its worker made. */
    private static List<Long> members(Path leaf) throws IOException {
        List<Long> out = new ArrayList<>();
        for (Path dir : CgroupFiles.subtree(leaf)) out.addAll(CgroupFiles.pids(dir));
        return out;
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
