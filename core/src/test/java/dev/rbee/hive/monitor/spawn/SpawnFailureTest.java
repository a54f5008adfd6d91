package dev.rbee.hive.monitor.spawn;

import dev.rbee.hive.monitor.model.Limits;
import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.model.SpawnException;
import dev.rbee.hive.monitor.model.SpawnException.Step;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every way a spawn can fail names its step and errno, and leaves nothing
 * behind: no cgroup directory, no process, no fd in this JVM.
 */
class SpawnFailureTest {
    final String group = TestEnv.uniqueGroup("fail");
    final ProcessMonitor monitor = TestEnv.monitor();
    final Path root = monitor.backend().root().orElseThrow();
    long fdsBefore, childrenBefore;

    @BeforeEach
    void warmUp() throws Exception {
        // The first spawn unpacks the launcher and starts the spawner thread: not a leak.
        monitor.spawn(WorkerSpec.command("/bin/true").build()).onExit().join();
        fdsBefore = TestEnv.settledFdCount();
        childrenBefore = TestEnv.liveChildren();
    }

    @AfterEach
    void cleanup() {
        TestEnv.destroyTree(root.resolve(group));
    }

    private SpawnException fails(WorkerSpec spec, Step step) {
        SpawnException e = assertThrows(SpawnException.class, () -> monitor.spawn(spec));
        System.out.println("spawn failure [" + e.step() + "]: " + e.getMessage());
        assertEquals(step, e.step(), e.getMessage());
        assertNothingLeft();
        return e;
    }

    private void assertNothingLeft() {
        assertFalse(Files.exists(root.resolve(group)), "group directory left behind: " + root.resolve(group));
        assertEquals(childrenBefore, TestEnv.liveChildren(), "process left behind");
        assertEquals(fdsBefore, TestEnv.fdCount(), "fd leaked");
    }

    /** Output.journal() where journald is absent (this host): a clear failure naming its socket, nothing left. */
    @Test
    void journalAbsent() {
        org.junit.jupiter.api.Assumptions.assumeFalse(Files.exists(Path.of("/run/systemd/journal/stdout")),
                "journald runs here: the systemd VM suite checks the journal output");
        SpawnException e = fails(WorkerSpec.command("/bin/echo", "hello").withMonitoring(group, "1")
                .output(dev.rbee.hive.monitor.model.Output.journal()).build(), Step.JOURNAL);
        assertEquals("ENOENT", e.errno().orElseThrow());
        assertTrue(e.getMessage().contains("/run/systemd/journal/stdout") && e.getMessage().contains("no journald here"),
                e.getMessage());
    }

    @Test
    void programNotFound() {
        SpawnException e = fails(WorkerSpec.command("/nonexistent/llama-server").withMonitoring(group, "1").build(), Step.EXEC);
        assertEquals("ENOENT", e.errno().orElseThrow());
        assertTrue(e.getMessage().contains("/nonexistent/llama-server"), e.getMessage());
    }

