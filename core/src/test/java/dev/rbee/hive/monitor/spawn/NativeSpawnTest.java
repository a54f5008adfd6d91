package dev.rbee.hive.monitor.spawn;

import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.internal.Libc;
import dev.rbee.hive.monitor.model.ExitReport;
import dev.rbee.hive.monitor.model.Output;
import dev.rbee.hive.monitor.model.SpawnException;
import dev.rbee.hive.monitor.model.SpawnException.Step;
import dev.rbee.hive.monitor.model.SpawnPath;
import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What only the native path (librbee-spawn.so) has to show: its own process
 * handling (pipes over raw fds, exit status through the pidfd, signals
 * through it), no JDK thread per worker, no inherited JVM fd, and a cgroup
 * the clone cannot enter failing as JOIN with nothing left.
 */
class NativeSpawnTest {
    final String group = TestEnv.uniqueGroup("native");
    final ProcessMonitor monitor = TestEnv.monitor(SpawnPath.NATIVE);

    @AfterEach
    void cleanup() {
        TestEnv.destroyTree(monitor.backend().root().orElseThrow().resolve(group));
    }

    @Test
    void pipesCarryStdinStdoutAndStderr() throws Exception {
        Worker w = monitor.spawn(WorkerSpec.command("/bin/sh", "-c", "tr a-z A-Z; echo oops >&2; exit 3")
                .withMonitoring(group, "1").output(Output.pipe()).build());
        assertEquals(SpawnPath.NATIVE, w.spawnPath().orElseThrow());
        assertTrue(w.toString().contains("native"), w.toString());
        Process p = w.process().orElseThrow();
        assertTrue(p instanceof NativeProcess, p.getClass().getName());
        try (var in = p.getOutputStream()) {
            in.write("hello\n".getBytes(StandardCharsets.US_ASCII));
        }
        assertEquals("HELLO\n", new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII));
        assertEquals("oops\n", new String(p.getErrorStream().readAllBytes(), StandardCharsets.US_ASCII));
        p.getInputStream().close();
        p.getErrorStream().close();
        ExitReport r = w.onExit().get(10, TimeUnit.SECONDS);
        assertEquals(3, r.status().orElseThrow().code().getAsInt());
        assertEquals(3, p.exitValue());
        assertFalse(p.isAlive());
        assertThrows(UnsupportedOperationException.class, p::toHandle, "a pid-number handle is not offered");
    }

    @Test
    void programIsFoundInTheWorkersPath() throws Exception {
        Worker w = monitor.spawn(WorkerSpec.command("sh", "-c", "exit 7").env("PATH", "/nonexistent:/bin")
                .withMonitoring(group, "1").build());
        assertEquals(7, w.onExit().get(10, TimeUnit.SECONDS).status().orElseThrow().code().getAsInt());
        SpawnException e = assertThrows(SpawnException.class, () -> monitor.spawn(WorkerSpec.command("sh")
                .env("PATH", "/nonexistent").withMonitoring(group, "2").build()));
        assertEquals(Step.EXEC, e.step());
        assertEquals("ENOENT", e.errno().orElseThrow());
    }

    @Test
    void stopSignalsThroughThePidfdAndKillEndsTheTree() throws Exception {
        Worker w = monitor.spawn(WorkerSpec.command("/bin/sleep", "60").withMonitoring(group, "1").build());
        ExitReport r = w.stop(Duration.ofSeconds(10));
        assertEquals(15, r.status().orElseThrow().signal().getAsInt(), r.toString());
        Worker k = monitor.spawn(WorkerSpec.command("/bin/sh", "-c", "trap '' TERM; sleep 60 & wait")
                .withMonitoring(group, "2").build());
        Thread.sleep(200); // the trap is set
        ExitReport kr = k.stop(Duration.ofMillis(300));
        assertEquals(9, kr.status().orElseThrow().signal().getAsInt(), kr.toString());
        assertTrue(kr.killedByStop());
        // Reaped and gone: signals after the end are no error and reach nobody.
        w.process().orElseThrow().destroyForcibly();
        w.kill();
    }

    /** The JVM opens many files without O_CLOEXEC; as with ProcessBuilder, none reaches the worker. */
    @Test
    void noJvmFdIsInherited() throws Exception {
        int leaky = Libc.open("/etc/hostname", Libc.O_RDONLY, 0); // not close-on-exec
        assertTrue(leaky > 2, "fd " + leaky);
        try {
            Worker w = monitor.spawn(WorkerSpec.command("/bin/ls", "/proc/self/fd").output(Output.pipe())
                    .withMonitoring(group, "1").build());
            String fds = new String(w.process().orElseThrow().getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            w.onExit().get(10, TimeUnit.SECONDS);
            w.process().orElseThrow().getInputStream().close();
            w.process().orElseThrow().getErrorStream().close();
            // ls itself opens one fd (3) for the directory it lists
            assertEquals(List.of("0", "1", "2", "3"), fds.lines().toList(), fds);
        } finally {
            Libc.close(leaky);
        }
    }

    /** Goal: no thread per worker.  The launcher path's JDK process keeps a "process reaper" thread per child. */
    @Test
    void noThreadPerWorker() throws Exception {
        monitor.spawn(WorkerSpec.command("/bin/true").withMonitoring(group, "warm").build()).onExit().join();
        long before = SpawnFailureTest.nonTransientThreads();
        List<Worker> ws = new ArrayList<>();
        try {
            for (int i = 0; i < 20; i++)
                ws.add(monitor.spawn(WorkerSpec.command("/bin/sleep", "60").withMonitoring(group, "s" + i).build()));
            long during = SpawnFailureTest.nonTransientThreads();
            assertTrue(during <= before + 1, "threads with 20 live workers: " + during + ", before: " + before);
        } finally {
            for (Worker w : ws) w.kill();
            for (Worker w : ws) w.onExit().get(10, TimeUnit.SECONDS);
        }
    }

    /** A cgroup that was removed under its held fd: clone3 refuses to enter it; nothing ran, nothing is left. */
    @Test
    void cgroupTheCloneCannotEnterFailsAsJoin() throws Exception {
        Path dir = monitor.backend().root().orElseThrow().resolve(group).resolve("gone");
        Files.createDirectories(dir);
        int fd = Libc.openDirectory(dir.toString());
        assertTrue(fd >= 0);
        Path marker = Files.createTempFile("rbee-native", ".ran");
        Files.delete(marker);
        try {
            Files.delete(dir);
            long fds = TestEnv.settledFdCount(), children = TestEnv.liveChildren();
            Spawner s = new Spawner(TestEnv.launcher(), SpawnPath.NATIVE);
            SpawnException e = assertThrows(SpawnException.class, () -> s.launch(
                    WorkerSpec.command("/bin/touch", marker.toString()).build(), Optional.of(dir), fd));
            System.out.println("native join failure: " + e.getMessage());
            assertEquals(Step.JOIN, e.step(), e.getMessage());
            assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
            assertTrue(e.errno().isPresent());
            assertFalse(Files.exists(marker), "the target must never run when the clone cannot enter the cgroup");
            assertEquals(children, TestEnv.liveChildren(), "process left behind");
            assertEquals(fds, TestEnv.fdCount(), "fd leaked");
        } finally {
            Libc.close(fd);
            Files.deleteIfExists(marker);
        }
    }

    /** The clone lands in the leaf itself: the worker's /proc/self/cgroup names it from its first instruction. */
    @Test
    void bornInsideItsLeaf() throws Exception {
        Worker w = monitor.spawn(WorkerSpec.command("/bin/cat", "/proc/self/cgroup").output(Output.pipe())
                .withMonitoring(group, "1").build());
        String cg = new String(w.process().orElseThrow().getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        w.onExit().get(10, TimeUnit.SECONDS);
        w.process().orElseThrow().getInputStream().close();
        w.process().orElseThrow().getErrorStream().close();
        assertTrue(cg.lines().anyMatch(l -> l.startsWith("0::") && l.endsWith("/" + group + "/1")), cg);
    }
}
