package dev.rbee.hive.monitor.backend.proctree;

import dev.rbee.hive.monitor.backend.Tree;
import dev.rbee.hive.monitor.internal.Backoff;
import dev.rbee.hive.monitor.internal.Errno;
import dev.rbee.hive.monitor.internal.Libc;
import dev.rbee.hive.monitor.proc.ProcessTable;

import java.io.IOException;

/**
 * A worker's processes without a cgroup: its process group and session (the
 * launcher made it a session leader) and every descendant, even those that
 * left the group.  Weaker than a cgroup: a descendant that starts its own
 * session and is re-parented away escapes; the README says so.
 */
record SessionMembers(ProcessTable table, long main) implements Tree {
    private static final int SIGKILL = 9;

    @Override
    public void killAll() throws IOException {
        signalAll(SIGKILL);
    }

    /**
     * {@code sig} to the session's members and descendants, each through a
     * pidfd opened after the listing and checked against the listed start time,
     * so that a pid reused meanwhile is never hit.  (Not the process group by
     * number: once the main process is gone, its pgid can be another's.)
     */
    @Override
    public void signalAll(int sig) throws IOException {
        table.refresh();
        for (long p : table.liveTree(main)) {
            ProcessTable.Entry listed = table.get(p);
            if (listed == null) continue;
            long startTicks = listed.startTicks;
            int pidfd = Libc.pidfdOpen(p);
            if (pidfd < 0) continue; // exited since the listing
            try {
                var now = dev.rbee.hive.monitor.proc.ProcStat.read(p);
                if (now.isEmpty() || now.get().startTimeTicks() != startTicks) continue; // reused
                int r = Libc.pidfdSendSignal(pidfd, sig);
                if (r < 0 && -r != Errno.ESRCH)
                    throw new IOException("cannot send signal " + sig + " to pid " + p + " of worker " + main + ": " + Libc.errnoName(-r));
            } finally {
                Libc.close(pidfd);
            }
        }
    }

    @Override
    public boolean awaitEmpty(long timeoutMillis) throws IOException {
        return Backoff.await(() -> {
            table.refresh();
            return table.liveTree(main).isEmpty();
        }, timeoutMillis);
    }
}
