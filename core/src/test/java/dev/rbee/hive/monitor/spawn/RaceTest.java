package dev.rbee.hive.monitor.spawn;

import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.WorkerSpec;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

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
        Path prog = TestEnv.testBin("race-fork");
        int escapes = 0, lines = 0;
        for (int i = 0; i < RUNS; i++) {
            Worker w = monitor.spawn(WorkerSpec.command(prog.toString())
                    .withMonitoring(group, "i" + (i % 4)).output(dev.rbee.hive.monitor.Output.pipe()).build());
            String out = new String(w.process().orElseThrow().getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            w.onExit().join();
            String expected = "/" + TestEnv.cgroupMount().relativize(w.cgroup().orElseThrow());
            for (String line : out.strip().split("\n")) {
                lines++;
                if (!line.substring(2).equals(expected)) escapes++;
            }
            assertTrue(out.contains("P ") && out.contains("C "), "both parent and child reported: " + out);
        }
        System.out.printf("race: our spawn: %d runs, %d cgroup lines, %d escapes%n", RUNS, lines, escapes);
        assertEquals(0, escapes);
        assertEquals(2 * RUNS, lines);
    }

    @Test
    void spawnThenAttachEscapes() throws Exception {
        Path prog = TestEnv.testBin("race-fork");
        Path leaf = monitor.backend().root().orElseThrow().resolve(group).resolve("attach");
        Files.createDirectories(leaf);
        int escapes = 0;
        for (int i = 0; i < RUNS; i++) {
            Process p = new ProcessBuilder(prog.toString()).start();
            try {
                Files.writeString(leaf.resolve("cgroup.procs"), Long.toString(p.pid())); // the seed's way
            } catch (java.io.IOException alreadyGone) {
                // ESRCH: it ran to the end before the attach, entirely outside the leaf
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            p.waitFor();
            for (String line : out.strip().split("\n"))
                if (!line.endsWith("/" + group + "/attach")) escapes++;
        }
        System.out.printf("race: spawn-then-attach: %d runs, %d escaped cgroup lines%n", RUNS, escapes);
        assertTrue(escapes > 0, "spawn-then-attach should let the worker or its child run outside the leaf");
    }
}
