package dev.rbee.hive.monitor.stats;

import dev.rbee.hive.monitor.read.CounterSource;
import dev.rbee.hive.monitor.cgroup.CgroupTree;
import dev.rbee.hive.monitor.cgroup.TreeWatch;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** How a {@link StatsCollector} finds the workers to sample in each round. */
public interface Discovery extends AutoCloseable {
    /** One worker: its names, a key that changes when it is a new worker, and how to open its counters. */
    record Found(String group, String instance, Object key, Opener opener) {}

    interface Opener {
        CounterSource open() throws IOException;
    }

    /**
     * The workers now (before filtering); called once per round.  The same
     * list object as last time means nothing changed (the collector then skips
     * its bookkeeping).
     */
    List<Found> find() throws IOException;

    @Override
    default void close() {
    }

    /**
     * The leaves of a cgroup tree, each read by the JVM's shared {@link CgroupReader}; the
     * tree is listed again only when a {@link TreeWatch} saw it change.
     */
    static Discovery leaves(CgroupTree tree) {
        TreeWatch watch = new TreeWatch(tree.root());
        return new Discovery() {
            private List<Found> last = List.of();

            @Override
            public List<Found> find() throws IOException {
                if (!watch.changed()) return last;
                List<Found> out = new ArrayList<>();
                for (Path leaf : tree.leaves(watch::watchGroup))
                    out.add(new Found(leaf.getParent().getFileName().toString(), leaf.getFileName().toString(),
                            leaf, () -> CgroupReader.shared(leaf)));
                last = out;
                return out;
            }

            @Override
            public void close() {
                watch.close();
            }
        };
    }
}
