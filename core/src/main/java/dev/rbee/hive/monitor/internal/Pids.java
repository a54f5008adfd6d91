package dev.rbee.hive.monitor.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Signals to processes known only by a pid that we just read from a list
 * (cgroup.procs): the pid is turned into a pidfd first, and the process
 * behind the pidfd is checked to still be a member of that cgroup, so a pid
 * reused by a process elsewhere between the read and the signal is never hit.
 */
public final class Pids {
    private Pids() {}

    /** Sends {@code sig} to {@code pid} if it is (still) in {@code cgroupDir}; an exited process is not an error. */
    public static void signalMember(Path cgroupDir, long pid, int sig) throws IOException {
        int pidfd = Libc.pidfdOpen(pid);
        if (pidfd < 0) {
            if (-pidfd == Errno.ESRCH) return;
            throw new IOException("cannot open a pidfd for pid " + pid + " of " + cgroupDir + ": " + Libc.errnoName(-pidfd));
        }
        try {
            if (!listed(cgroupDir, pid)) return; // exited, and the pid went to a process outside this cgroup
            int r = Libc.pidfdSendSignal(pidfd, sig);
            if (r < 0 && -r != Errno.ESRCH)
                throw new IOException("cannot send signal " + sig + " to pid " + pid + " of " + cgroupDir + ": " + Libc.errnoName(-r));
        } finally {
            Libc.close(pidfd);
        }
    }

    private static boolean listed(Path cgroupDir, long pid) throws IOException {
        try {
            String procs = Files.readString(cgroupDir.resolve("cgroup.procs"), StandardCharsets.US_ASCII);
            String p = Long.toString(pid);
            for (String line : procs.split("\n")) if (line.equals(p)) return true;
            return false;
        } catch (NoSuchFileException gone) {
            return false;
        }
    }
}
