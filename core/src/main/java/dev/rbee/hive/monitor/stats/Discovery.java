package dev.rbee.hive.monitor.stats;

import dev.rbee.hive.monitor.cgroup.CgroupTree;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** How a {@link StatsCollector} finds the workers to sample in each round. */
public interface Discovery {
    /** One worker: its names, a key that changes when it is a new worker, and how to open its counters. */
    record Found(String group, String instance, Object key, Opener opener) {}

    interface Opener {
        CounterSource open() throws IOException;
    }

    /** The workers now (before filtering); called once per round. */
    List<Found> find() throws IOException;

    /** The leaves of a cgroup tree, each read by a {@link CgroupReader}. */
    static Discovery leaves(CgroupTree tree) {
        return () -> {
            List<Found> out = new ArrayList<>();
            for (Path leaf : tree.leaves())
                out.add(new Found(leaf.getParent().getFileName().toString(), leaf.getFileName().toString(),
                        leaf, () -> new CgroupReader(leaf)));
            return out;
        };
    }
}
