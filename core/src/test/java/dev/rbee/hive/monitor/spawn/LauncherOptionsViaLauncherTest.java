package dev.rbee.hive.monitor.spawn;

import dev.rbee.hive.monitor.model.SpawnPath;

/** {@link LauncherOptionsTest} through the fallback path, rbee-launch. */
class LauncherOptionsViaLauncherTest extends LauncherOptionsTest {
    @Override
    SpawnPath path() {
        return SpawnPath.LAUNCHER;
    }
}
