package dev.rbee.hive.monitor.stats;

import java.io.IOException;
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
}
