package dev.rbee.hive.monitor;

import dev.rbee.hive.monitor.cgroup.CgroupTree;
import dev.rbee.hive.monitor.internal.Libc;
import dev.rbee.hive.monitor.spawn.ExitWatcher;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** The live workers one monitor knows (spawned or adopted), and how each is followed to its end. */
final class Workers {
    static final boolean LINUX = System.getProperty("os.name").startsWith("Linux");
    private final Map<String, Worker> live = new ConcurrentHashMap<>();

    Optional<Worker> known(MonitorConfig cfg) {
        Worker w = live.get(cfg.id());
        return w != null && w.isAlive() ? Optional.of(w) : Optional.empty();
    }

    /** A worker this monitor spawned: its exit status comes from the JDK. */
    Worker spawned(Process p, Optional<MonitorConfig> cfg, Optional<Path> leaf, Optional<Tree> tree,
                   Optional<CgroupTree> cgroups, Runnable afterwards, Instant started) {
        // A pidfd right away: from here on signals cannot reach a later process that reuses the pid.
        // (Not on other systems: the portable backend signals through ProcessHandle.)
        int pidfd = tree.filter(t -> t instanceof HandleMembers).isPresent() || !LINUX ? -1 : Libc.pidfdOpen(p.pid());
        tree.filter(t -> t instanceof HandleMembers).ifPresent(t -> ((HandleMembers) t).main(p.toHandle()));
        Worker w = new Worker(p.pid(), pidfd, Optional.of(p), cfg, leaf, tree, started);
        cfg.ifPresent(m -> live.put(m.id(), w));
        p.onExit().thenAccept(done -> w.mainExit.complete(Optional.of(ExitStatus.fromJdk(done.exitValue()))));
        Reaper.follow(w, cgroups, this::forget, afterwards);
        return w;
    }

    /** A worker found running (not our child): its exit is seen through its pidfd, its status is not ours. */
    Worker adopted(long pid, int pidfd, MonitorConfig cfg, Optional<Path> leaf, Optional<Tree> tree,
                   Optional<CgroupTree> cgroups, Runnable afterwards, Instant started) {
        Worker w = new Worker(pid, pidfd, Optional.empty(), Optional.of(cfg), leaf, tree, started);
        live.put(cfg.id(), w);
        ExitWatcher.shared().watch(pidfd, () -> w.mainExit.complete(Optional.empty()));
        Reaper.follow(w, cgroups, this::forget, afterwards);
        return w;
    }

    private void forget(Worker w) {
        w.monitoring().ifPresent(m -> live.remove(m.id(), w));
    }
}
