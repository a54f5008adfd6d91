package dev.rbee.hive.monitor.vm;

import dev.rbee.hive.monitor.Output;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.WorkerSpec;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

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
        Path prog = TestEnv.testBin("race-fork");
        int escapes = 0, lines = 0;
        long t0 = System.nanoTime();
        for (int i = 0; i < RUNS; i++) {
            Worker w = monitor.spawn(WorkerSpec.command(prog.toString())
                    .withMonitoring("race", "i" + (i % 4)).output(Output.pipe()).build());
            String out = new String(w.process().orElseThrow().getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            w.onExit().join();
            String expected = VmEnv.cgroupLine(w.cgroup().orElseThrow()).substring(3);
            for (String line : out.strip().split("\n")) {
                lines++;
                if (!line.substring(2).equals(expected)) escapes++;
            }
            assertTrue(out.contains("P ") && out.contains("C "), "both parent and child reported: " + out);
        }
        System.out.printf("race (vm): our spawn: %d runs in %d ms, %d cgroup lines, %d escapes%n", RUNS,
                (System.nanoTime() - t0) / 1_000_000, lines, escapes);
        assertEquals(0, escapes);
        assertEquals(2 * RUNS, lines);
    }

    @Test
    void spawnThenAttachEscapes() throws Exception {
        Path prog = TestEnv.testBin("race-fork");
        Path leaf = root.resolve("race").resolve("attach");
        Files.createDirectories(leaf);
        int escapes = 0;
        for (int i = 0; i < CONTROL_RUNS; i++) {
            Process p = new ProcessBuilder(prog.toString()).start();
            try {
                Files.writeString(leaf.resolve("cgroup.procs"), Long.toString(p.pid())); // the seed's way
            } catch (java.io.IOException alreadyGone) {
                // ESRCH: it ran to the end before the attach, entirely outside the leaf
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            p.waitFor();
            for (String line : out.strip().split("\n"))
                if (!line.endsWith(VmEnv.cgroupLine(leaf).substring(3))) escapes++;
        }
        System.out.printf("race (vm): spawn-then-attach: %d runs, %d escaped cgroup lines%n", CONTROL_RUNS, escapes);
        assertTrue(escapes > 0, "spawn-then-attach should let the worker or its child run outside the leaf");
    }
}
