package dev.rbee.hive.monitor;

import dev.rbee.hive.monitor.SpawnException.Step;
import dev.rbee.hive.monitor.cgroup.CgroupMount;
import dev.rbee.hive.monitor.cgroup.CgroupTree;
import dev.rbee.hive.monitor.cgroup.CgroupFiles;
import dev.rbee.hive.monitor.gpu.GpuSampler;
import dev.rbee.hive.monitor.internal.Libc;
import dev.rbee.hive.monitor.stats.StatsCollector;
import dev.rbee.hive.monitor.proc.ProcStat;
import dev.rbee.hive.monitor.spawn.ExitWatcher;
import dev.rbee.hive.monitor.spawn.Launcher;
import dev.rbee.hive.monitor.spawn.RuntimeDir;
import dev.rbee.hive.monitor.spawn.Spawner;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Starts workers directly inside their own cgroup v2 leaf
 * ({@code <cgroup2 mount>/rbee.slice/{group}/{instance}}).
 *
 * <pre>{@code
 * ProcessMonitor monitor = ProcessMonitor.create();
 * Worker w = monitor.spawn(WorkerSpec.command("llama-server", "--port", "8080")
 *         .withMonitoring("llm", "8080")
 *         .limits(Limits.builder().memoryMax("8G").cpuPercent(400).build())
 *         .build());
 * }</pre>
 */
public final class ProcessMonitor {
    public static final String DEFAULT_ROOT_NAME = "rbee.slice";

    private final Backend backend;
    private final Optional<CgroupTree> tree;
    private final Optional<Path> launcherPath;
    private Spawner spawner;
    private StatsCollector collector;
    /** Live workers by "group/instance": spawned here or adopted. */
    private final Map<String, Worker> live = new ConcurrentHashMap<>();

    private ProcessMonitor(Backend backend, Optional<CgroupTree> tree, Optional<Path> launcherPath) {
        this.backend = backend;
        this.tree = tree;
        this.launcherPath = launcherPath;
    }

