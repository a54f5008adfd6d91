package dev.rbee.hive.monitor.backend;

import dev.rbee.hive.monitor.model.ExitReport;
import dev.rbee.hive.monitor.model.ExitStatus;
import dev.rbee.hive.monitor.cgroup.CgroupFiles;
import dev.rbee.hive.monitor.cgroup.CgroupKiller;
import dev.rbee.hive.monitor.cgroup.CgroupTree;
import dev.rbee.hive.monitor.cgroup.Leaf;
import dev.rbee.hive.monitor.internal.Backoff;
import dev.rbee.hive.monitor.read.CgroupCounters;
import dev.rbee.hive.monitor.model.Counters.Field;
import dev.rbee.hive.monitor.stats.CgroupReader;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Consumer;

/**
 * The end of a worker's life, once its main process has exited: like systemd
 * with KillMode=control-group, whatever it left running in its cgroup is
 * killed; then its final figures are read and its cgroup removed.
 */
final class Reaper {
    /** How long the rest of the tree may take to die after cgroup.kill. */
    private static final long EMPTY_TIMEOUT_MS = 5_000;

    private Reaper() {}

    /** Runs {@code task} on a reaper thread (the exit watcher's pool: threads come at once and go after 2 s idle). */
    static void execute(Runnable task) {
        dev.rbee.hive.monitor.spawn.ExitWatcher.execute(task);
    }

    /**
     * Where the end-of-life work runs: right here on the thread that saw the exit, when the exit watcher says
     * it may block (it handed the watching on: no hand-off to wait for); else on a reaper thread.
     */
    private static final java.util.concurrent.Executor END = task -> {
        if (dev.rbee.hive.monitor.spawn.ExitWatcher.mayBlockHere()) task.run();
        else execute(task);
    };

    /** Runs the end-of-life work for {@code w} when its main process exits. */
    static void follow(Life w, Optional<CgroupTree> tree, Consumer<Life> gone) {
        follow(w, tree, gone, () -> { });
    }

    /** As above; {@code afterwards} runs once the tree is dead (the process-tree backend forgets the worker there). */
    static void follow(Life w, Optional<CgroupTree> tree, Consumer<Life> gone, Runnable afterwards) {
        w.mainExit.thenAcceptAsync(status -> {
            ExitReport report = null;
            Throwable failure = null;
            try {
                report = finish(w, status, tree);
                afterwards.run();
            } catch (Throwable t) {
                failure = t;
            }
            // Release everything before anyone waiting on the report wakes up.
            w.closePidfd();
            gone.accept(w);
            if (failure == null) w.report.complete(report);
            else w.report.completeExceptionally(failure);
        }, END);
    }

