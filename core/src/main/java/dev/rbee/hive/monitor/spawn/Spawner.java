package dev.rbee.hive.monitor.spawn;

import dev.rbee.hive.monitor.model.SpawnException;
import dev.rbee.hive.monitor.model.SpawnPath;
import dev.rbee.hive.monitor.model.SpawnException.Step;
import dev.rbee.hive.monitor.model.WorkerSpec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Starts workers, by one of two paths (see {@link SpawnPath}):
 * <ul>
 *   <li>native (the default): librbee-spawn.so's clone3 straight into the leaf ({@link NativeSpawn}), the
 *       worker's {@link NativeProcess} our own; taken when the leaf's directory fd is given, the library
 *       loads and clone3 with CLONE_INTO_CGROUP is not refused as such (once refused, never tried again);</li>
 *   <li>launcher: rbee-launch started with {@link ProcessBuilder}, its status protocol followed over a
 *       per-spawn abstract unix socket ({@link StatusSocket}): returns only after the launcher reported
 *       "joined" (with a pidfd of itself) and its status channel closed at exec.</li>
 * </ul>
 * Either way {@link #launch} returns once the target program runs inside its cgroup.
 * Thread-safe.  Every launcher spawn, and every native spawn of a worker with a parent-death signal, runs on
 * the one long-lived "rbee-spawner" thread; other native spawns clone from the caller's thread, one at a time.
 */
public final class Spawner {
    /** How long a launcher may take to join and exec (generous: the VM suite runs under emulation). */
    static final long LAUNCH_TIMEOUT_MS = 30_000;

    /**
     * Every process is started from this one long-lived thread: PR_SET_PDEATHSIG
     * fires when the *thread* that forked the child ends, so spawning from a
     * short-lived caller thread would kill the worker with it.
     */
    private static final ExecutorService SPAWN_THREAD = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "rbee-spawner");
        t.setDaemon(true);
        return t;
    });

    private final Path launcher;
    /** The forced path (property rbee.spawn), or null: native where it works. */
    private final SpawnPath forced;
    /** The native path: loaded on first use on the spawner thread; empty once it failed (then never again). */
    private Optional<NativeSpawn> nativeSpawn;
    private String nativeUnavailable = "";

    public Spawner(Path launcher) {
        this(launcher, switch (System.getProperty("rbee.spawn", "")) {
            case "native" -> SpawnPath.NATIVE;
            case "launcher" -> SpawnPath.LAUNCHER;
            default -> null;
        });
    }

    /** With {@code forced} one path only (NATIVE: failing where it cannot work), or null for the default. */
    public Spawner(Path launcher, SpawnPath forced) {
        this.launcher = launcher;
        this.forced = forced;
    }

    public Path launcher() {
        return launcher;
    }

    /**
     * A started worker: the JDK's process (streams, exit status) and a pidfd
     * the launcher opened on itself before exec, so it can only ever name this
     * process (-1 only where the kernel has no pidfds).
     */
    public record Launched(Process process, int pidfd, SpawnPath path) {}

    /** Starts {@code spec} in {@code cgroup} (empty: no cgroup), through the launcher (no directory fd to clone into). */
    public Launched launch(WorkerSpec spec, Optional<Path> cgroup) throws SpawnException {
        return launch(spec, cgroup, cgroup.isPresent() ? -1 : NO_CGROUP);
    }

    /** For {@link #launch(WorkerSpec, Optional, int)}: no cgroup to join (the caller's own). */
    public static final int NO_CGROUP = -2;

    /**
     * Starts {@code spec} in {@code cgroup}, whose directory is held open as {@code cgroupFd} (valid for the
     * whole call; -1: not held, which takes the launcher; {@link #NO_CGROUP}: no cgroup).  Nothing is left
     * running on failure.
     */
    public Launched launch(WorkerSpec spec, Optional<Path> cgroup, int cgroupFd) throws SpawnException {
        if (forced != SpawnPath.LAUNCHER && (cgroupFd >= 0 || cgroupFd == NO_CGROUP) && NativeSpawn.supports(spec)) {
            // PR_SET_PDEATHSIG ties the child to the thread that cloned it: then the long-lived spawner thread.
            // Without it, the caller's own thread clones (two thread hand-offs less per spawn).
            Launched l = spec.parentDeathSignal().isPresent()
                    ? onSpawnThread(() -> launchNative(spec, cgroup, cgroupFd), spec)
                    : launchNative(spec, cgroup, cgroupFd);
            if (l != null) return l;
        } else if (forced == SpawnPath.NATIVE) {
            throw new SpawnException(Step.LAUNCHER, null, "rbee.spawn=native, but this spawn of " + spec.command().get(0)
                    + " needs the launcher (" + (NativeSpawn.supports(spec) ? "no cgroup directory fd" : "output "
                    + spec.output()) + ")", null);
        }
        return launchWithLauncher(spec, cgroup);
    }

    /**
     * The native spawn, or null where the path is unavailable (then the launcher).  One at a time (the request
     * buffer is shared); on the spawner thread when the worker has a parent-death signal, else on the caller's.
     */
    private synchronized Launched launchNative(WorkerSpec spec, Optional<Path> cgroup, int cgroupFd) throws SpawnException {
        if (nativeSpawn == null) {
            try {
                nativeSpawn = Optional.of(NativeSpawn.load());
            } catch (IOException | RuntimeException | LinkageError e) {
                nativeSpawn = Optional.empty();
                nativeUnavailable = "librbee-spawn.so: " + e.getMessage();
                dev.rbee.hive.monitor.internal.Log.LOG.log(System.Logger.Level.WARNING,
                        "native spawn unavailable ({0}); spawning through rbee-launch", nativeUnavailable);
            }
        }
        if (nativeSpawn.isEmpty()) return unavailable(spec);
        try {
            NativeProcess p = nativeSpawn.get().spawn(spec, cgroup, cgroupFd == NO_CGROUP ? -1 : cgroupFd);
            return new Launched(p, p.pidfd(), SpawnPath.NATIVE);
        } catch (NativeSpawn.Unavailable e) {
            // Refused as such (Linux < 5.7, seccomp): nothing ran; remember, and take the launcher from now on.
            nativeSpawn = Optional.empty();
            nativeUnavailable = e.getMessage();
            dev.rbee.hive.monitor.internal.Log.LOG.log(System.Logger.Level.WARNING,
                    "native spawn unavailable ({0}); spawning through rbee-launch", nativeUnavailable);
            return unavailable(spec);
        }
    }

    private Launched unavailable(WorkerSpec spec) throws SpawnException {
        if (forced == SpawnPath.NATIVE)
            throw new SpawnException(Step.LAUNCHER, null, "rbee.spawn=native, but the native path is unavailable for "
                    + spec.command().get(0) + ": " + nativeUnavailable, null);
        return null;
    }

    private interface SpawnCall {
        Launched call() throws SpawnException;
    }

    private Launched onSpawnThread(SpawnCall c, WorkerSpec spec) throws SpawnException {
        try {
            return SPAWN_THREAD.submit(c::call).get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof SpawnException se) throw se;
            if (e.getCause() instanceof RuntimeException re) throw re;
            if (e.getCause() instanceof Error er) throw er;
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SpawnException(Step.LAUNCHER, null, "interrupted while starting " + spec.command().get(0), e);
        }
    }

    private Launched launchWithLauncher(WorkerSpec spec, Optional<Path> cgroup) throws SpawnException {
        try (StatusSocket status = StatusSocket.open()) {
            ProcessBuilder pb = processBuilder(spec, cgroup, status.address());
            Process p = start(pb, spec);
            StatusSocket.Message m;
            try {
                m = status.await(p, LAUNCH_TIMEOUT_MS);
            } catch (IOException | RuntimeException e) {
                // Our unreaped child: its pid cannot have been reused, so the JDK's kill is safe here.
                p.destroyForcibly();
                waitQuietly(p);
                throw new SpawnException(Step.LAUNCHER, null, "launcher " + launcher + ": " + e.getMessage(), e);
            }
            LaunchStatus ls = LaunchStatus.parse(m.text());
            if (ls.failure().isPresent() || !ls.joined()) {
                m.closePidfd();
                if (ls.failure().isPresent()) {
                    waitQuietly(p);
                    throw failure(ls.failure().get(), spec, cgroup);
                }
                p.destroyForcibly();
                int code = waitQuietly(p);
                throw new SpawnException(Step.LAUNCHER, null, "launcher " + launcher + " ended (exit value " + code
                        + ") before reporting; its stderr may say why", null);
            }
            // A kernel without pidfd_open (before 5.3) has no pidfds at all: -1, and signals go through the JDK.
            return new Launched(p, m.pidfd(), SpawnPath.LAUNCHER);
        } catch (IOException e) {
            if (e instanceof SpawnException se) throw se;
            throw new SpawnException(Step.LAUNCHER, null, "cannot set up launch of " + spec.command().get(0)
                    + ": " + e.getMessage(), e);
        }
    }

    private ProcessBuilder processBuilder(WorkerSpec spec, Optional<Path> cgroup, String sock) throws SpawnException {
        List<String> cmd = new ArrayList<>();
        cmd.add(launcher.toString());
        if (cgroup.isPresent()) {
            cmd.add("--cgroup");
            cmd.add(cgroup.get().toString());
        } else {
            cmd.add("--no-cgroup");
        }
        cmd.add("--status-socket");
        cmd.add(sock);
        if (spec.newSession()) cmd.add("--setsid");
        spec.parentDeathSignal().ifPresent(sig -> {
            cmd.add("--pdeathsig");
            cmd.add(Integer.toString(sig));
            cmd.add("--expect-ppid");
            cmd.add(Long.toString(ProcessHandle.current().pid()));
        });
        if (spec.closeFds()) cmd.add("--close-fds");
        if (spec.noNewPrivileges()) cmd.add("--no-new-privs");
        spec.oomScoreAdj().ifPresent(v -> {
            cmd.add("--oom-score-adj");
            cmd.add(Integer.toString(v));
        });
        spec.directory().ifPresent(d -> {
            cmd.add("--cwd");
            cmd.add(d.toString());
        });
        cmd.add("--");
        cmd.addAll(spec.command());

        ProcessBuilder pb = new ProcessBuilder(cmd);
        Redirects.apply(pb, spec);
        return pb;
    }

    private Process start(ProcessBuilder pb, WorkerSpec spec) throws SpawnException {
        try {
            return SPAWN_THREAD.submit(pb::start).get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw new SpawnException(Step.LAUNCHER, null, "cannot start launcher " + launcher + " for "
                    + spec.command().get(0) + ": " + c.getMessage(), c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SpawnException(Step.LAUNCHER, null, "interrupted while starting " + spec.command().get(0), e);
        }
    }

    private SpawnException failure(LaunchStatus.Failure f, WorkerSpec spec, Optional<Path> cgroup) {
        String program = spec.command().get(0);
        String what = switch (f.step()) {
            case JOIN -> "cannot join cgroup " + cgroup.map(Path::toString).orElse("?") + " (write \"0\" to "
                    + cgroup.map(c -> c.resolve("cgroup.procs").toString()).orElse("cgroup.procs") + ")";
            case EXEC -> "cannot exec \"" + program + "\"";
            case CHDIR -> "cannot change directory to " + spec.directory().map(Path::toString).orElse("?");
            case OOM_SCORE_ADJ -> "cannot write " + spec.oomScoreAdj().orElse(0) + " to /proc/self/oom_score_adj";
            default -> "launcher step " + f.launcherStep() + " failed for \"" + program + "\"";
        };
        return new SpawnException(f.step(), f.errnoName(), what + ": " + f.errnoName(), null);
    }

    private static int waitQuietly(Process p) {
        try {
            if (p.waitFor(5, TimeUnit.SECONDS)) return p.exitValue();
            p.destroyForcibly();
            return p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            return -1;
        }
    }
}
