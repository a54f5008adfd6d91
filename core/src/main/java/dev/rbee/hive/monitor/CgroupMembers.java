package dev.rbee.hive.monitor;

import dev.rbee.hive.monitor.cgroup.CgroupFiles;
import dev.rbee.hive.monitor.cgroup.CgroupKiller;
import dev.rbee.hive.monitor.internal.Errno;
import dev.rbee.hive.monitor.internal.Libc;

import java.io.IOException;
import java.nio.file.Path;

/** A worker's processes as its cgroup holds them: killed with cgroup.kill, a pid listed there cannot be a reused one. */
record CgroupMembers(Path leaf) implements Tree {
    @Override
    public void killAll() throws IOException {
        CgroupKiller.kill(leaf);
    }

    @Override
    public void signalAll(int sig) throws IOException {
        for (String p : CgroupFiles.read(leaf.resolve("cgroup.procs")).split("\n")) {
            if (p.isBlank()) continue;
            int r = Libc.kill(Integer.parseInt(p.strip()), sig);
            if (r < 0 && -r != Errno.ESRCH)
                throw new IOException("cannot send signal " + sig + " to pid " + p + " of " + leaf + ": " + Libc.errnoName(-r));
        }
    }

    @Override
    public boolean awaitEmpty(long timeoutMillis) throws IOException {
        return CgroupKiller.awaitEmpty(leaf, timeoutMillis);
    }
}
