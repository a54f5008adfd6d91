package dev.rbee.hive.monitor.spawn;

import dev.rbee.hive.monitor.internal.Errno;
import dev.rbee.hive.monitor.internal.Libc;
import dev.rbee.hive.monitor.model.ExitStatus;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A process the native path started: a {@link Process} (so {@code
 * Worker.process()} stays what it was) backed by our own handles, not the
 * JDK's: the pidfd from clone3 for signals, the exit watcher's poll of that
 * pidfd and one waitid(P_PIDFD) for the exit status - no JDK waiting thread
 * per child - and the pipe ends as streams over their fds ({@link FdStreams}).
 *
 * <p>The pidfd is not this object's: the caller of the spawn (the worker's
 * life) closes it, after the exit this process reports; this object never uses
 * it once it has reaped the child.  Without pipes (inherited or logged output)
 * the streams are the JDK's null streams, as for a redirected ProcessBuilder.
 *
 * <p>Thread-safe.  {@link #onExit()} completes on the thread that saw the exit (see {@link ExitWatcher}).
 */
public final class NativeProcess extends Process {
    private static final int SIGTERM = 15, SIGKILL = 9;

    private final NativeSpawn lib;
    private final long pid;
    private final int pidfd;
    private final OutputStream stdin;
    private final InputStream stdout, stderr;
    private final CompletableFuture<ExitStatus> exit = new CompletableFuture<>();
    /** Set under this lock once waitid collected the child: from then on the pidfd is not ours to use. */
    private boolean reaped;

    NativeProcess(NativeSpawn lib, long pid, int pidfd, int stdinFd, int stdoutFd, int stderrFd) {
        this.lib = lib;
        this.pid = pid;
        this.pidfd = pidfd;
        this.stdin = stdinFd >= 0 ? new FdStreams.Out(stdinFd) : OutputStream.nullOutputStream();
        this.stdout = stdoutFd >= 0 ? new FdStreams.In(stdoutFd) : InputStream.nullInputStream();
        this.stderr = stderrFd >= 0 ? new FdStreams.In(stderrFd) : InputStream.nullInputStream();
        // The exit watcher's epoll set holds every pidfd; the fallback (a pidfd epoll calls broken) asks waitid.
        ExitWatcher.shared().watch(pidfd, () -> reap(true), () -> reap(false));
    }

    /** Collects the exit status once; true once reaped (or the child cannot be waited for any more). */
    private boolean reap(boolean block) {
        int status;
        synchronized (this) {
            if (reaped) return true;
            status = lib.reap(pidfd, block);
            if (status == -1) return false; // still running (only without block)
            reaped = true;
        }
        if (status < -1) {
            // ECHILD/EBADF: someone else collected it; its status is lost to us.  Never seen in practice.
            exit.completeExceptionally(new IllegalStateException("cannot wait for pid " + pid + ": "
                    + Libc.errnoName(-(status + 2))));
        } else {
            exit.complete((status & 0x7f) == 0 ? ExitStatus.exited((status >> 8) & 0xff) : ExitStatus.killed(status & 0x7f));
        }
        if (stdin instanceof FdStreams.Out o) o.close(); // nobody reads it any more
        return true;
    }

    int pidfd() {
        return pidfd;
    }

    /**
     * The exit status, read by waitid(P_PIDFD) once the pidfd said the process exited.
     *
     * @return completes on the thread that saw the exit
     */
    public CompletableFuture<ExitStatus> exitStatus() {
        return exit;
    }

    /**
     * Sends {@code sig} through the pidfd; nothing once the process has exited and been reaped.
     *
     * @param sig the signal
     * @return 0, or -errno (never ESRCH: a process that already exited is not an error)
     */
    public synchronized int signal(int sig) {
        if (reaped) return 0;
        int r = Libc.pidfdSendSignal(pidfd, sig);
        return r == -Errno.ESRCH ? 0 : r;
    }

    @Override
    public OutputStream getOutputStream() {
        return stdin;
    }

    @Override
    public InputStream getInputStream() {
        return stdout;
    }

    @Override
    public InputStream getErrorStream() {
        return stderr;
    }

    @Override
    public int waitFor() throws InterruptedException {
        try {
            return exit.get().shellValue();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    @Override
    public boolean waitFor(long timeout, TimeUnit unit) throws InterruptedException {
        try {
            exit.get(timeout, unit);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    @Override
    public int exitValue() {
        if (!exit.isDone()) throw new IllegalThreadStateException("process " + pid + " has not exited");
        return exit.join().shellValue();
    }

    @Override
    public void destroy() {
        signal(SIGTERM);
    }

    @Override
    public Process destroyForcibly() {
        signal(SIGKILL);
        return this;
    }

    @Override
    public boolean supportsNormalTermination() {
        return true;
    }

    @Override
    public boolean isAlive() {
        return !exit.isDone();
    }

    @Override
    public long pid() {
        return pid;
    }

    /** Completes on the thread that saw the exit (not the common pool), with this process. */
    @Override
    public CompletableFuture<Process> onExit() {
        return exit.handle((s, t) -> this);
    }

    /**
     * Not offered: a {@link ProcessHandle} acts on the pid number, which a successor may hold after the exit;
     * signals go through {@link #signal} (the pidfd) instead.
     */
    @Override
    public ProcessHandle toHandle() {
        throw new UnsupportedOperationException("a native-path worker is signalled through its pidfd, not its pid "
                + pid + " (Worker.stop/kill, or Process.destroy)");
    }

    @Override
    public String toString() {
        return "NativeProcess[pid=" + pid + (exit.isDone() ? ", " + exit.getNow(null) : ", alive") + "]";
    }
}
