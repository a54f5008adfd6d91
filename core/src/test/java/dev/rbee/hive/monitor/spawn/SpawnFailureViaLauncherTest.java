package dev.rbee.hive.monitor.spawn;

import dev.rbee.hive.monitor.model.SpawnPath;

/** {@link SpawnFailureTest} through the fallback path, rbee-launch. */
class SpawnFailureViaLauncherTest extends SpawnFailureTest {
    @Override
    SpawnPath path() {
        return SpawnPath.LAUNCHER;
    }
}
