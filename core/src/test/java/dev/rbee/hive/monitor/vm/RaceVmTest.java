package dev.rbee.hive.monitor.vm;

import dev.rbee.hive.monitor.testing.Race;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The spawn issue's race test (spawn/RaceTest) again on the VM's slower,
 * emulated CPU, where every window is wider: a static program whose first
 * action is fork() never runs, nor has its child run, outside its leaf.  The
 * seed's spawn-then-attach is run beside it to show that the test can fail.
 */
@Tag("vm")
class RaceVmTest extends VmTestBase {
    static final int RUNS = Integer.getInteger("rbee.race.runs", 200);
    static final int CONTROL_RUNS = Integer.getInteger("rbee.race.controlRuns", 50);

    RaceVmTest() {
        super("race");
    }

    @Test
    void ourSpawnNeverEscapes() throws Exception {
        long t0 = System.nanoTime();
        Race.Count c = Race.ourSpawn(monitor, VmEnv.CGROUP, "race", RUNS);
        System.out.printf("race (vm): our spawn: %d runs in %d ms, %d cgroup lines, %d escapes%n", RUNS,
                (System.nanoTime() - t0) / 1_000_000, c.lines(), c.escapes());
        assertEquals(0, c.escapes());
        assertEquals(2 * RUNS, c.lines());
    }

    @Test
    void spawnThenAttachEscapes() throws Exception {
        Race.Count c = Race.spawnThenAttach(VmEnv.CGROUP, root.resolve("race").resolve("attach"), CONTROL_RUNS);
        System.out.printf("race (vm): spawn-then-attach: %d runs, %d escaped cgroup lines%n", CONTROL_RUNS, c.escapes());
        assertTrue(c.escapes() > 0, "spawn-then-attach should let the worker or its child run outside the leaf");
    }
}
