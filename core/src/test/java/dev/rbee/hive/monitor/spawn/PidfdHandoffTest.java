package dev.rbee.hive.monitor.spawn;

import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.internal.Libc;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The launcher hands over a pidfd of itself, opened before exec, over an abstract socket that leaves no file. */
class PidfdHandoffTest {
    @Test
    void launcherPassesAPidfdOfTheWorkerItself() throws Exception {
        Spawner s = new Spawner(TestEnv.launcher(), dev.rbee.hive.monitor.model.SpawnPath.LAUNCHER);
        long socketFiles = socketFiles();
        Spawner.Launched l = s.launch(WorkerSpec.command("/bin/sleep", "100").build(), Optional.empty());
        try {
            assertTrue(l.pidfd() >= 0, "a pidfd came with \"J\"");
            // The kernel says which process a pidfd names: the worker, whose pid is the launcher's.
            String info = Files.readString(Path.of("/proc/self/fdinfo/" + l.pidfd()));
            assertTrue(info.contains("Pid:\t" + l.process().pid() + "\n"), info);
            assertEquals(0, Libc.pidfdSendSignal(l.pidfd(), 9));
            assertTrue(l.process().waitFor(10, TimeUnit.SECONDS));
            assertEquals(137, l.process().exitValue());
            assertEquals(socketFiles, socketFiles(), "the status socket is abstract: no file");
        } finally {
            Libc.close(l.pidfd());
        }
    }

    /** A pidfd the kernel reports as broken does not end exit detection: that worker is polled, the others still watched. */
    @Test
    void exitWatcherSurvivesABrokenPidfd() throws Exception {
        Process broken = new ProcessBuilder("/bin/sleep", "100").start(), fine = new ProcessBuilder("/bin/sleep", "100").start();
        int bad = Libc.pidfdOpen(broken.pid()), good = Libc.pidfdOpen(fine.pid());
        CountDownLatch brokenSeen = new CountDownLatch(1), fineSeen = new CountDownLatch(1);
        Libc.close(bad); // epoll_ctl(ADD) now refuses it (EBADF; EINVAL if the watcher's epoll fd took the number)
        ExitWatcher.shared().watch(bad, brokenSeen::countDown, () -> !broken.isAlive());
        ExitWatcher.shared().watch(good, fineSeen::countDown, () -> !fine.isAlive());
        broken.destroyForcibly();
        assertTrue(brokenSeen.await(10, TimeUnit.SECONDS), "the broken one's exit is found by its fallback check");
        fine.destroyForcibly();
        assertTrue(fineSeen.await(10, TimeUnit.SECONDS), "and the watcher still works for the others");
        Libc.close(good);
    }

    private static long socketFiles() throws Exception {
        try (Stream<Path> s = Files.list(RuntimeDir.get())) {
            return s.filter(p -> p.getFileName().toString().endsWith(".sock")).count();
        }
    }
}
