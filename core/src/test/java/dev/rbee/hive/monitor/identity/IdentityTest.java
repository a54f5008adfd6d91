package dev.rbee.hive.monitor.identity;

import dev.rbee.hive.monitor.model.ExitReport;
import dev.rbee.hive.monitor.model.Names;
import dev.rbee.hive.monitor.model.Output;
import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.model.ProcessStats;
import dev.rbee.hive.monitor.model.SpawnException;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.testing.Supervisor;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One worker per id: a deterministic test for each way the identity used to break (issue 13). */
class IdentityTest {
    final ProcessMonitor monitor = TestEnv.monitor();
    final String group = TestEnv.uniqueGroup("ident");
    final Path groupDir = monitor.backend().root().orElseThrow().resolve(group);

    @AfterEach
    void cleanup() {
        TestEnv.destroyTree(groupDir);
    }

    /** Before: 4-6 restarts in 10 failed (the old reaper removed the successor's leaf by path). */
    @Test
    void restartAtOnceThirtyTimesInARow() throws Exception {
        long previousId = -1;
        for (int i = 0; i < 30; i++) {
            Worker w = monitor.spawn(WorkerSpec.command("/bin/true").withMonitoring(group, "r").build());
            assertTrue(w.cgroupId().getAsLong() != previousId, "each life has its own cgroup id");
            previousId = w.cgroupId().getAsLong();
            ExitReport r = w.onExit().get(10, TimeUnit.SECONDS); // completes normally, every time
            assertEquals(0, r.status().orElseThrow().code().getAsInt(), r.summary());
            assertTrue(r.cgroupRemoved(), r.summary());
        }
        assertFalse(Files.exists(groupDir));
    }

