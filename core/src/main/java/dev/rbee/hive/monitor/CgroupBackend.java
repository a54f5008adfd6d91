package dev.rbee.hive.monitor;

import dev.rbee.hive.monitor.cgroup.CgroupFiles;
import dev.rbee.hive.monitor.cgroup.CgroupTree;
import dev.rbee.hive.monitor.internal.Libc;
import dev.rbee.hive.monitor.proc.ProcStat;
import dev.rbee.hive.monitor.stats.Discovery;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Workers in their own cgroup v2 leaves: the tree under rbee.slice is the source of truth. */
final class CgroupBackend implements WorkerBackend {
    private final CgroupTree tree;
    private final ProcessMonitor.SpawnerSource spawner;
    private final Workers workers;

    CgroupBackend(CgroupTree tree, ProcessMonitor.SpawnerSource spawner, Workers workers) {
        this.tree = tree;
        this.spawner = spawner;
        this.workers = workers;
    }

    CgroupTree tree() {
        return tree;
    }

    @Override
    public Worker spawn(WorkerSpec spec) throws SpawnException {
        Instant started = Instant.now();
        CgroupTree.Prepared prepared = tree.prepare(spec.monitoring().orElseThrow());
        try {
            Process p = spawner.get().launch(spec, Optional.of(prepared.leaf()));
            return workers.spawned(p, spec.monitoring(), Optional.of(prepared.leaf()),
                    Optional.of(new CgroupMembers(prepared.leaf())), Optional.of(tree), () -> { }, started);
        } catch (SpawnException | RuntimeException e) {
            tree.rollback(prepared, e);
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

    @Override
    public Optional<Worker> adopt(MonitorConfig cfg) throws IOException {
        Path leaf = tree.leaf(cfg.group(), cfg.instance());
        for (int attempt = 0; attempt < 3; attempt++) {
            Optional<ProcStat> main = oldestProcess(leaf);
            if (main.isEmpty()) return Optional.empty();
            int pidfd = Libc.pidfdOpen(main.get().pid());
            if (pidfd < 0) continue; // exited meanwhile: look again
            // The pid could have been reused between the listing and pidfd_open: check it is still in the leaf.
            if (!stillIn(main.get(), leaf)) {
                Libc.close(pidfd);
                continue;
            }
            return Optional.of(workers.adopted(main.get().pid(), pidfd, cfg, Optional.of(leaf),
                    Optional.of(new CgroupMembers(leaf)), Optional.of(tree), () -> { }, main.get().startedAt()));
        }
        return Optional.empty();
    }

    /** The worker's main process: the one that started first (the launcher joined the leaf before exec). */
    private static Optional<ProcStat> oldestProcess(Path leaf) throws IOException {
        Optional<ProcStat> oldest = Optional.empty();
        for (String line : CgroupFiles.read(leaf.resolve("cgroup.procs")).split("\n")) {
            if (line.isBlank()) continue;
            Optional<ProcStat> st = ProcStat.read(Long.parseLong(line.strip()));
            if (st.isPresent() && (oldest.isEmpty() || st.get().startTimeTicks() < oldest.get().startTimeTicks()))
                oldest = st;
        }
        return oldest;
    }

    private static boolean stillIn(ProcStat p, Path leaf) {
        Optional<ProcStat> now = ProcStat.read(p.pid());
        if (now.isEmpty() || now.get().startTimeTicks() != p.startTimeTicks()) return false;
        try {
            return CgroupFiles.read(leaf.resolve("cgroup.procs")).lines().anyMatch(l -> l.strip().equals(Long.toString(p.pid())));
        } catch (IOException e) {
            return false;
        }
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
