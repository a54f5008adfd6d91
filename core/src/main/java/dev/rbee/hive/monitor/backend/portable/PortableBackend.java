package dev.rbee.hive.monitor.backend.portable;

import dev.rbee.hive.monitor.backend.HandleMembers;
import dev.rbee.hive.monitor.backend.Life;
import dev.rbee.hive.monitor.backend.Home;
import dev.rbee.hive.monitor.backend.WorkerBackend;
import dev.rbee.hive.monitor.backend.Workers;
import dev.rbee.hive.monitor.model.Backend;
import dev.rbee.hive.monitor.model.MonitorConfig;
import dev.rbee.hive.monitor.model.SpawnException;
import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.model.SpawnException.Step;
import dev.rbee.hive.monitor.portable.PortableSource;
import dev.rbee.hive.monitor.spawn.Redirects;
import dev.rbee.hive.monitor.stats.Discovery;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Systems without Linux's cgroups and /proc (or when asked): a plain
 * ProcessBuilder spawn, stats from ProcessHandle (and resident memory on
 * Windows and macOS).  No launcher options, no limits, no adoption after a
 * restart: this monitor knows only the workers it started.
 */
public final class PortableBackend implements WorkerBackend {
    private final Backend backend;
    private final Workers workers;
    private final Map<MonitorConfig, Life> own = new ConcurrentHashMap<>();

    public PortableBackend(Backend backend, Workers workers) {
        this.backend = backend;
        this.workers = workers;
    }

    @Override
    public Life spawn(WorkerSpec spec) throws SpawnException {
        MonitorConfig cfg = spec.monitoring().orElseThrow();
        WorkerBackend.checkLimits(spec, backend);
        if (own.containsKey(cfg) && own.get(cfg).isAlive())
            throw new SpawnException(Step.BUSY, "instance busy: " + cfg.id() + " is already running");
        Life w = workers.spawned(start(spec), -1, Home.processes(spec.monitoring(), new HandleMembers(),
                () -> own.remove(cfg)), Instant.now());
        own.put(cfg, w);
        return w;
    }

    /** A plain spawn: ProcessBuilder only, so the launcher's options are refused by name. */
    public static Process start(WorkerSpec spec) throws SpawnException {
        List<String> unsupported = new ArrayList<>();
        if (spec.newSession()) unsupported.add("newSession");
        if (spec.parentDeathSignal().isPresent()) unsupported.add("parentDeathSignal");
        if (spec.closeFds()) unsupported.add("closeFds");
        if (spec.noNewPrivileges()) unsupported.add("noNewPrivileges");
        if (spec.oomScoreAdj().isPresent()) unsupported.add("oomScoreAdj");
        if (spec.output() instanceof dev.rbee.hive.monitor.model.Output.Journal) unsupported.add("Output.journal()");
        if (!unsupported.isEmpty())
            throw new SpawnException(Step.BACKEND, "the portable backend has no launcher: " + String.join(", ", unsupported)
                    + " cannot be applied");
        ProcessBuilder pb = new ProcessBuilder(spec.command());
        spec.directory().ifPresent(d -> pb.directory(d.toFile()));
        Redirects.apply(pb, spec);
        try {
            return pb.start();
        } catch (IOException e) {
            throw new SpawnException(Step.EXEC, null, "cannot start \"" + spec.command().get(0) + "\": " + e.getMessage(), e);
        }
    }

    @Override
    public List<MonitorConfig> enumerate() {
        return own.entrySet().stream().filter(e -> e.getValue().isAlive()).map(Map.Entry::getKey).sorted(
                java.util.Comparator.comparing(MonitorConfig::id)).toList();
    }

    @Override
    public Optional<Life> adopt(MonitorConfig cfg) {
        return Optional.empty(); // nothing outlives this monitor's memory here
    }

    @Override
    public Discovery discovery() {
        return () -> {
            List<Discovery.Found> out = new ArrayList<>();
            for (MonitorConfig c : enumerate()) {
                Life w = own.get(c);
                if (w == null) continue;
                ProcessHandle h = w.process().orElseThrow().toHandle();
                out.add(new Discovery.Found(c.group(), c.instance(), h, () -> new PortableSource(h)));
            }
            return out;
        };
    }

    @Override
    public List<Path> cleanupStale() {
        return List.of();
    }
}
