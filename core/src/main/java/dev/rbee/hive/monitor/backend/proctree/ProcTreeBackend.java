package dev.rbee.hive.monitor.backend.proctree;

import dev.rbee.hive.monitor.backend.Life;
import dev.rbee.hive.monitor.backend.Home;
import dev.rbee.hive.monitor.backend.SpawnerSource;
import dev.rbee.hive.monitor.backend.WorkerBackend;
import dev.rbee.hive.monitor.backend.Workers;
import dev.rbee.hive.monitor.model.Backend;
import dev.rbee.hive.monitor.model.MonitorConfig;
import dev.rbee.hive.monitor.model.SpawnException;
import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.model.SpawnException.Step;
import dev.rbee.hive.monitor.internal.Libc;
import dev.rbee.hive.monitor.proc.ProcStat;
import dev.rbee.hive.monitor.proc.ProcTreeRegistry;
import dev.rbee.hive.monitor.proc.ProcTreeSource;
import dev.rbee.hive.monitor.proc.ProcessTable;
import dev.rbee.hive.monitor.stats.Discovery;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Linux without a writable cgroup2: each worker leads its own session (and
 * process group); its processes are that session and its descendants, its
 * stats their sum from /proc, and a small registry file per worker finds it
 * again after a restart.  No limits: asking for them fails unless allowed.
 */
public final class ProcTreeBackend implements WorkerBackend {
    private final Backend backend;
    private final SpawnerSource spawner;
    private final Workers workers;
    private final ProcTreeRegistry registry;
    private final ProcessTable table = new ProcessTable();

    public ProcTreeBackend(Backend backend, SpawnerSource spawner, Workers workers, ProcTreeRegistry registry) {
        this.backend = backend;
        this.spawner = spawner;
        this.workers = workers;
        this.registry = registry;
    }

    @Override
    public synchronized Life spawn(WorkerSpec spec) throws SpawnException {
        MonitorConfig cfg = spec.monitoring().orElseThrow();
        WorkerBackend.checkLimits(spec, backend);
        if (registry.live(cfg).isPresent())
            throw new SpawnException(Step.BUSY, "instance busy: " + cfg.id() + " is already running");
        Instant started = Instant.now();
        dev.rbee.hive.monitor.spawn.Spawner.Launched launched = spawner.get().launch(inNewSession(spec), Optional.empty());
        Process p = launched.process();
        Optional<ProcStat> st = ProcStat.read(p.pid());
        try {
            registry.record(cfg, p.pid(), st.map(ProcStat::startTimeTicks).orElse(-1L));
        } catch (IOException e) {
            launched.process().destroyForcibly(); // our unreaped child: its pid is still its own
            if (launched.pidfd() >= 0) Libc.close(launched.pidfd());
            throw new SpawnException(Step.BACKEND, null, "cannot record " + cfg.id() + " in the process-tree registry: " + e.getMessage(), e);
        }
        return workers.spawned(p, launched.pidfd(), Home.processes(spec.monitoring(), new SessionMembers(table, p.pid()),
                () -> registry.remove(cfg)), started);
    }

    @Override
    public List<MonitorConfig> enumerate() throws IOException {
        List<MonitorConfig> out = new ArrayList<>();
        for (MonitorConfig c : registry.all()) if (registry.live(c).isPresent()) out.add(c);
        return out;
    }

    @Override
    public Optional<Life> adopt(MonitorConfig cfg) throws IOException {
        Optional<ProcTreeRegistry.Entry> e = registry.live(cfg);
        if (e.isEmpty()) return Optional.empty();
        int pidfd = Libc.pidfdOpen(e.get().pid());
        if (pidfd < 0) return Optional.empty();
        if (registry.live(cfg).filter(x -> x.equals(e.get())).isEmpty()) { // reused between the check and pidfd_open
            Libc.close(pidfd);
            return Optional.empty();
        }
        Instant started = ProcStat.read(e.get().pid()).map(ProcStat::startedAt).orElse(Instant.now());
        return Optional.of(workers.adopted(e.get().pid(), pidfd,
                Home.processes(Optional.of(cfg), new SessionMembers(table, e.get().pid()), () -> registry.remove(cfg)), started));
    }

    @Override
    public Discovery discovery() {
        ProcessTable own = new ProcessTable(); // the collector's thread refreshes its own table
        return () -> {
            own.refresh();
            List<Discovery.Found> out = new ArrayList<>();
            for (MonitorConfig c : registry.all()) {
                Optional<ProcTreeRegistry.Entry> e = registry.live(c);
                if (e.isEmpty()) continue;
                out.add(new Discovery.Found(c.group(), c.instance(), e.get(),
                        () -> new ProcTreeSource(own, e.get().pid(), e.get().startTicks())));
            }
            return out;
        };
    }

    @Override
    public List<Path> cleanupStale() throws IOException {
        List<Path> removed = new ArrayList<>();
        for (MonitorConfig c : registry.all()) {
            if (registry.live(c).isPresent()) continue;
            registry.remove(c);
            removed.add(Path.of(c.group(), c.instance()));
        }
        return removed;
    }

    /** {@code spec} with a new session forced: this backend keeps a worker's processes together by it. */
    private static WorkerSpec inNewSession(WorkerSpec s) {
        return new WorkerSpec(s.command(), s.environment(), s.clearEnvironment(), s.directory(), s.output(), s.monitoring(), true,
                s.parentDeathSignal(), s.closeFds(), s.noNewPrivileges(), s.oomScoreAdj(), s.allowUnenforcedLimits());
    }
}
