package dev.rbee.hive.monitor;

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

    @Override
    public void signalAll(int sig) throws IOException {
        Libc.kill((int) -main, sig); // the process group first: one call, no listing race
        table.refresh();
        for (long p : table.liveTree(main)) {
            int r = Libc.kill((int) p, sig);
            if (r < 0 && -r != Errno.ESRCH)
                throw new IOException("cannot send signal " + sig + " to pid " + p + " of worker " + main + ": " + Libc.errnoName(-r));
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