    /** Before: both threads' spawns succeeded, two processes in one leaf. */
    @Test
    void twinSpawnsTwentyTimesExactlyOneWins() throws Exception {
        ProcessMonitor other = TestEnv.monitor(); // the twins come from two monitors, like two supervisors
        for (int i = 0; i < 20; i++) {
            CyclicBarrier start = new CyclicBarrier(2);
            List<CompletableFuture<Object>> twins = new ArrayList<>();
            for (ProcessMonitor m : List.of(monitor, other)) {
                twins.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        start.await();
                        return m.spawn(WorkerSpec.command("/bin/sleep", "100").withMonitoring(group, "twin").build());
                    } catch (Exception e) {
                        return e;
                    }
                }, r -> Thread.ofPlatform().start(r)));
            }
            List<Worker> won = new ArrayList<>();
            for (CompletableFuture<Object> t : twins) {
                Object o = t.get(30, TimeUnit.SECONDS);
                if (o instanceof Worker w) won.add(w);
                else {
                    SpawnException e = (SpawnException) o;
                    assertEquals(SpawnException.Step.BUSY, e.step(), e.getMessage());
                    assertTrue(e.getMessage().contains("instance busy: " + group + "/twin"), e.getMessage());
                }
            }
            assertEquals(1, won.size(), "exactly one twin wins");
            assertEquals(1, Files.readAllLines(won.get(0).cgroup().orElseThrow().resolve("cgroup.procs")).size());
            assertTrue(won.get(0).stop(Duration.ofSeconds(5)).cgroupRemoved());
        }
    }

    /** The BUSY error names the owner: here a second JVM, found through its flock on the leaf. */
    @Test
    void busyNamesTheOwningProcess() throws Exception {
        Process sup = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Supervisor.class.getName(), group, "wait", "1").redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            BufferedReader r = new BufferedReader(new InputStreamReader(sup.getInputStream()));
            for (String line; (line = r.readLine()) != null && !line.equals("ready"); ) { }
            SpawnException e = assertThrows(SpawnException.class, () ->
                    monitor.spawn(WorkerSpec.command("/bin/true").withMonitoring(group, "1").build()));
            assertEquals(SpawnException.Step.BUSY, e.step());
            assertTrue(e.getMessage().contains("owned by pid " + sup.pid() + " ("), e.getMessage());
            // A non-owner may still stop it; the owner (alive) keeps the id and cleans up.
            Worker observed = monitor.worker(group, "1").orElseThrow();
            assertFalse(observed.owned());
            observed.stop(Duration.ofSeconds(5));
        } finally {
            sup.destroyForcibly();
            sup.waitFor();
        }
    }

    /**
     * Before: workers() adopted a worker whose spawn was still in flight, and
     * that spawn then failed.  The spawn is held between its claim and its
     * launch by an output FIFO nobody reads yet (the JDK opens redirects before
     * it forks).
     */
    @Test
    void noAdoptionWhileASpawnIsInFlight(@TempDir Path tmp) throws Exception {
        Path fifo = tmp.resolve("out");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        CompletableFuture<Worker> spawning = CompletableFuture.supplyAsync(() -> {
            try {
                return monitor.spawn(WorkerSpec.command("/bin/sleep", "100").withMonitoring(group, "slow")
                        .output(Output.appendTo(fifo)).build());
            } catch (SpawnException e) {
                throw new IllegalStateException(e);
            }
        }, r -> Thread.ofPlatform().start(r));
        Path leaf = groupDir.resolve("slow");
        for (int i = 0; i < 500 && !Files.isDirectory(leaf); i++) Thread.sleep(10);
        assertTrue(Files.isDirectory(leaf), "the claim made the leaf");
        ProcessMonitor other = TestEnv.monitor();
        for (ProcessMonitor m : List.of(monitor, other)) {
            assertTrue(m.worker(group, "slow").isEmpty(), "no handle on a worker still being spawned");
            assertTrue(m.workers().stream().noneMatch(w -> w.monitoring().orElseThrow().group().equals(group)));
        }
        assertTrue(other.cleanupStale().stream().noneMatch(p -> p.startsWith(groupDir)), "an owned empty leaf is not stale");
        try (var reader = Files.newInputStream(fifo)) { // let the spawn go on
            Worker w = spawning.get(30, TimeUnit.SECONDS);
            assertTrue(w.isAlive());
            ExitReport r = w.stop(Duration.ofSeconds(5));
            assertTrue(r.cgroupRemoved(), r.summary());
        }
    }

    /** A worker that makes sub-cgroups (a nested supervisor): they are its own, in stats, stop and cleanup. */
    @Test
    void subCgroupsMadeByTheWorkerAreStoppedAndRemoved() throws Exception {
        String script = "d=" + monitor.backend().root().orElseThrow().getParent() + "$(sed -n 's/^0:://p' /proc/self/cgroup); "
                + "mkdir $d/inner && sh -c 'echo $$ > '$d'/inner/cgroup.procs; exec sleep 1000' & "
                + "sleep 1000";
        Worker w = monitor.spawn(WorkerSpec.command("/bin/sh", "-c", script).withMonitoring(group, "nest").build());
        Path inner = w.cgroup().orElseThrow().resolve("inner");
        for (int i = 0; i < 500 && TestEnv.read(inner.resolve("cgroup.procs")).orElse("").isBlank(); i++) Thread.sleep(10);
        assertFalse(TestEnv.read(inner.resolve("cgroup.procs")).orElse("").isBlank(), "the worker moved a child into inner/");
        // Discovery lists group/instance only; the sub-cgroup's process is in the worker's pids.
        assertEquals(List.of(group + "/nest"), monitor.enumerateAll().stream().map(c -> c.id())
                .filter(id -> id.startsWith(group + "/")).toList());
        ProcessStats s = monitor.collectInstance(group, "nest").orElseThrow();
        assertTrue(s.pids().size() >= 2, "pids of the leaf and of inner/: " + s.pids());
        ExitReport r = w.stop(Duration.ofSeconds(5));
        assertTrue(r.cgroupRemoved(), r.summary());
        assertFalse(Files.exists(w.cgroup().orElseThrow()), "leaf and inner/ removed bottom-up");
        assertEquals(0, TestEnv.liveChildren());
    }

    /** Before: kill() or stop(0) of a worker whose cgroup was gone failed about the freezer (HTTP 500). */
    @Test
    void killAndStopOfAnEndedWorkerAreNotErrors() throws Exception {
        Worker w = monitor.spawn(WorkerSpec.command("/bin/true").withMonitoring(group, "gone").build());
        ExitReport first = w.onExit().get(10, TimeUnit.SECONDS);
        w.kill();
        assertEquals(first, w.stop(Duration.ZERO), "the report it already had");
        assertFalse(first.killedByStop());
    }

    /** Before: "cgroup.kill" and "memory.max" were accepted as names, then failed with ENOTDIR. */
    @Test
    void interfaceFileNamesAreRefusedBeforeAnyDirectory() {
        for (String bad : List.of("cgroup.kill", "cgroup.procs", "memory.max", "cpu.weight", "io.max", "pids.max", "irq.pressure")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                    monitor.spawn(WorkerSpec.command("/bin/true").withMonitoring(group, bad).build()));
            assertTrue(e.getMessage().contains("cgroup interface files"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Names.check("group", bad));
        }
        assertTrue(Names.isValid("llama.cpp") && Names.isValid("v1.2") && Names.isValid("memory"), "other dotted names stay valid");
        assertFalse(Files.exists(groupDir));
    }
}