    @Test
    void programNotExecutable(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("not-exec"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        // root bypasses permission bits only where some x bit is set: rw-r--r-- gives EACCES even for root
        SpawnException e = fails(WorkerSpec.command(f.toString()).withMonitoring(group, "1").build(), Step.EXEC);
        assertEquals("EACCES", e.errno().orElseThrow());
    }

    @Test
    void workingDirectoryMissing() {
        SpawnException e = fails(WorkerSpec.command("/bin/true").withMonitoring(group, "1")
                .directory(Path.of("/nonexistent-dir")).build(), Step.CHDIR);
        assertEquals("ENOENT", e.errno().orElseThrow());
    }

    @Test
    void limitWhoseControllerIsAbsentOnThisHost() throws Exception {
        String controllers = Files.readString(TestEnv.cgroupMount().resolve("cgroup.controllers"));
        org.junit.jupiter.api.Assumptions.assumeFalse(controllers.contains("memory"),
                "this host's cgroup2 has the memory controller; the VM suite covers refused limits");
        SpawnException e = fails(WorkerSpec.command("/bin/true").withMonitoring(group, "1")
                .limits(Limits.builder().memoryMax("64M").build()).build(), Step.SUBTREE_CONTROL);
        assertTrue(e.getMessage().contains("memory.max=\"67108864\""), e.getMessage());
        assertTrue(e.getMessage().contains("memory controller is not available"), e.getMessage());
        assertTrue(e.getMessage().contains("cgroup.controllers"), e.getMessage());
    }

    @Test
    void instanceBusy() throws Exception {
        Worker first = monitor.spawn(WorkerSpec.command("/bin/sleep", "30").withMonitoring(group, "1").build());
        try {
            SpawnException e = assertThrows(SpawnException.class, () ->
                    monitor.spawn(WorkerSpec.command("/bin/true").withMonitoring(group, "1").build()));
            assertEquals(Step.BUSY, e.step());
            assertTrue(e.getMessage().contains("instance busy"), e.getMessage());
            assertTrue(Files.isDirectory(root.resolve(group).resolve("1")), "the busy leaf must stay");
            assertTrue(first.process().orElseThrow().isAlive(), "the running worker must be untouched");
        } finally {
            first.process().orElseThrow().destroyForcibly();
            first.onExit().join();
        }
    }

    @Test
    void emptyLeftoverLeafIsReused() throws Exception {
        Files.createDirectories(root.resolve(group).resolve("1"));
        Worker w = monitor.spawn(WorkerSpec.command("/bin/true").withMonitoring(group, "1").build());
        assertEquals(0, w.onExit().join().status().orElseThrow().shellValue());
    }

    @Test
    void launcherMissing() throws Exception {
        ProcessMonitor m = ProcessMonitor.builder().launcher(Path.of("/nonexistent/rbee-launch")).build();
        SpawnException e = assertThrows(SpawnException.class, () ->
                m.spawn(WorkerSpec.command("/bin/true").withMonitoring(group, "1").build()));
        assertEquals(Step.LAUNCHER, e.step());
        assertTrue(e.getMessage().contains("/nonexistent/rbee-launch"), e.getMessage());
        assertNothingLeft();
    }

    /** No writable cgroup2 root: the process-tree backend, which refuses limits it cannot enforce. */
    @Test
    void limitsRefusedWithoutACgroup() throws Exception {
        ProcessMonitor m = ProcessMonitor.builder().root(root.resolve(group).resolve("no-such-parent").resolve("rbee.slice")).build();
        assertEquals(dev.rbee.hive.monitor.model.Backend.Kind.PROCTREE, m.backend().kind(), m.backend().reason());
        assertTrue(m.backend().reason().contains("not writable"), m.backend().reason());
        SpawnException e = assertThrows(SpawnException.class, () -> m.spawn(WorkerSpec.command("/bin/true")
                .withMonitoring(group, "1").limits(Limits.builder().memoryMax("1G").build()).build()));
        assertEquals(Step.BACKEND, e.step());
        assertTrue(e.getMessage().contains("no cgroup: limits unavailable"), e.getMessage());
        assertNothingLeft();
    }

    /** A root that is not cgroup2 (a tmpfs fixture): the launcher refuses to join, the target never runs. */
    @Test
    void joinRefusedOutsideCgroup2(@TempDir Path fixture) throws Exception {
        Path marker = fixture.resolve("ran");
        ProcessMonitor m = ProcessMonitor.builder().root(fixture.resolve("rbee.slice")).build();
        SpawnException e = assertThrows(SpawnException.class, () -> m.spawn(WorkerSpec.command("/bin/touch", marker.toString())
                .withMonitoring(group, "1").build()));
        assertEquals(Step.JOIN, e.step(), e.getMessage());
        assertEquals("EMEDIUMTYPE", e.errno().orElseThrow());
        assertFalse(Files.exists(marker), "the target must never run when the join fails");
        assertFalse(Files.exists(fixture.resolve("rbee.slice")), "fixture tree left behind");
        assertEquals(childrenBefore, TestEnv.liveChildren());
        assertEquals(fdsBefore, TestEnv.fdCount());
    }

    /** A limit file the kernel refuses: the error names the file, the value and the errno. */
    @Test
    void refusedLimitNamesFileValueAndErrno(@TempDir Path fixture) throws Exception {
        // Fixture tree (tmpfs): the ancestors offer pids, but a new leaf has no pids.max => ENOENT.
        Path slice = fixture.resolve("rbee.slice");
        Files.writeString(fixture.resolve("cgroup.controllers"), "pids\n");
        Files.writeString(fixture.resolve("cgroup.subtree_control"), "pids\n");
        Files.createDirectories(slice.resolve(group));
        Files.writeString(slice.resolve("cgroup.subtree_control"), "pids\n");
        Files.writeString(slice.resolve(group).resolve("cgroup.subtree_control"), "pids\n");
        ProcessMonitor m = ProcessMonitor.builder().root(slice).build();
        SpawnException e = assertThrows(SpawnException.class, () -> m.spawn(WorkerSpec.command("/bin/true")
                .withMonitoring(group, "1").limits(Limits.builder().pidsMax(16).build()).build()));
        assertEquals(Step.LIMIT, e.step(), e.getMessage());
        assertEquals("cannot write \"16\" to " + slice.resolve(group).resolve("1").resolve("pids.max") + ": ENOENT", e.getMessage());
        assertFalse(Files.exists(slice.resolve(group).resolve("1")), "leaf left behind");
    }
}
