package dev.rbee.hive.monitor.backend;

import dev.rbee.hive.monitor.cgroup.CgroupKiller;
import dev.rbee.hive.monitor.cgroup.Leaf;

import java.io.IOException;

/**
 * A worker's processes as its cgroup holds them, sub-cgroups the worker made
 * included: killed with its own cgroup.kill, signalled through pidfds of the
 * pids its cgroups list.
 */
record CgroupMembers(Leaf leaf) implements Tree {
    @Override
    public void killAll() throws IOException {
        CgroupKiller.kill(leaf);
    }

    @Override
    public void signalAll(int sig) throws IOException {
        CgroupKiller.signalAll(leaf.path(), sig);
    }

    @Override
    public boolean awaitEmpty(long timeoutMillis) throws IOException {
        return CgroupKiller.awaitEmpty(leaf.path(), timeoutMillis);
    }
}