    /** A monitor with the defaults: the cgroup2 mount from /proc/self/mountinfo, rbee.slice under it. */
    public static ProcessMonitor create() throws IOException {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Which backend is active, and why. */
    public Backend backend() {
        return backend;
    }

    /** The cgroup directory of {@code group/instance} (whether or not it exists). */
    public Path cgroupOf(String group, String instance) {
        Names.check("group", group);
        Names.check("instance", instance);
        return requireTree().leaf(group, instance);
    }

    /**
     * Starts a worker.  Returns only after the program has been exec'd (inside
     * its cgroup, for a monitored spec); otherwise throws naming the step, and
     * leaves no process and no cgroup directory behind.
     */
    public Worker spawn(WorkerSpec spec) throws SpawnException {
        Spawner s = spawner();
        Instant started = Instant.now();
        if (spec.monitoring().isEmpty()) return track(s.launch(spec, Optional.empty()), spec, Optional.empty(), started);
        MonitorConfig cfg = spec.monitoring().get();
        if (tree.isEmpty())
            throw new SpawnException(Step.BACKEND, "cannot start " + cfg.id() + " in a cgroup: " + backend.reason());
        CgroupTree t = tree.get();
        CgroupTree.Prepared prepared = t.prepare(cfg);
        try {
            return track(s.launch(spec, Optional.of(prepared.leaf())), spec, Optional.of(prepared.leaf()), started);
        } catch (SpawnException e) {
            t.rollback(prepared, e);
            throw e;
        }
    }

    private Worker track(Process p, WorkerSpec spec, Optional<Path> leaf, Instant started) {
        // A pidfd right away: from here on signals cannot reach a later process that reuses the pid.
        int pidfd = Libc.pidfdOpen(p.pid());
        Worker w = new Worker(p.pid(), pidfd, Optional.of(p), spec.monitoring(), leaf, started);
        spec.monitoring().ifPresent(m -> live.put(m.id(), w));
        p.onExit().thenAccept(done -> w.mainExit.complete(Optional.of(ExitStatus.fromJdk(done.exitValue()))));
        Reaper.follow(w, tree, this::forget);
        return w;
    }

    private void forget(Worker w) {
        w.monitoring().ifPresent(m -> live.remove(m.id(), w));
    }

    /**
     * Every live worker in the tree: the ones this monitor spawned, and the
     * others (spawned before a restart, or by another process) adopted, so that
     * they can be stopped and their exits seen.  Empty leaves are not workers.
     */
    public List<Worker> workers() throws IOException {
        List<Worker> out = new ArrayList<>();
        if (tree.isEmpty()) return out;
        for (Path leaf : tree.get().leaves()) {
            MonitorConfig cfg = new MonitorConfig(leaf.getParent().getFileName().toString(), leaf.getFileName().toString());
            worker(cfg.group(), cfg.instance()).ifPresent(out::add);
        }
        return out;
    }

    /** The live worker {@code group/instance}, adopting it if this monitor did not spawn it. */
    public synchronized Optional<Worker> worker(String group, String instance) throws IOException {
        MonitorConfig cfg = new MonitorConfig(group, instance);
        Worker known = live.get(cfg.id());
        if (known != null && known.isAlive()) return Optional.of(known);
        if (tree.isEmpty()) return Optional.empty();
        Path leaf = tree.get().leaf(group, instance);
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
            Worker w = new Worker(main.get().pid(), pidfd, Optional.empty(), Optional.of(cfg), Optional.of(leaf),
                    main.get().startedAt());
            live.put(cfg.id(), w);
            ExitWatcher.shared().watch(pidfd, () -> w.mainExit.complete(Optional.empty()));
            Reaper.follow(w, tree, this::forget);
            return Optional.of(w);
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

    /** Stops {@code group/instance} (see {@link Worker#stop}); empty if there is no such live worker. */
    public Optional<ExitReport> stop(String group, String instance, Duration grace) throws IOException, InterruptedException {
        Optional<Worker> w = worker(group, instance);
        return w.isEmpty() ? Optional.empty() : Optional.of(w.get().stop(grace));
    }

    /** A sampler over this monitor's tree: {@code monitor.sampler().interval(...).start()}. */
    public Sampler.Builder sampler() {
        return new Sampler.Builder(this);
    }

    StatsCollector newCollector(double alpha, Optional<GpuSampler> gpu) {
        return new StatsCollector(requireTree(), alpha, gpu);
    }

    private synchronized StatsCollector collector() {
        if (collector == null) collector = newCollector(1, Optional.empty());
        return collector;
    }

    /** The live workers of the tree, as {@code group/instance} (no stats read). */
    public List<MonitorConfig> enumerateAll() throws IOException {
        List<MonitorConfig> out = new ArrayList<>();
        if (tree.isEmpty()) return out;
        for (Path leaf : tree.get().leaves())
            if (CgroupFiles.populated(leaf))
                out.add(new MonitorConfig(leaf.getParent().getFileName().toString(), leaf.getFileName().toString()));
        return out;
    }

    /**
     * Stats of every worker in the tree.  This monitor keeps each worker's
     * previous counters, so rates (cpu_pct, io) are there from the second call
     * on; call it about once per heartbeat.  GPU figures come with a {@link Sampler}.
     */
    public List<ProcessStats> collectAllWorkers() throws IOException {
        if (tree.isEmpty()) return List.of();
        return collector().collect(leaf -> true);
    }

    public List<ProcessStats> collectGroup(String group) throws IOException {
        Names.check("group", group);
        if (tree.isEmpty()) return List.of();
        return collector().collect(leaf -> leaf.getParent().getFileName().toString().equals(group));
    }

    public Optional<ProcessStats> collectInstance(String group, String instance) throws IOException {
        Path leaf = cgroupOf(group, instance);
        return collector().collect(leaf::equals).stream().findFirst();
    }

    /**
     * Removes the empty leaves and groups left by a supervisor that died (run it
     * at start-up).  Live workers are not touched.  Returns what was removed.
     */
    public List<Path> cleanupStale() throws IOException {
        return tree.isEmpty() ? List.of() : tree.get().cleanupStale();
    }

    /** The seed's call: start {@code binary args...} monitored as {@code config}. */
    public Worker spawnMonitored(MonitorConfig config, String binary, List<String> args) throws SpawnException {
        List<String> cmd = new ArrayList<>();
        cmd.add(binary);
        cmd.addAll(args);
        return spawn(WorkerSpec.command(cmd).monitoring(config).build());
    }

    private synchronized Spawner spawner() throws SpawnException {
        if (spawner == null) {
            try {
                Path launcher = launcherPath.isPresent() ? Launcher.explicit(launcherPath.get()) : Launcher.fromJar();
                spawner = new Spawner(launcher, RuntimeDir.get());
            } catch (IOException e) {
                throw new SpawnException(Step.LAUNCHER, null, "cannot find rbee-launch: " + e.getMessage(), e);
            }
        }
        return spawner;
    }

    private CgroupTree requireTree() {
        return tree.orElseThrow(() -> new IllegalStateException("no cgroup2 backend: " + backend.reason()));
    }

    public static final class Builder {
        private Path root;
        private Path mountinfo = CgroupMount.MOUNTINFO;
        private Path launcher;

        /** The directory that holds the groups (default {@code <cgroup2 mount>/rbee.slice}). */
        public Builder root(Path root) { this.root = root; return this; }
        /** Where to read the mount table (tests). */
        public Builder mountinfo(Path p) { this.mountinfo = p; return this; }
        /** Use this rbee-launch instead of the one unpacked from the jar. */
        public Builder launcher(Path p) { this.launcher = p; return this; }

        public ProcessMonitor build() throws IOException {
            Path r = root;
            String where;
            if (r == null) {
                Optional<CgroupMount> m = CgroupMount.find(mountinfo);
                if (m.isEmpty())
                    return new ProcessMonitor(new Backend(Backend.Kind.NONE, "no cgroup2 mount in " + mountinfo,
                            Optional.empty()), Optional.empty(), Optional.ofNullable(launcher));
                r = m.get().mountPoint().resolve(DEFAULT_ROOT_NAME);
                where = "cgroup2 mounted at " + m.get().mountPoint();
            } else {
                where = "configured root";
            }
            Path probe = Files.isDirectory(r) ? r : r.getParent();
            if (probe == null || !Files.isDirectory(probe) || !Files.isWritable(probe))
                return new ProcessMonitor(new Backend(Backend.Kind.NONE, where + ", but " + probe
                        + " is not a writable directory", Optional.empty()), Optional.empty(), Optional.ofNullable(launcher));
            String controllers = String.join(" ", dev.rbee.hive.monitor.cgroup.CgroupFiles.words(
                    (Files.isDirectory(r) ? r : r.getParent()).resolve("cgroup.controllers")));
            String reason = where + "; workers under " + r + "; controllers available: "
                    + (controllers.isEmpty() ? "none" : controllers);
            return new ProcessMonitor(new Backend(Backend.Kind.CGROUP2, reason, Optional.of(r)),
                    Optional.of(new CgroupTree(r)), Optional.ofNullable(launcher));
        }
    }
}
