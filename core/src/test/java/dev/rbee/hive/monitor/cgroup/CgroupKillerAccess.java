package dev.rbee.hive.monitor.cgroup;

import java.io.IOException;
import java.nio.file.Path;

/** Lets tests force the freeze/SIGKILL/thaw path that kernels without cgroup.kill take. */
public final class CgroupKillerAccess {
    private CgroupKillerAccess() {}

    public static void freezeKill(Path cgroup) throws IOException {
        try (Leaf leaf = Leaf.observe(cgroup).orElseThrow()) {
            CgroupKiller.freezeKill(leaf);
        }
    }
}
