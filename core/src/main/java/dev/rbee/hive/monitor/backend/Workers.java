package dev.rbee.hive.monitor.backend;

import dev.rbee.hive.monitor.model.ExitStatus;
import dev.rbee.hive.monitor.model.MonitorConfig;
import dev.rbee.hive.monitor.internal.Libc;
import dev.rbee.hive.monitor.spawn.ExitWatcher;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The workers one monitor knows (spawned, taken over or observed), the ids it
 * is spawning right now, and how each worker is followed to its end.
 * Thread-safe: called from any caller thread, the reaper and the exit watcher.
 */
public final class Workers {
    static final boolean LINUX = System.getProperty("os.name").startsWith("Linux");
    private final Map<String, Life> live = new ConcurrentHashMap<>();
    private final Set<String> spawning = ConcurrentHashMap.newKeySet();

    /** The worker of {@code cfg} this monitor knows, while its main process runs. */
    public Optional<Life> known(MonitorConfig cfg) {
        Life w = live.get(cfg.id());
        return w != null && w.isAlive() ? Optional.of(w) : Optional.empty();
    }

    /** The worker of {@code cfg} whose end-of-life work is still under way, if any. */
    public Optional<Life> ending(MonitorConfig cfg) {
        Life w = live.get(cfg.id());
        return w != null && !w.isAlive() && !w.onExit().isDone() ? Optional.of(w) : Optional.empty();
    }

    /** Marks {@code id} as being spawned by this monitor; false if it already is. */
    public boolean beginSpawn(String id) {
        return spawning.add(id);
    }

    public void endSpawn(String id) {
        spawning.remove(id);
    }

    /** Whether this monitor is spawning {@code id} now (then nobody here may adopt it). */
    public boolean isSpawning(String id) {
        return spawning.contains(id);
    }

    /** A worker this monitor spawned: its exit status comes from the JDK. */
    public Life spawned(Process p, int pidfd, Home where, Instant started) {
        Optional<Tree> tree = where.members();
        boolean portable = tree.filter(t -> t instanceof HandleMembers).isPresent() || !LINUX;
        // The launcher's pidfd, opened before exec; only a kernel without pidfds leaves us to open one now (our
        // unreaped child, so its pid cannot have been reused yet).  The portable backend signals through ProcessHandle.
        if (pidfd < 0 && !portable) pidfd = Libc.pidfdOpen(p.pid());
        tree.filter(t -> t instanceof HandleMembers).ifPresent(t -> ((HandleMembers) t).main(p.toHandle()));
        Life w = new Life(p.pid(), pidfd, Optional.of(p), where, started);
        where.id().ifPresent(m -> live.put(m.id(), w));
        if (pidfd >= 0) {
            // Our exit watcher, not Process.onExit(): that one completes on the common ForkJoinPool, so a caller
            // who blocks that pool (two cores: one thread) would delay every exit.  The status is the JDK's: its
            // reaper thread collects it, and waitFor returns it once the pidfd said the process is gone.
            int fd = pidfd;
            ExitWatcher.shared().watch(fd, () -> Reaper.execute(() -> w.mainExit.complete(Optional.of(status(p)))),
                    () -> !p.isAlive());
        } else {
            p.onExit().thenAccept(done -> w.mainExit.complete(Optional.of(ExitStatus.fromJdk(done.exitValue()))));
        }
        Reaper.follow(w, where.tree(), this::forget, where.afterwards());
        return w;
    }

    /** A worker found running (not our child): its exit is seen through its pidfd, its status is not ours. */
    public Life adopted(long pid, int pidfd, Home where, Instant started) {
        Optional<Tree> tree = where.members();
        Life w = new Life(pid, pidfd, Optional.empty(), where, started);
        live.put(where.id().orElseThrow().id(), w);
        // Fallback if the pidfd cannot be polled: the tree is gone (cgroup), or the pid is (process tree).
        ExitWatcher.shared().watch(pidfd, () -> w.mainExit.complete(Optional.empty()),
                () -> tree.isPresent() ? tree.get().awaitEmpty(0) : !java.nio.file.Files.exists(java.nio.file.Path.of("/proc/" + pid)));
        Reaper.follow(w, where.tree(), this::forget, where.afterwards());
        return w;
    }

    private static ExitStatus status(Process p) {
        while (true) {
            try {
                return ExitStatus.fromJdk(p.waitFor());
            } catch (InterruptedException e) {
                // the reaper pool's threads are ours and never interrupted; keep waiting for the status
            }
        }
    }

    private void forget(Life w) {
        w.monitoring().ifPresent(m -> live.remove(m.id(), w));
    }
}
