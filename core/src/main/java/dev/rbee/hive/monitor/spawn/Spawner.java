package dev.rbee.hive.monitor.spawn;

import dev.rbee.hive.monitor.SpawnException;
import dev.rbee.hive.monitor.SpawnException.Step;
import dev.rbee.hive.monitor.WorkerSpec;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Starts rbee-launch with {@link ProcessBuilder} and follows its status
 * protocol over a per-spawn unix socket: {@link #launch} returns only after
 * the launcher reported "joined" and its status channel closed at exec, i.e.
 * once the target program runs inside its cgroup.
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
    private final Path runtimeDir;

    public Spawner(Path launcher, Path runtimeDir) {
        this.launcher = launcher;
        this.runtimeDir = runtimeDir;
    }

    public Path launcher() {
        return launcher;
    }

    /** Starts {@code spec} in {@code cgroup} (empty: no cgroup).  Nothing is left running on failure. */
    public Process launch(WorkerSpec spec, Optional<Path> cgroup) throws SpawnException {
        Path sock = runtimeDir.resolve("launch-" + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
             Selector selector = Selector.open()) {
            server.bind(UnixDomainSocketAddress.of(sock));
            server.configureBlocking(false);
            server.register(selector, SelectionKey.OP_ACCEPT);
            ProcessBuilder pb = processBuilder(spec, cgroup, sock);
            Process p = start(pb, spec);
            String status;
            try {
                status = readStatus(server, selector, p);
            } catch (IOException | RuntimeException e) {
                p.destroyForcibly();
                waitQuietly(p);
                throw new SpawnException(Step.LAUNCHER, null, "launcher " + launcher + ": " + e.getMessage(), e);
            }
            LaunchStatus ls = LaunchStatus.parse(status);
            if (ls.failure().isPresent()) {
                waitQuietly(p);
                throw failure(ls.failure().get(), spec, cgroup);
            }
            if (!ls.joined()) {
                p.destroyForcibly();
                int code = waitQuietly(p);
                throw new SpawnException(Step.LAUNCHER, null, "launcher " + launcher + " ended (exit value " + code
                        + ") before reporting; its stderr may say why", null);
            }
            return p;
        } catch (IOException e) {
            if (e instanceof SpawnException se) throw se;
            throw new SpawnException(Step.LAUNCHER, null, "cannot set up launch of " + spec.command().get(0)
                    + " (status socket " + sock + "): " + e.getMessage(), e);
        } finally {
            try {
                Files.deleteIfExists(sock);
            } catch (IOException ignored) {
                // best effort: the runtime directory is private
            }
        }
    }

    private ProcessBuilder processBuilder(WorkerSpec spec, Optional<Path> cgroup, Path sock) throws SpawnException {
        List<String> cmd = new ArrayList<>();
        cmd.add(launcher.toString());
        if (cgroup.isPresent()) {
            cmd.add("--cgroup");
            cmd.add(cgroup.get().toString());
        } else {
            cmd.add("--no-cgroup");
        }
        cmd.add("--status-socket");
        cmd.add(sock.toString());
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

    /** Reads the status channel until end-of-file (exec or failure). */
    private static String readStatus(ServerSocketChannel server, Selector selector, Process p) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LAUNCH_TIMEOUT_MS);
        ByteBuffer buf = ByteBuffer.allocate(512);
        SocketChannel ch = null;
        try {
            while (true) {
                if (System.nanoTime() > deadline)
                    throw new IOException("no exec within " + LAUNCH_TIMEOUT_MS + " ms");
                selector.select(20);
                selector.selectedKeys().clear();
                if (ch == null) {
                    ch = server.accept();
                    if (ch != null) {
                        ch.configureBlocking(false);
                        ch.register(selector, SelectionKey.OP_READ);
                    } else if (!p.isAlive()) {
                        // It may have connected just before exiting: one last accept.
                        ch = server.accept();
                        if (ch == null) return "";
                        ch.configureBlocking(true);
                    }
                }
                if (ch != null) {
                    int n;
                    while ((n = ch.read(buf)) > 0) {
                        if (!buf.hasRemaining()) throw new IOException("status message too long");
                    }
                    if (n < 0) return new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII);
                }
            }
        } finally {
            if (ch != null) ch.close();
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