    /**
     * The end-of-life work.  It never throws for the worker's sake: what could
     * not be read or removed is said in the report's absent reasons, so that
     * {@code Worker.onExit()} completes normally for every life.
     */
    private static ExitReport finish(Life w, Optional<ExitStatus> status, Optional<CgroupTree> tree) {
        Duration runtime = Duration.between(w.startedAt(), Instant.now());
        Map<String, String> absent = new LinkedHashMap<>();
        if (status.isEmpty()) absent.put("exit_code", w.owned()
                ? "adopted worker: not our child, so its exit status is not ours to read"
                : "observed worker: owned by another process, which reads its exit status");
        OptionalLong oom = OptionalLong.empty(), cpu = OptionalLong.empty(), peak = OptionalLong.empty(),
                rbytes = OptionalLong.empty(), wbytes = OptionalLong.empty();
        boolean removed = false;
        if (w.leaf().isEmpty() && w.tree.isPresent()) {
            // Process-tree backend: kill what the main process left behind; its counters die with it.
            Tree t = w.tree.get();
            try {
                if (!t.awaitEmpty(0)) {
                    t.killAll();
                    if (!t.awaitEmpty(EMPTY_TIMEOUT_MS))
                        absent.put("processes", "still alive " + EMPTY_TIMEOUT_MS + " ms after SIGKILL");
                }
            } catch (IOException e) {
                absent.put("processes", "cannot kill what the worker left: " + e.getMessage());
            }
            for (String f : new String[] {"oom_kills", "cpu_usage_usec", "memory_peak_bytes", "io_read_bytes", "io_write_bytes"})
                absent.put(f, "process-tree backend: no cgroup keeps the counters of exited processes");
        }
        if (w.leaf().isPresent() && !w.leaf().get().owner()) {
            // Observed: the owner kills the rest, reads the figures and removes the leaf; we see it go.
            Leaf leaf = w.leaf().get();
            try {
                removed = Backoff.await(() -> !leaf.isCurrent(), EMPTY_TIMEOUT_MS);
            } catch (IOException e) {
                removed = !leaf.isCurrent();
            }
            leaf.close();
            for (String f : new String[] {"oom_kills", "cpu_usage_usec", "memory_peak_bytes", "io_read_bytes", "io_write_bytes"})
                absent.put(f, "observed worker: its owner reads the final figures");
        } else if (w.leaf().isPresent()) {
            Leaf leaf = w.leaf().get();
            Path dir = leaf.path(); // ours alone while we hold the leaf's lock: no successor can have made it again
            try {
                if (CgroupFiles.populated(leaf.directoryFd(), dir)) { // through the held leaf
                    CgroupKiller.kill(leaf);
                    if (!CgroupKiller.awaitEmpty(dir, EMPTY_TIMEOUT_MS))
                        absent.put("cgroup", "processes of " + dir + " still alive " + EMPTY_TIMEOUT_MS + " ms after cgroup.kill");
                }
                {
                    CgroupCounters c = FinalFigures.read(leaf, dir);
                    if (c != null) {
                        oom = field(c, Field.MEMORY_EVENTS_OOM_KILL, "oom_kills", absent);
                        cpu = field(c, Field.CPU_USAGE_USEC, "cpu_usage_usec", absent);
                        peak = field(c, Field.MEMORY_PEAK, "memory_peak_bytes", absent);
                        rbytes = field(c, Field.IO_RBYTES, "io_read_bytes", absent);
                        wbytes = field(c, Field.IO_WBYTES, "io_write_bytes", absent);
                    } else {
                        absent.put("cgroup", removedByOther(dir));
                    }
                }
            } catch (IOException e) {
                absent.put("cgroup", Files.isDirectory(dir) ? "cannot read the final figures: " + e.getMessage() : removedByOther(dir));
            } finally {
                removed = tree.orElseThrow().release(leaf); // also releases the lock: the id is free again
            }
        }
        return new ExitReport(w.monitoring(), w.pid(), w.cgroup(), status, runtime, w.killedByStop, oom, cpu, peak, rbytes, wbytes,
                absent, removed);
    }

    /**
     * The five final figures' files (and memory.current, which tells a missing memory.peak's reason), read once
     * through the held leaf into this reaper thread's buffer and counters: a full CgroupReader per life opened
     * and buffered every stats file (about 10 KB of garbage per spawn).  Per thread: the reaper pool's threads
     * each have their own.
     */
    private static final class FinalFigures {
        private static final java.util.Set<String> NAMES =
                java.util.Set.of("cpu.stat", "memory.current", "memory.peak", "memory.events", "io.stat");
        private static final dev.rbee.hive.monitor.read.StatFile[] FILES = CgroupReader.statFiles().stream()
                .filter(f -> NAMES.contains(f.name())).toArray(dev.rbee.hive.monitor.read.StatFile[]::new);
        private static final ThreadLocal<FinalFigures> OF_THREAD = ThreadLocal.withInitial(FinalFigures::new);
        private final dev.rbee.hive.monitor.read.AsciiBuffer buffer = new dev.rbee.hive.monitor.read.AsciiBuffer();
        private final CgroupCounters counters = new CgroupCounters();

        /** The counters (this thread's, valid until its next call), or null if the leaf is gone. */
        static CgroupCounters read(Leaf leaf, Path dir) throws IOException {
            FinalFigures f = OF_THREAD.get();
            int fd = leaf.directoryFd();
            for (dev.rbee.hive.monitor.read.StatFile s : FILES) {
                if (dev.rbee.hive.monitor.read.KeptOpenFile.readOnce(fd, s.name(), dir, f.buffer) >= 0) s.parse(f.buffer, f.counters);
                else s.absent(f.counters);
            }
            return leaf.isCurrent() ? f.counters : null;
        }
    }

    /** Someone ignoring the leaf's lock removed it first. */
    private static String removedByOther(Path leaf) {
        return "cgroup " + leaf + " was removed by another process before its final figures were read";
    }

    private static OptionalLong field(CgroupCounters c, Field f, String name, Map<String, String> absent) {
        if (c.isPresent(f)) return OptionalLong.of(c.get(f));
        absent.put(name, c.reason(f));
        return OptionalLong.empty();
    }
}
