package dev.rbee.hive.monitor.spawn;

import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.testing.Race;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reason this project exists: a statically linked program whose very
 * first action is fork() must never run, nor have its child run, outside its
 * leaf.  The seed's spawn-then-attach is run the same way to show the test can fail.
 */
class RaceTest {
    static final int RUNS = Integer.getInteger("rbee.race.runs", 200);
    final String group = TestEnv.uniqueGroup("race");
    final ProcessMonitor monitor = TestEnv.monitor();

    @AfterEach
    void cleanup() {
        TestEnv.destroyTree(monitor.backend().root().orElseThrow().resolve(group));
    }

    @Test
    void ourSpawnNeverEscapes() throws Exception {
        Race.Count c = Race.ourSpawn(monitor, TestEnv.cgroupMount(), group, RUNS);
        System.out.printf("race: our spawn: %d runs, %d cgroup lines, %d escapes%n", RUNS, c.lines(), c.escapes());
        assertEquals(0, c.escapes());
        assertEquals(2 * RUNS, c.lines());
    }

    @Test
    void spawnThenAttachEscapes() throws Exception {
        Race.Count c = Race.spawnThenAttach(TestEnv.cgroupMount(),
                monitor.backend().root().orElseThrow().resolve(group).resolve("attach"), RUNS);
        System.out.printf("race: spawn-then-attach: %d runs, %d escaped cgroup lines%n", RUNS, c.escapes());
        assertTrue(c.escapes() > 0, "spawn-then-attach should let the worker or its child run outside the leaf");
    }
}
