package dev.rbee.hive.monitor.backend;

import dev.rbee.hive.monitor.cgroup.CgroupTree;
import dev.rbee.hive.monitor.cgroup.Leaf;
import dev.rbee.hive.monitor.model.MonitorConfig;

import java.util.Optional;

/**
 * Where a worker lives and what its end involves, one factory per backend
 * (instead of positional Optionals): its id, its leaf and the tree that owns
 * it (cgroup2), how its processes are found and killed, and what the backend
 * does once it is gone.
 */
public record Home(Optional<MonitorConfig> id, Optional<Leaf> leaf, Optional<Tree> members, Optional<CgroupTree> tree,
                 Runnable afterwards) {
    /** A plain spawn: no id, no cgroup; only its main process is known. */
    public static Home plain() {
        return new Home(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), () -> { });
    }

    /** A worker in its own leaf of {@code tree} (owned, or observed when the leaf says so). */
    public static Home cgroup(MonitorConfig id, Leaf leaf, CgroupTree tree) {
        return new Home(Optional.of(id), Optional.of(leaf), Optional.of(new CgroupMembers(leaf)), Optional.of(tree), () -> { });
    }

    /** A worker without a cgroup: its processes found through {@code members}; {@code afterwards} once it is gone. */
    public static Home processes(Optional<MonitorConfig> id, Tree members, Runnable afterwards) {
        return new Home(id, Optional.empty(), Optional.of(members), Optional.empty(), afterwards);
    }
}
