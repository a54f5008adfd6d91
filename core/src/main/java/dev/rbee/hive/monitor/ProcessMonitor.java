package dev.rbee.hive.monitor;

import dev.rbee.hive.monitor.SpawnException.Step;
import dev.rbee.hive.monitor.cgroup.CgroupMount;
import dev.rbee.hive.monitor.cgroup.CgroupTree;
import dev.rbee.hive.monitor.spawn.Launcher;
import dev.rbee.hive.monitor.spawn.RuntimeDir;
import dev.rbee.hive.monitor.spawn.Spawner;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

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
        if (spec.monitoring().isEmpty()) {
            return new Worker(s.launch(spec, Optional.empty()), Optional.empty(), Optional.empty(), started);
        }
        MonitorConfig cfg = spec.monitoring().get();
        if (tree.isEmpty())
            throw new SpawnException(Step.BACKEND, "cannot start " + cfg.id() + " in a cgroup: " + backend.reason());
        CgroupTree t = tree.get();
        CgroupTree.Prepared prepared = t.prepare(cfg);
        try {
            Process p = s.launch(spec, Optional.of(prepared.leaf()));
            return new Worker(p, spec.monitoring(), Optional.of(prepared.leaf()), started);
        } catch (SpawnException e) {
            t.rollback(prepared, e);
            throw e;
        }
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
