package dev.rbee.hive.monitor.backend;

import dev.rbee.hive.monitor.model.SpawnException;
import dev.rbee.hive.monitor.spawn.Spawner;

/** The launcher, found (or unpacked) on first use: a monitor that only reads stats never needs it. */
public interface SpawnerSource {
    /**
     * The spawner.
     *
     * @return it, found or unpacked now if needed
     * @throws SpawnException if the launcher cannot be found
     */
    Spawner get() throws SpawnException;
}
