package dev.rbee.hive.monitor.testing;

import dev.rbee.hive.monitor.model.Output;
import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The spawn race, shared by the host's and the VM's race tests: runs of the
 * static race-fork program (its first action is fork(); parent and child each
 * print their cgroup), counting the lines that name any cgroup but the leaf.
 */
public final class Race {
    /** How many cgroup lines there were, and how many named another cgroup than the leaf. */
    public record Count(int lines, int escapes) {}

    private Race() {}

    /** Our spawn, {@code runs} times, in {@code group}/i0..i3 of {@code monitor}. */
    public static Count ourSpawn(ProcessMonitor monitor, Path mount, String group, int runs) throws Exception {
        Path prog = TestEnv.testBin("race-fork");
        int escapes = 0, lines = 0;
        for (int i = 0; i < runs; i++) {
            Worker w = monitor.spawn(WorkerSpec.command(prog.toString())
                    .withMonitoring(group, "i" + (i % 4)).output(Output.pipe()).build());
            String out = new String(w.process().orElseThrow().getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            w.onExit().join();
            w.process().orElseThrow().getInputStream().close();
            w.process().orElseThrow().getErrorStream().close();
            // The default path where clone3 into a cgroup works (Linux >= 5.7: the host's, the VM's 6.1).
            if (System.getProperty("rbee.spawn") == null)
                org.junit.jupiter.api.Assertions.assertEquals(dev.rbee.hive.monitor.model.SpawnPath.NATIVE,
                        w.spawnPath().orElseThrow(), "the path under test");
            String expected = "/" + mount.relativize(w.cgroup().orElseThrow());
            for (String line : out.strip().split("\n")) {
                lines++;
                if (!line.substring(2).equals(expected)) escapes++;
            }
            assertTrue(out.contains("P ") && out.contains("C "), "both parent and child reported: " + out);
        }
        return new Count(lines, escapes);
    }

    /** The first implementation's way, kept only here: ProcessBuilder, then the pid into {@code leaf}/cgroup.procs. */
    public static Count spawnThenAttach(Path mount, Path leaf, int runs) throws Exception {
        Path prog = TestEnv.testBin("race-fork");
        Files.createDirectories(leaf);
        String expected = "/" + mount.relativize(leaf);
        int escapes = 0, lines = 0;
        for (int i = 0; i < runs; i++) {
            Process p = new ProcessBuilder(prog.toString()).start();
            try {
                Files.writeString(leaf.resolve("cgroup.procs"), Long.toString(p.pid()));
            } catch (IOException alreadyGone) {
                // ESRCH: it ran to the end before the attach, entirely outside the leaf
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            p.waitFor();
            for (String line : out.strip().split("\n")) {
                lines++;
                if (!line.substring(2).equals(expected)) escapes++;
            }
        }
        return new Count(lines, escapes);
    }
}
