package dev.rbee.hive.monitor.spawn;

import dev.rbee.hive.monitor.model.Output;
import dev.rbee.hive.monitor.model.SpawnException;
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
 * Starts rbee-launch with {@link ProcessBuilder} and follows its status
 * protocol over a per-spawn abstract unix socket ({@link StatusSocket}):
 * {@link #launch} returns only after the launcher reported "joined" (with a
 * pidfd of itself) and its status channel closed at exec, i.e. once the
 * target program runs inside its cgroup.
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

    public Spawner(Path launcher) {
        this.launcher = launcher;
    }

    public Path launcher() {
        return launcher;
    }

    /**
     * A started worker: the JDK's process (streams, exit status) and a pidfd
     * the launcher opened on itself before exec, so it can only ever name this
     * process (-1 only where the kernel has no pidfds).
     */
    public record Launched(Process process, int pidfd) {}

    /** Starts {@code spec} in {@code cgroup} (empty: no cgroup).  Nothing is left running on failure. */
    public Launched launch(WorkerSpec spec, Optional<Path> cgroup) throws SpawnException {
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
            return new Launched(p, m.pidfd());
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
        if (spec.output() instanceof Output.Journal j) {
            cmd.add("--journal");
            cmd.add(j.identifierFor(spec.logName()));
        }
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

    /** Where rbee-launch --journal connects (systemd's fixed path). */
    static final String JOURNAL_SOCKET = "/run/systemd/journal/stdout";

    private SpawnException failure(LaunchStatus.Failure f, WorkerSpec spec, Optional<Path> cgroup) {
        String program = spec.command().get(0);
        String what = switch (f.step()) {
            case JOIN -> "cannot join cgroup " + cgroup.map(Path::toString).orElse("?") + " (write \"0\" to "
                    + cgroup.map(c -> c.resolve("cgroup.procs").toString()).orElse("cgroup.procs") + ")";
            case EXEC -> "cannot exec \"" + program + "\"";
            case CHDIR -> "cannot change directory to " + spec.directory().map(Path::toString).orElse("?");
            case JOURNAL -> "cannot connect stdout and stderr to journald's stream socket " + JOURNAL_SOCKET
                    + (f.errnoName().equals("ENOENT") || f.errnoName().equals("ECONNREFUSED") ? " (no journald here)" : "");
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
