package dev.rbee.hive.monitor.spawn;

import dev.rbee.hive.monitor.model.Output;
import dev.rbee.hive.monitor.model.SpawnPath;
import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each spawn option, observed from inside the worker, on the native path (librbee-spawn.so);
 * {@link LauncherOptionsViaLauncherTest} runs the same through rbee-launch.
 */
class LauncherOptionsTest {
    final String group = TestEnv.uniqueGroup("opt");
    final ProcessMonitor monitor = TestEnv.monitor(path());

    SpawnPath path() {
        return SpawnPath.NATIVE;
    }

    @AfterEach
    void cleanup() {
        TestEnv.destroyTree(monitor.backend().root().orElseThrow().resolve(group));
    }

    private String output(WorkerSpec.Builder spec) throws Exception {
        Worker w = monitor.spawn(spec.withMonitoring(group, "1").output(Output.pipe()).build());
        assertEquals(path(), w.spawnPath().orElseThrow(), "the path this test is about");
        String out = new String(w.process().orElseThrow().getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, w.onExit().get(10, TimeUnit.SECONDS).status().orElseThrow().shellValue(), out);
        return out.strip();
    }

    /** Field {@code n} (1-based) of /proc/PID/stat, counted after the command name's last ')'. */
    static String statField(String stat, int n) {
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return f[n - 3];
    }

    @Test
    void newSession() throws Exception {
        String stat = output(WorkerSpec.command("/bin/cat", "/proc/self/stat").newSession(true));
        String pid = stat.substring(0, stat.indexOf(' '));
        assertEquals(pid, statField(stat, 6), "session id == pid after setsid");
        assertEquals(pid, statField(stat, 5), "process group id == pid after setsid");
        String without = output(WorkerSpec.command("/bin/cat", "/proc/self/stat"));
        assertFalse(without.substring(0, without.indexOf(' ')).equals(statField(without, 6)), "no new session by default");
    }

    @Test
    void noNewPrivileges() throws Exception {
        assertTrue(output(WorkerSpec.command("/bin/grep", "NoNewPrivs", "/proc/self/status").noNewPrivileges(true))
                .matches("NoNewPrivs:\\s+1"));
        assertTrue(output(WorkerSpec.command("/bin/grep", "NoNewPrivs", "/proc/self/status"))
                .matches("NoNewPrivs:\\s+0"));
    }

    @Test
    void oomScoreAdj() throws Exception {
        assertEquals("500", output(WorkerSpec.command("/bin/cat", "/proc/self/oom_score_adj").oomScoreAdj(500)));
    }

    @Test
    void workingDirectory(@TempDir Path dir) throws Exception {
        assertEquals(dir.toRealPath().toString(), output(WorkerSpec.command("/bin/pwd", "-P").directory(dir)));
    }

    @Test
    void environment() throws Exception {
        assertEquals("RBEE_X=1", output(WorkerSpec.command("/usr/bin/env").clearEnvironment().env("RBEE_X", "1")));
    }

    @Test
    void logDirectoryAppends(@TempDir Path dir) throws Exception {
        for (int i = 0; i < 2; i++) {
            Worker w = monitor.spawn(WorkerSpec.command("/bin/sh", "-c", "echo out" + " ; echo err >&2")
                    .withMonitoring(group, "7").output(Output.logDirectory(dir)).build());
            w.onExit().get(10, TimeUnit.SECONDS);
        }
        String log = Files.readString(dir.resolve(group + "-7.log"));
        assertEquals(2, log.split("out\n", -1).length - 1, log);
        assertEquals(2, log.split("err\n", -1).length - 1, log);
    }

    /** The JDK closes fds itself, so close-fds is shown on the launcher run from a shell that leaks fd 7. */
    @Test
    void closeInheritedFds() throws Exception {
        String launcher = TestEnv.launcher().toString();
        String leak = "exec 7</etc/hostname; " + launcher + " --no-cgroup %s -- /bin/ls /proc/self/fd";
        String closed = sh(String.format(leak, "--close-fds"));
        String open = sh(String.format(leak, ""));
        assertTrue(open.lines().anyMatch("7"::equals), "without --close-fds fd 7 is inherited: " + open);
        assertFalse(closed.lines().anyMatch("7"::equals), "with --close-fds fd 7 is closed: " + closed);
    }

    /** pdeathsig: the worker dies with its parent.  The parent here is a shell that exits at once. */
    @Test
    void parentDeathSignal() throws Exception {
        String launcher = TestEnv.launcher().toString();
        // The subshell lives 0.3 s, long enough for the launcher's prctl, then exits.
        long with = Long.parseLong(sh("(" + launcher + " --no-cgroup --pdeathsig 9 --expect-ppid $BASHPID -- /bin/sleep 30"
                + " >/dev/null 2>&1 & echo $!; sleep 0.3)").strip());
        long without = Long.parseLong(sh("(" + launcher + " --no-cgroup -- /bin/sleep 30 >/dev/null 2>&1 & echo $!; sleep 0.3)").strip());
        try {
            long deadline = System.currentTimeMillis() + 5000;
            while (ProcessHandle.of(with).map(ProcessHandle::isAlive).orElse(false) && System.currentTimeMillis() < deadline)
                Thread.sleep(20);
            assertFalse(ProcessHandle.of(with).map(ProcessHandle::isAlive).orElse(false), "worker outlived its parent");
            assertTrue(ProcessHandle.of(without).map(ProcessHandle::isAlive).orElse(false), "control worker should live on");
        } finally {
            ProcessHandle.of(with).ifPresent(ProcessHandle::destroyForcibly);
            ProcessHandle.of(without).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    @Test
    void parentDeathSignalThroughTheApiKeepsTheWorkerWhileTheJvmLives() throws Exception {
        // Spawned from a short-lived thread: the worker must survive that thread (we fork from a long-lived one).
        Worker[] w = new Worker[1];
        Thread t = new Thread(() -> {
            try {
                w[0] = monitor.spawn(WorkerSpec.command("/bin/sleep", "30").withMonitoring(group, "1").parentDeathSignal(9).build());
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        t.start();
        t.join();
        Thread.sleep(300);
        try {
            assertTrue(w[0].process().orElseThrow().isAlive(), "worker killed when the spawning thread ended");
        } finally {
            w[0].process().orElseThrow().destroyForcibly();
            w[0].onExit().join();
        }
    }

    static String sh(String script) throws Exception {
        Process p = new ProcessBuilder("/bin/bash", "-c", script).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }
}
