package dev.rbee.hive.monitor;

import dev.rbee.hive.monitor.cgroup.CgroupFiles;
import dev.rbee.hive.monitor.cgroup.CgroupKiller;
import dev.rbee.hive.monitor.cgroup.Leaf;
import dev.rbee.hive.monitor.internal.Pids;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

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
        signalAll(leaf.path(), sig);
    }

    private static void signalAll(Path dir, int sig) throws IOException {
        for (String p : CgroupFiles.read(dir.resolve("cgroup.procs")).split("\n"))
            if (!p.isBlank()) Pids.signalMember(dir, Long.parseLong(p.strip()), sig);
        try (var children = Files.list(dir)) {
            for (Path c : children.filter(x -> Files.isDirectory(x, LinkOption.NOFOLLOW_LINKS)).toList()) signalAll(c, sig);
        } catch (java.nio.file.NoSuchFileException gone) {
            // removed meanwhile
        }
    }

    @Override
    public boolean awaitEmpty(long timeoutMillis) throws IOException {
        return CgroupKiller.awaitEmpty(leaf.path(), timeoutMillis);
    }
}
