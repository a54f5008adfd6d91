package dev.rbee.hive.monitor.spawn;

import dev.rbee.hive.monitor.internal.Errno;
import dev.rbee.hive.monitor.internal.Libc;
import dev.rbee.hive.monitor.model.Output;
import dev.rbee.hive.monitor.model.SpawnException;
import dev.rbee.hive.monitor.model.SpawnException.Step;
import dev.rbee.hive.monitor.model.WorkerSpec;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The native spawn path: librbee-spawn.so's {@code rbee_spawn} (see
 * native-launcher/src/rbee-spawn.c) called through FFM.  clone3 puts the
 * child straight into the leaf (CLONE_INTO_CGROUP on the leaf's held
 * directory fd) and hands back its pidfd (CLONE_PIDFD); the child resets its
 * signals, applies the spec and execs the program: one exec, no launcher, no
 * socket, no JDK process.
 *
 * <p>Per spawn it allocates no native memory: the request, argv and envp are
 * written into one buffer that grows only when a spec needs more, and strings
 * are encoded char by char (ASCII; anything else goes through UTF-8 bytes).
 *
 * <p>Threading: {@link #spawn} one call at a time (Spawner serializes them:
 * the buffer is shared), from the spawner thread ("rbee-spawner") for a worker
 * with a parent-death signal, which PR_SET_PDEATHSIG ties to the cloning
 * thread.  {@link #reap} from any thread, once per child.
 */
final class NativeSpawn {
    /** Steps of rbee-spawn.c's protocol comment. */
    static final int STEP_CLONE = 1, STEP_JOIN = 2, STEP_SETSID = 3, STEP_PDEATHSIG = 4, STEP_NNP = 5, STEP_OOM = 6,
            STEP_CHDIR = 7, STEP_CLOSE_FDS = 8, STEP_EXEC = 9, STEP_STDIO = 10, STEP_SETUP = 11;
    private static final int F_SETSID = 1, F_CLOSE_FDS = 2, F_NNP = 4, F_OOM = 8;
    /** struct rbee_spawn_req: 19 words. */
    private static final long R_PATH = 0, R_ARGV = 8, R_ENVP = 16, R_CWD = 24, R_CGROUP = 32, R_STDIO = 40, R_FLAGS = 64,
            R_PDEATHSIG = 72, R_PPID = 80, R_OOM = 88, R_PID = 96, R_PIDFD = 104, R_STEP = 112, R_ERR = 120, R_SIZE = 128;
    private static final long SELF = ProcessHandle.current().pid();

    private final MethodHandle spawn;
    private final MethodHandle reap;
    /** The spawner thread's: request, strings and pointer arrays. */
    private final Arena arena = Arena.ofShared();
    private MemorySegment buf;
    private final MemorySegment scratch, state, reapStatus;
    private final int[] pipes = new int[6];
    /** The JVM's environment, "K=V" each, encoded once: it cannot change while the JVM runs. */
    private final String[] baseKeys;
    private final String[] baseEntries;

    private NativeSpawn(SymbolLookup lib) {
        Linker linker = Linker.nativeLinker();
        spawn = linker.downcallHandle(lib.find("rbee_spawn").orElseThrow(), FunctionDescriptor.of(JAVA_INT, ADDRESS));
        reap = linker.downcallHandle(lib.find("rbee_reap").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
        buf = arena.allocate(16 * 1024, 8);
        scratch = arena.allocate(8, 8);
        state = Libc.callState(arena);
        reapStatus = arena.allocate(JAVA_INT);
        Map<String, String> env = System.getenv();
        baseKeys = new String[env.size()];
        baseEntries = new String[env.size()];
        int i = 0;
        for (Map.Entry<String, String> e : env.entrySet()) {
            baseKeys[i] = e.getKey();
            baseEntries[i++] = e.getKey() + "=" + e.getValue();
        }
    }

    /** Loads librbee-spawn.so from the jar (unpacked and verified like the launcher). */
    static NativeSpawn load() throws IOException {
        Path lib = Launcher.unpack(RuntimeDir.get(), "librbee-spawn.so");
        return load(lib);
    }

    static NativeSpawn load(Path lib) throws IOException {
        try {
            return new NativeSpawn(SymbolLookup.libraryLookup(lib, Arena.global()));
        } catch (IllegalArgumentException | java.util.NoSuchElementException e) {
            throw new IOException("cannot load " + lib + ": " + e.getMessage(), e);
        }
    }

    /** Whether this spec can take the native path: every Output but a future one the launcher alone knows. */
    static boolean supports(WorkerSpec spec) {
        Output o = spec.output();
        return o instanceof Output.Inherit || o instanceof Output.Pipe || o instanceof Output.AppendTo
                || o instanceof Output.LogDirectory;
    }

    /** clone3 itself refused (old kernel, seccomp): the caller falls back to the launcher. */
    static final class Unavailable extends Exception {
        final String errno;

        Unavailable(String errno) {
            super("clone3 refused: " + errno, null, false, false);
            this.errno = errno;
        }
    }

    /**
     * Starts {@code spec}, in the cgroup behind {@code cgroupFd} (-1: the caller's).  Nothing is left on failure.
     *
     * @throws Unavailable    if clone3 with CLONE_INTO_CGROUP is refused as such
     * @throws SpawnException if a step fails (named with its errno)
     */
    NativeProcess spawn(WorkerSpec spec, Optional<Path> cgroup, int cgroupFd) throws SpawnException, Unavailable {
        int[] p = pipes;
        java.util.Arrays.fill(p, -1);
        int logFd = -1, nullFd = -1;
        Output out = spec.output();
        try {
            long stdin = -1, stdout = -1, stderr = -1;
            if (out instanceof Output.Pipe) {
                for (int i = 0; i < 3; i++) {
                    int r = Libc.pipe(scratch, state, p, 2 * i);
                    if (r < 0) throw new SpawnException(Step.LAUNCHER, Libc.errnoName(-r), "cannot make a pipe for "
                            + spec.command().get(0) + ": " + Libc.errnoName(-r), null);
                }
                stdin = p[0];
                stdout = p[3];
                stderr = p[5];
            } else if (!(out instanceof Output.Inherit)) {
                Path log = out.file(spec.logName()).orElseThrow();
                logFd = openLog(log);
                nullFd = Libc.open("/dev/null", Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
                if (nullFd < 0) throw new SpawnException(Step.LAUNCHER, Libc.errnoName(-nullFd),
                        "cannot open /dev/null: " + Libc.errnoName(-nullFd), null);
                stdin = nullFd;
                stdout = logFd;
                stderr = logFd;
            }
            MemorySegment r = request(spec, cgroupFd, stdin, stdout, stderr);
            int rc;
            try {
                rc = (int) spawn.invokeExact(r);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
            if (rc != 0) {
                int step = (int) r.get(JAVA_LONG, R_STEP), errno = (int) r.get(JAVA_LONG, R_ERR);
                if (step == STEP_CLONE) throw new Unavailable(Libc.errnoName(errno));
                throw failure(step, errno, spec, cgroup);
            }
            long pid = r.get(JAVA_LONG, R_PID);
            int pidfd = (int) r.get(JAVA_LONG, R_PIDFD);
            NativeProcess np = out instanceof Output.Pipe
                    ? new NativeProcess(this, pid, pidfd, p[1], p[2], p[4])
                    : new NativeProcess(this, pid, pidfd, -1, -1, -1);
            if (out instanceof Output.Pipe) p[1] = p[2] = p[4] = -1; // the process's now
            return np;
        } finally {
            // The child's ends (dup2'd onto its 0-2) and the log: ours to close in every case.
            for (int fd : p) if (fd >= 0) Libc.close(fd);
            if (logFd >= 0) Libc.close(logFd);
            if (nullFd >= 0) Libc.close(nullFd);
        }
    }

    private static int openLog(Path log) throws SpawnException {
        try {
            Path parent = log.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
        } catch (IOException e) {
            throw new SpawnException(Step.LAUNCHER, null, "cannot create log directory for " + log + ": " + e, e);
        }
        int fd = Libc.open(log.toString(), Libc.O_WRONLY | Libc.O_APPEND | Libc.O_CREAT | Libc.O_CLOEXEC, 0666);
        if (fd < 0) throw new SpawnException(Step.LAUNCHER, Libc.errnoName(-fd), "cannot open log file " + log + ": "
                + Libc.errnoName(-fd), null);
        return fd;
    }

    /** waitid(P_PIDFD, WEXITED[| WNOHANG]): the wait(2) status word, -1 while running, or -2 - errno. */
    int reap(int pidfd, boolean block) {
        // One status word for every reap (they are rare and short): no arena per exit.
        synchronized (reapStatus) {
            try {
                int r = (int) reap.invokeExact(pidfd, reapStatus, block ? 1 : 0);
                if (r == 1) return reapStatus.get(JAVA_INT, 0);
                return r == 0 ? -1 : -2 + r;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }
    }

    /** Fills the request: strings first, then argv and envp, in the one buffer. */
    private MemorySegment request(WorkerSpec spec, int cgroupFd, long stdin, long stdout, long stderr) throws SpawnException {
        List<String> cmd = spec.command();
        Map<String, String> env = spec.environment();
        String cwd = spec.directory().isPresent() ? spec.directory().get().toString() : null;
        // Upper bound: 3 bytes per char (UTF-8 of a UTF-16 unit), a NUL each, a pointer each, two NULL ends.
        long need = R_SIZE + 16;
        for (int i = 0; i < cmd.size(); i++) need += 3L * cmd.get(i).length() + 9;
        if (!spec.clearEnvironment()) for (String e : baseEntries) need += 3L * e.length() + 9;
        boolean ownEnv = !env.isEmpty(); // most specs add nothing: then no entry iterator either
        if (ownEnv) for (Map.Entry<String, String> e : env.entrySet()) need += 3L * (e.getKey().length() + e.getValue().length()) + 10;
        if (cwd != null) need += 3L * cwd.length() + 1;
        need += 16;
        if (need > buf.byteSize()) buf = arena.allocate(Math.max(need, 2 * buf.byteSize()), 8);
        MemorySegment b = buf;
        long base = b.address();
        int argc = cmd.size();
        int envc = 0;
        if (!spec.clearEnvironment()) for (String k : baseKeys) if (!ownEnv || !env.containsKey(k)) envc++;
        envc += env.size();
        long argvAt = R_SIZE, envpAt = argvAt + 8L * (argc + 1), at = envpAt + 8L * (envc + 1);
        for (int i = 0; i < argc; i++) {
            b.set(JAVA_LONG, argvAt + 8L * i, base + at);
            at = put(b, at, cmd.get(i), null, spec);
        }
        b.set(JAVA_LONG, argvAt + 8L * argc, 0);
        int e = 0;
        if (!spec.clearEnvironment()) {
            for (int i = 0; i < baseKeys.length; i++) {
                if (ownEnv && env.containsKey(baseKeys[i])) continue;
                b.set(JAVA_LONG, envpAt + 8L * e++, base + at);
                at = put(b, at, baseEntries[i], null, spec);
            }
        }
        if (ownEnv) {
            for (Map.Entry<String, String> kv : env.entrySet()) {
                b.set(JAVA_LONG, envpAt + 8L * e++, base + at);
                at = put(b, at, kv.getKey(), kv.getValue(), spec);
            }
        }
        b.set(JAVA_LONG, envpAt + 8L * e, 0);
        long cwdAt = 0;
        if (cwd != null) {
            cwdAt = base + at;
            at = put(b, at, cwd, null, spec);
        }
        b.set(JAVA_LONG, R_PATH, b.get(JAVA_LONG, argvAt)); // the program: argv[0], searched in the child's PATH
        b.set(JAVA_LONG, R_ARGV, base + argvAt);
        b.set(JAVA_LONG, R_ENVP, base + envpAt);
        b.set(JAVA_LONG, R_CWD, cwdAt);
        b.set(JAVA_LONG, R_CGROUP, cgroupFd);
        b.set(JAVA_LONG, R_STDIO, stdin);
        b.set(JAVA_LONG, R_STDIO + 8, stdout);
        b.set(JAVA_LONG, R_STDIO + 16, stderr);
        // Every fd >= 3 closed always, closeFds or not: the JDK's ProcessBuilder does so (the launcher path
        // got it from there), and the JVM opens many files without O_CLOEXEC; a worker must not hold them.
        long flags = (spec.newSession() ? F_SETSID : 0) | F_CLOSE_FDS
                | (spec.noNewPrivileges() ? F_NNP : 0) | (spec.oomScoreAdj().isPresent() ? F_OOM : 0);
        b.set(JAVA_LONG, R_FLAGS, flags);
        b.set(JAVA_LONG, R_PDEATHSIG, spec.parentDeathSignal().isPresent() ? spec.parentDeathSignal().getAsInt() : 0);
        b.set(JAVA_LONG, R_PPID, SELF);
        b.set(JAVA_LONG, R_OOM, spec.oomScoreAdj().isPresent() ? spec.oomScoreAdj().getAsInt() : 0);
        return b.asSlice(0, R_SIZE);
    }

    /** Writes {@code s} (and "=" {@code value}, for an environment entry) NUL-terminated at {@code at}. */
    private static long put(MemorySegment b, long at, String s, String value, WorkerSpec spec) throws SpawnException {
        at = encode(b, at, s, spec);
        if (value != null) {
            b.set(JAVA_BYTE, at++, (byte) '=');
            at = encode(b, at, value, spec);
        }
        b.set(JAVA_BYTE, at++, (byte) 0);
        return at;
    }

    private static long encode(MemorySegment b, long at, String s, WorkerSpec spec) throws SpawnException {
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c == 0) throw new SpawnException(Step.EXEC, "EINVAL", "cannot exec \"" + spec.command().get(0)
                    + "\": an argument or environment entry holds a NUL character: EINVAL", null);
            if (c >= 0x80) return encodeUtf8(b, at, s);
            b.set(JAVA_BYTE, at + i, (byte) c);
        }
        return at + n;
    }

    /** The rare non-ASCII string: its UTF-8 bytes (allocates). */
    private static long encodeUtf8(MemorySegment b, long start, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        MemorySegment.copy(bytes, 0, b, JAVA_BYTE, start, bytes.length);
        return start + bytes.length;
    }

    private static SpawnException failure(int step, int errno, WorkerSpec spec, Optional<Path> cgroup) {
        String name = Libc.errnoName(errno);
        String program = spec.command().get(0);
        return switch (step) {
            case STEP_JOIN -> new SpawnException(Step.JOIN, name, "cannot join cgroup " + cgroup.map(Path::toString).orElse("?")
                    + " (clone3 CLONE_INTO_CGROUP): " + name, null);
            case STEP_SETSID -> new SpawnException(Step.SETSID, name, "setsid for \"" + program + "\": " + name, null);
            case STEP_PDEATHSIG -> new SpawnException(Step.PDEATHSIG, name, "prctl(PR_SET_PDEATHSIG) for \"" + program
                    + "\"" + (errno == Errno.ESRCH ? " (the parent thread died first)" : "") + ": " + name, null);
            case STEP_NNP -> new SpawnException(Step.NO_NEW_PRIVS, name, "prctl(PR_SET_NO_NEW_PRIVS) for \"" + program
                    + "\": " + name, null);
            case STEP_OOM -> new SpawnException(Step.OOM_SCORE_ADJ, name, "cannot write " + spec.oomScoreAdj().orElse(0)
                    + " to /proc/self/oom_score_adj: " + name, null);
            case STEP_CHDIR -> new SpawnException(Step.CHDIR, name, "cannot change directory to "
                    + spec.directory().map(Path::toString).orElse("?") + ": " + name, null);
            case STEP_CLOSE_FDS -> new SpawnException(Step.CLOSE_FDS, name, "close_range for \"" + program + "\": " + name, null);
            case STEP_EXEC -> new SpawnException(Step.EXEC, name, "cannot exec \"" + program + "\": " + name, null);
            case STEP_STDIO -> new SpawnException(Step.LAUNCHER, name, "cannot set up stdin/stdout/stderr of \"" + program
                    + "\" (dup2): " + name, null);
            default -> new SpawnException(Step.LAUNCHER, name, "native spawn of \"" + program + "\" failed at step "
                    + step + ": " + name, null);
        };
    }
}
