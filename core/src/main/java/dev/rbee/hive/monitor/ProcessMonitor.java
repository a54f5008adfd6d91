package dev.rbee.hive.monitor;

import dev.rbee.hive.monitor.backend.cgroup2.CgroupBackend;
import dev.rbee.hive.monitor.backend.Life;
import dev.rbee.hive.monitor.backend.Home;
import dev.rbee.hive.monitor.backend.portable.PortableBackend;
import dev.rbee.hive.monitor.backend.proctree.ProcTreeBackend;
import dev.rbee.hive.monitor.backend.WorkerBackend;
import dev.rbee.hive.monitor.backend.Workers;
import dev.rbee.hive.monitor.model.Backend;
import dev.rbee.hive.monitor.model.ExitReport;
import dev.rbee.hive.monitor.model.Limits;
import dev.rbee.hive.monitor.model.MonitorConfig;
import dev.rbee.hive.monitor.model.Names;
import dev.rbee.hive.monitor.model.Placement;
import dev.rbee.hive.monitor.systemd.Placer;
import dev.rbee.hive.monitor.model.ProcessStats;
import dev.rbee.hive.monitor.model.SpawnException;
import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.model.SpawnException.Step;
import dev.rbee.hive.monitor.cgroup.CgroupFiles;
import dev.rbee.hive.monitor.cgroup.CgroupMount;
import dev.rbee.hive.monitor.cgroup.CgroupTree;
import dev.rbee.hive.monitor.gpu.GpuSampler;
import dev.rbee.hive.monitor.proc.ProcTreeRegistry;
import dev.rbee.hive.monitor.spawn.Launcher;
import dev.rbee.hive.monitor.spawn.RuntimeDir;
import dev.rbee.hive.monitor.spawn.Spawner;
import dev.rbee.hive.monitor.stats.StatsCollector;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Starts, watches and stops workers.  On Linux with a writable cgroup2 each
 * worker is born in its own leaf {@code <cgroup2 mount>/rbee.slice/{group}/{instance}};
 * elsewhere a weaker backend is used, and {@link #backend()} says which and why.
 *
 * <pre>{@code
 * ProcessMonitor monitor = ProcessMonitor.create();
 * Worker w = monitor.spawn(WorkerSpec.command("llama-server", "--port", "8080")
 *         .withMonitoring("llm", "8080")
 *         .limits(Limits.builder().memoryMax("8G").cpuPercent(400).build())
 *         .build());
 * }</pre>
 *
 * <p>Thread-safe: any thread may call any method, and other monitors (in this
 * JVM or another process, or a crashed predecessor's workers) may act on the
 * same ids at the same time; docs/identity.md says how one owner per id is
 * kept.  The library's own threads: one "rbee-spawner" (every process is
 * started from it), one "rbee-exit-watcher" (pidfds), and "rbee-reaper"
 * threads that run end-of-life work and complete {@link Worker#onExit()}
 * (they go after 2 s idle).
 */
public final class ProcessMonitor implements AutoCloseable {
    /** The directory under the cgroup2 mount that holds the groups, unless {@link Builder#root} says otherwise. */
    public static final String DEFAULT_ROOT_NAME = "rbee.slice";
    /** The hive's transient scope of the SYSTEMD placement, unless {@link Builder#unit} says otherwise. */
    public static final String DEFAULT_UNIT = "rbee-hive.scope";
    /** The slice of that scope, unless {@link Builder#slice} says otherwise. */
    public static final String DEFAULT_SLICE = "rbee-hive.slice";

    private final Backend backend;
    private final WorkerBackend impl;
    private final Optional<CgroupTree> tree;
    private final Optional<Path> launcherPath;
    /** Whether workers outlive this supervisor; false: each spawn without its own parent-death signal gets SIGKILL. */
    private volatile boolean workersOutlive = true;
    private final Workers workers = new Workers();
    private Spawner spawner;
    /** The spawn path the builder forced, if any (else the property rbee.spawn, else native where it works). */
    private Optional<dev.rbee.hive.monitor.model.SpawnPath> spawnPath = Optional.empty();
    private StatsCollector collector;
    private final java.util.Set<Sampler> samplers = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private ProcessMonitor(Backend backend, Optional<CgroupTree> tree, Optional<Path> launcherPath) throws IOException {
        this.backend = backend;
        this.tree = tree;
        this.launcherPath = launcherPath;
        this.impl = switch (backend.kind()) {
            case CGROUP2 -> new CgroupBackend(tree.orElseThrow(), this::spawner, workers);
            case PROCTREE -> new ProcTreeBackend(backend, this::spawner, workers, new ProcTreeRegistry(RuntimeDir.get()));
            case PORTABLE -> new PortableBackend(backend, workers);
        };
    }

    /**
     * A monitor with the defaults: the cgroup2 mount from /proc/self/mountinfo, rbee.slice under it.
     *
     * @return a monitor on the best backend this system offers
     * @throws IOException if the mount table or the cgroup tree cannot be read
     */
    public static ProcessMonitor create() throws IOException {
        return builder().build();
    }

    /**
     * A monitor configured step by step.
     *
     * @return a builder with the defaults of {@link #create()}
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Which backend is active, and why.
     *
     * @return the backend, its reason and its root
     */
    public Backend backend() {
        return backend;
    }

    /**
     * The cgroup directory of {@code group/instance} (whether or not it exists); cgroup2 backend only.
     *
     * @param group    the worker's group
     * @param instance the worker's instance
     * @return the leaf's path
     */
    public Path cgroupOf(String group, String instance) {
        Names.check("group", group);
        Names.check("instance", instance);
        return tree.orElseThrow(() -> new IllegalStateException("no cgroup on the " + backend)).leaf(group, instance);
    }

    /**
     * Starts a worker.  Returns only after the program has been exec'd (inside
     * its cgroup, for a monitored spec on the cgroup2 backend); otherwise
     * throws naming the step, and leaves no process and no cgroup directory behind.
     *
     * @param spec what to run, where and with which limits
     * @return the running worker
     * @throws SpawnException naming the failed step and errno; {@code BUSY} if the id has a live owner
     */
    public Worker spawn(WorkerSpec spec) throws SpawnException {
        if (!workersOutlive && spec.parentDeathSignal().isEmpty())
            spec = new WorkerSpec(spec.command(), spec.environment(), spec.clearEnvironment(), spec.directory(), spec.output(),
                    spec.monitoring(), spec.newSession(), java.util.OptionalInt.of(9 /* SIGKILL */), spec.closeFds(),
                    spec.noNewPrivileges(), spec.oomScoreAdj(), spec.allowUnenforcedLimits());
        if (spec.monitoring().isPresent()) return spawnMonitored(spec, spec.monitoring().get());
        if (backend.kind() == Backend.Kind.PORTABLE)
            return Worker.of(workers.spawned(PortableBackend.start(spec), -1, Home.plain(), Instant.now()));
        Instant started = Instant.now();
        Spawner.Launched l = spawner().launch(spec, Optional.empty());
        return Worker.of(workers.spawned(l.process(), l.pidfd(), Home.plain(), started));
    }

    /** How long a spawn waits for this monitor's previous life of the same id to finish its cleanup. */
    private static final long PREVIOUS_LIFE_WAIT_MS = 10_000;

    private Worker spawnMonitored(WorkerSpec spec, MonitorConfig cfg) throws SpawnException {
        // A restart right after an exit: let the old life's reaper finish (it still owns the id) instead of failing BUSY.
        Optional<Life> ending = workers.ending(cfg);
        if (ending.isPresent()) {
            try {
                ending.get().onExit().get(PREVIOUS_LIFE_WAIT_MS, java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                // BUSY below names the owner
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SpawnException(Step.BUSY, "interrupted while " + cfg.id() + "'s previous life was ending");
            }
        }
        if (!workers.beginSpawn(cfg.id()))
            throw new SpawnException(Step.BUSY, "instance busy: " + cfg.id() + " is being spawned by this monitor");
        try {
            return Worker.of(impl.spawn(spec));
        } finally {
            workers.endSpawn(cfg.id());
        }
    }

    /**
     * The seed's call: start {@code binary args...} monitored as {@code config}.
     *
     * @param config the worker's id and limits
     * @param binary the program
     * @param args   its arguments
     * @return the running worker
     * @throws SpawnException as {@link #spawn}
     */
    public Worker spawnMonitored(MonitorConfig config, String binary, List<String> args) throws SpawnException {
        List<String> cmd = new ArrayList<>();
        cmd.add(binary);
        cmd.addAll(args);
        return spawn(WorkerSpec.command(cmd).monitoring(config).build());
    }

    /**
     * Every live worker: the ones this monitor spawned, and the others
     * (spawned before a restart, or by another process) adopted, so that they
     * can be stopped and their exits seen.
     *
     * @return the live workers
     * @throws IOException if the cgroup tree (or the registry) cannot be read
     */
    public List<Worker> workers() throws IOException {
        // Listing needs no lock.  The ids it will adopt are listed without asking whether they hold a live worker
        // (cgroup2: cgroup.events): the adoption asks that itself, so it is asked once per worker, not twice.
        List<MonitorConfig> found = impl.enumerate(c -> workers.known(c).isEmpty() && !workers.isSpawning(c.id()));
        // Under this monitor's lock, as worker(): two callers must not both take over one id (the second would
        // find the first's leaf lock and observe).  One batch: the backend takes each group's lock once.
        synchronized (this) {
            List<Optional<Worker>> out = new ArrayList<>(found.size());
            List<MonitorConfig> unknown = new ArrayList<>();
            List<Integer> at = new ArrayList<>();
            for (MonitorConfig c : found) {
                Optional<Life> known = workers.known(c);
                if (known.isEmpty() && !workers.isSpawning(c.id())) {
                    unknown.add(c);
                    at.add(out.size());
                }
                out.add(known.map(Worker::of));
            }
            List<Optional<Life>> adopted = impl.adoptAll(unknown);
            for (int i = 0; i < at.size(); i++) out.set(at.get(i), adopted.get(i).map(Worker::of));
            return out.stream().flatMap(Optional::stream).toList();
        }
    }

    /**
     * The live worker {@code group/instance}: the one this monitor spawned or
     * took over, else one it takes over now (its owner died), else a handle
     * on one another live process owns ({@link Worker#owned()} false).  Empty
     * if there is none, or while this monitor is still spawning it.
     *
     * @param group    the worker's group
     * @param instance the worker's instance
     * @return the worker, if one lives
     * @throws IOException if its cgroup cannot be read
     */
    public synchronized Optional<Worker> worker(String group, String instance) throws IOException {
        MonitorConfig cfg = new MonitorConfig(group, instance);
        Optional<Life> known = workers.known(cfg);
        if (known.isPresent() || workers.isSpawning(cfg.id())) return known.map(Worker::of);
        return impl.adopt(cfg).map(Worker::of);
    }

    /**
     * Stops {@code group/instance} (see {@link Worker#stop}); empty if there is no such live worker.
     *
     * @param group    the worker's group
     * @param instance the worker's instance
     * @param grace    how long SIGTERM has before the tree is killed
     * @return how it ended
     * @throws IOException          if it cannot be signalled or killed
     * @throws InterruptedException if interrupted while waiting for its end
     */
    public Optional<ExitReport> stop(String group, String instance, Duration grace) throws IOException, InterruptedException {
        Optional<Worker> w = worker(group, instance);
        return w.isEmpty() ? Optional.empty() : Optional.of(w.get().stop(grace));
    }

    /**
     * The live workers, as {@code group/instance} (no stats read).
     *
     * @return their ids
     * @throws IOException if the tree cannot be listed
     */
    public List<MonitorConfig> enumerateAll() throws IOException {
        return impl.enumerate();
    }

    /**
     * Stats of every worker.  This monitor keeps each worker's previous
     * counters, so rates (cpu_pct, io) are there from the second call on; call
     * it about once per heartbeat.  GPU figures come with a {@link Sampler}.
     * Tiered: every call reads cpu.stat, memory.current, pids.current and
     * cgroup.procs; every 10th call (and a worker's first) also the slow tier
     * (memory.stat, memory.events, io.stat, pressure...), whose values in between
     * are the last ones read, with their age ({@code Counters.slowTierAgeMillis()}).
     * The files are shared with every Sampler of this JVM: 4 fds per worker.
     *
     * @return one entry per worker
     * @throws IOException if the tree cannot be listed
     * @throws IllegalStateException once this monitor is closed
     */
    public List<ProcessStats> collectAllWorkers() throws IOException {
        return collector().collect(f -> true);
    }

    /**
     * As {@link #collectAllWorkers()}, for one group.
     *
     * @param group the group
     * @return one entry per worker of {@code group}
     * @throws IOException if the tree cannot be listed
     */
    public List<ProcessStats> collectGroup(String group) throws IOException {
        Names.check("group", group);
        return collector().collect(f -> f.group().equals(group));
    }

    /**
     * As {@link #collectAllWorkers()}, for one worker, reading both tiers now.
     *
     * @param group    the worker's group
     * @param instance the worker's instance
     * @return its stats, if it lives
     * @throws IOException if the tree cannot be listed
     */
    public Optional<ProcessStats> collectInstance(String group, String instance) throws IOException {
        MonitorConfig cfg = new MonitorConfig(group, instance);
        return collector().collect(f -> f.group().equals(cfg.group()) && f.instance().equals(cfg.instance()), true)
                .stream().findFirst();
    }

    /**
     * A sampler over this monitor's workers: {@code monitor.sampler().interval(...).start()}.
     *
     * @return a builder; {@link Sampler.Builder#start()} starts its thread
     */
    public Sampler.Builder sampler() {
        return new Sampler.Builder(this);
    }

    StatsCollector newCollector(double alpha, Optional<GpuSampler> gpu, int slowEvery) {
        return new StatsCollector(impl.discovery(), alpha, gpu, slowEvery);
    }

    private synchronized StatsCollector collector() {
        if (closed) throw new IllegalStateException("monitor closed");
        if (collector == null) collector = newCollector(1, Optional.empty(), StatsCollector.SLOW_EVERY);
        return collector;
    }

    /**
     * Removes what dead supervisors left behind: empty leaves nobody owns and
     * empty groups, stale process-tree registry entries, and launch sockets of
     * versions that made socket files.  Run it at start-up.  Live or owned
     * workers are not touched.
     *
     * @return what was removed
     * @throws IOException if the tree cannot be listed
     */
    public List<Path> cleanupStale() throws IOException {
        List<Path> removed = new ArrayList<>(impl.cleanupStale());
        if (backend.kind() != Backend.Kind.PORTABLE) removed.addAll(RuntimeDir.removeStaleSockets(RuntimeDir.get()));
        return removed;
    }

    /**
     * Closes the files this monitor keeps open for {@link #collectAllWorkers} and
     * every {@link Sampler} started from it that is still running (their threads
     * end, their files close).  Idempotent.  Workers keep running, and a later
     * monitor finds them again; the end of a worker this monitor spawned is still
     * seen and cleaned up (its {@link Worker#onExit()} completes), by the JVM-wide
     * threads that outlive every monitor: "rbee-spawner", whose end would kill
     * every worker spawned with a parent-death signal, and "rbee-exit-watcher".
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
            if (collector != null) collector.close();
            collector = null;
        }
        // Outside the lock: a sampler's round may be asking this monitor for something.
        for (Sampler s : List.copyOf(samplers)) s.close();
    }

    void started(Sampler s) {
        samplers.add(s);
        if (closed) { // closed meanwhile: this one would never be closed by close()
            s.close();
            throw new IllegalStateException("monitor closed");
        }
    }

    void forget(Sampler s) {
        samplers.remove(s);
    }

    private synchronized Spawner spawner() throws SpawnException {
        if (spawner == null) {
            try {
                Path launcher = launcherPath.isPresent() ? Launcher.explicit(launcherPath.get()) : Launcher.fromJar();
                spawner = spawnPath.isPresent() ? new Spawner(launcher, spawnPath.get()) : new Spawner(launcher);
            } catch (IOException e) {
                throw new SpawnException(Step.LAUNCHER, null, "cannot find rbee-launch: " + e.getMessage(), e);
            }
        }
        return spawner;
    }

    /** Configures a monitor; {@link ProcessMonitor#builder()} makes one.  Not thread-safe: one thread builds. */
    public static final class Builder {
        private Path root;
        private Path mountinfo = CgroupMount.MOUNTINFO;
        private Path launcher;
        private Backend.Kind kind;
        private Placement.Kind placement;
        private String unit = DEFAULT_UNIT;
        private String slice = DEFAULT_SLICE;
        private boolean workersOutliveService = true;

        private Builder() {}

        /**
         * Where in the cgroup tree the workers live (docs/systemd.md); default: chosen at build time.
         * SYSTEMD when systemd is PID 1 and we are root (a delegated transient scope, {@link #unit}),
         * DELEGATED when the cgroup this process runs in was delegated to it (it moves itself into a leaf
         * {@code .supervisor} and the groups go beside it), else ROOT ({@link #root}, default
         * {@code <mount>/rbee.slice}).  A placement asked for that cannot work fails the build, naming why.
         *
         * @param k the placement
         * @return this builder
         */
        public Builder placement(Placement.Kind k) { this.placement = k; return this; }

        /**
         * SYSTEMD placement: the hive's transient scope (default {@value #DEFAULT_UNIT}); a valid systemd
         * unit name ending in ".scope" (escape free text with systemd-escape).
         *
         * @param name the scope's name
         * @return this builder
         */
        public Builder unit(String name) { this.unit = name; return this; }

        /**
         * SYSTEMD placement: the slice of the hive's scope (default {@value #DEFAULT_SLICE}; its dashes nest it,
         * as systemd does: rbee-hive.slice lives in rbee.slice).
         *
         * @param name the slice's name
         * @return this builder
         */
        public Builder slice(String name) { this.slice = name; return this; }

        /**
         * Whether workers survive the end of this supervisor (its service's stop or restart, a SIGKILL) (default
         * true: in the SYSTEMD placement they live in the hive's scope, not in the supervisor's unit, and the next
         * supervisor adopts them).  With false every spawn that sets no {@link WorkerSpec#parentDeathSignal} gets
         * SIGKILL as its parent-death signal: the workers end with the supervisor process.  (Not BindsTo= on the
         * scope: one scope serves every supervisor of the host, and binding it to one service would stop the
         * others' workers.)  Workers adopted from an earlier supervisor are not bound.
         *
         * @param outlive the policy
         * @return this builder
         */
        public Builder workersOutliveService(boolean outlive) { this.workersOutliveService = outlive; return this; }

        /**
         * The directory that holds the groups (default {@code <cgroup2 mount>/rbee.slice}).
         *
         * @param root a directory on cgroup2 (a delegated subtree, for a non-root user)
         * @return this builder
         */
        public Builder root(Path root) { this.root = root; return this; }

        /**
         * Where to read the mount table (tests).
         *
         * @param p a file in the format of /proc/self/mountinfo
         * @return this builder
         */
        public Builder mountinfo(Path p) { this.mountinfo = p; return this; }

        /**
         * Use this rbee-launch instead of the one unpacked from the jar.
         *
         * @param p the launcher binary
         * @return this builder
         */
        public Builder launcher(Path p) { this.launcher = p; return this; }

        /**
         * Use this backend instead of the best one available (e.g. PROCTREE on a host with cgroup2).
         *
         * @param k the backend
         * @return this builder
         */
        public Builder backend(Backend.Kind k) { this.kind = k; return this; }

        /**
         * Spawn only through this path (NATIVE or LAUNCHER), instead of the native path where it works and the
         * launcher elsewhere; overrides the system property {@code rbee.spawn}.  NATIVE then fails a spawn the
         * native path cannot make.  For tests and benchmarks that compare the two.
         *
         * @param p the path
         * @return this builder
         */
        public Builder spawnPath(dev.rbee.hive.monitor.model.SpawnPath p) {
            if (p == dev.rbee.hive.monitor.model.SpawnPath.JDK)
                throw new IllegalArgumentException("JDK is the portable backend's path: choose it with backend(PORTABLE)");
            this.spawnPath = p;
            return this;
        }

        private dev.rbee.hive.monitor.model.SpawnPath spawnPath;

        /**
         * The monitor.
         *
         * @return a monitor on the chosen (or best) backend
         * @throws IOException if the backend cannot be set up (mount table unreadable), or the backend asked for with
         *         {@link #backend} cannot work here (e.g. CGROUP2 without a writable cgroup2 root): an explicit choice
         *         never falls back to another backend
         */
        public ProcessMonitor build() throws IOException {
            ProcessMonitor m = make();
            m.spawnPath = Optional.ofNullable(spawnPath);
            m.workersOutlive = workersOutliveService;
            return m;
        }

        private ProcessMonitor make() throws IOException {
            Optional<Path> l = Optional.ofNullable(launcher);
            // 4 kept-open fds per sampled worker: 10 000 workers need more than the usual soft limit of 1024
            if (System.getProperty("os.name").startsWith("Linux")) dev.rbee.hive.monitor.internal.FdBudget.raise();
            if (!System.getProperty("os.name").startsWith("Linux")) {
                if (kind != null && kind != Backend.Kind.PORTABLE)
                    throw new IllegalArgumentException("the " + kind + " backend needs Linux, this is " + System.getProperty("os.name"));
                return new ProcessMonitor(new Backend(Backend.Kind.PORTABLE, "not Linux (" + System.getProperty("os.name")
                        + "): no cgroups, no /proc", Optional.empty()), Optional.empty(), l);
            }
            if (kind == Backend.Kind.PORTABLE)
                return new ProcessMonitor(new Backend(Backend.Kind.PORTABLE, "asked for", Optional.empty()), Optional.empty(), l);
            if (kind == Backend.Kind.PROCTREE) return procTree("asked for", l);
            Placer.Outcome o = Placer.place(new Placer.Request(Optional.ofNullable(placement), Optional.ofNullable(root),
                    mountinfo, unit, slice, workersOutliveService, Placer.SYSTEMD_RUNTIME));
            if (o instanceof Placer.Outcome.NoCgroup(String why)) return procTreeUnlessCgroupAsked(why, l);
            Placer.Outcome.Placed placed = (Placer.Outcome.Placed) o;
            Placement p = placed.placement();
            Path r = p.root();
            if (p.kind() == Placement.Kind.ROOT) {
                String where = root != null ? "configured root" : "cgroup2 mounted at " + r.getParent();
                Path probe = Files.isDirectory(r) ? r : r.getParent();
                if (probe == null || !Files.isDirectory(probe) || !Files.isWritable(probe)
                        || !Files.isWritable(probe.resolve("cgroup.procs")) && Files.exists(probe.resolve("cgroup.procs"))) {
                    String why = where + " (root " + r + "), but " + (probe == null ? r : probe) + " is not writable by uid "
                            + uid() + " (no delegation" + (probe == null || !Files.isDirectory(probe) ? "; not even a directory" : "") + ")";
                    if (placement != null) throw new IOException("the root placement was asked for but cannot work: " + why);
                    return procTreeUnlessCgroupAsked(why, l);
                }
            }
            String reason = p.kind().name().toLowerCase(java.util.Locale.ROOT) + " placement: " + p.reason() + "; workers under " + r
                    + "; controllers available: " + (p.controllers().isEmpty() ? "none" : String.join(" ", p.controllers()));
            if (kind != null && kind != Backend.Kind.CGROUP2) throw new IllegalStateException("unreachable: " + kind);
            return new ProcessMonitor(new Backend(Backend.Kind.CGROUP2, reason, Optional.of(r), Optional.of(p)),
                    Optional.of(new CgroupTree(r, placed.keeper())), l);
        }

        /** The proc-tree fallback, or (when the cgroup2 backend was asked for) a failure saying why it cannot work. */
        private ProcessMonitor procTreeUnlessCgroupAsked(String why, Optional<Path> launcher) throws IOException {
            if (kind == Backend.Kind.CGROUP2)
                throw new IOException("the cgroup2 backend was asked for but cannot work: " + why
                        + "; run as root, give --root a delegated cgroup2 directory, or ask for --backend auto/proctree");
            return procTree(why, launcher);
        }

        private static ProcessMonitor procTree(String why, Optional<Path> launcher) throws IOException {
            return new ProcessMonitor(new Backend(Backend.Kind.PROCTREE, why + "; no cgroup: limits unavailable, stats "
                    + "summed over each worker's process tree from /proc", Optional.empty()), Optional.empty(), launcher);
        }

        private static String uid() {
            try {
                return Files.getAttribute(Path.of("/proc/self"), "unix:uid").toString();
            } catch (IOException | UnsupportedOperationException e) {
                return "?";
            }
        }
    }
}
