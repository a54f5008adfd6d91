package dev.rbee.hive.monitor.spawn;

import dev.rbee.hive.monitor.internal.Libc;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One epoll set for every exit: each watched pidfd costs one epoll_ctl
 * (counted, whatever the number already watched), each exit is told once,
 * in whatever order the processes die, and a pidfd number closed after its
 * exit can be watched again for another process.  A callback runs on a
 * thread that has handed the watching on, so one that blocks delays no other
 * exit.
 */
class ExitWatcherTest {
    static final int N = 100;

    @Test
    void everyExitIsToldOnceAndEachWatchCostsOneEpollCtl() throws Exception {
        for (int round = 0; round < 2; round++) { // the second round reuses the first one's pidfd numbers
            List<Process> ps = new ArrayList<>();
            List<Integer> fds = new ArrayList<>();
            AtomicIntegerArray told = new AtomicIntegerArray(N);
            CountDownLatch all = new CountDownLatch(N);
            try {
                long ctl = ExitWatcher.shared().ctlCalls();
                for (int i = 0; i < N; i++) {
                    Process p = new ProcessBuilder("/bin/sleep", "100").start();
                    ps.add(p);
                    int fd = Libc.pidfdOpen(p.pid());
                    assertTrue(fd >= 0, "pidfd_open: " + Libc.errnoName(-fd));
                    fds.add(fd);
                    int k = i;
                    ExitWatcher.shared().watch(fd, () -> {
                        told.incrementAndGet(k);
                        all.countDown();
                    }, () -> !p.isAlive());
                }
                assertEquals(ctl + N, ExitWatcher.shared().ctlCalls(), "one epoll_ctl per watched pidfd");
                for (int i = N - 1; i >= 0; i -= 2) ps.get(i).destroyForcibly(); // odd ones first, backwards
                for (int i = 0; i < N; i += 2) ps.get(i).destroyForcibly();
                assertTrue(all.await(30, TimeUnit.SECONDS), all.getCount() + " exits not told");
                Thread.sleep(100); // a second telling would come right after the first
                for (int i = 0; i < N; i++) assertEquals(1, told.get(i), "exit " + i + " told once");
            } finally {
                for (Process p : ps) p.destroyForcibly().waitFor();
                for (int fd : fds) Libc.close(fd);
            }
        }
    }

    @Test
    void aCallbackThatBlocksDelaysNoOtherExit() throws Exception {
        Process first = new ProcessBuilder("/bin/sleep", "100").start(), second = new ProcessBuilder("/bin/sleep", "100").start();
        int fd1 = Libc.pidfdOpen(first.pid()), fd2 = Libc.pidfdOpen(second.pid());
        CountDownLatch firstIn = new CountDownLatch(1), release = new CountDownLatch(1), secondTold = new CountDownLatch(1);
        boolean[] mayBlock = new boolean[2];
        String[] names = new String[2];
        try {
            assertTrue(fd1 >= 0 && fd2 >= 0);
            ExitWatcher.shared().watch(fd1, () -> {
                mayBlock[0] = ExitWatcher.mayBlockHere();
                names[0] = Thread.currentThread().getName();
                firstIn.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS); // blocks, as end-of-life work may (a kill waits up to 5 s)
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, () -> !first.isAlive());
            ExitWatcher.shared().watch(fd2, () -> {
                mayBlock[1] = ExitWatcher.mayBlockHere();
                names[1] = Thread.currentThread().getName();
                secondTold.countDown();
            }, () -> !second.isAlive());
            first.destroyForcibly();
            assertTrue(firstIn.await(30, TimeUnit.SECONDS), "first exit told");
            second.destroyForcibly();
            assertTrue(secondTold.await(30, TimeUnit.SECONDS), "second exit told while the first callback still blocks");
            assertTrue(release.getCount() == 1, "the first callback was still blocked");
            assertTrue(mayBlock[0] && mayBlock[1], "callbacks run off the watching thread");
            assertEquals("rbee-reaper", names[0]);
            assertTrue(!ExitWatcher.mayBlockHere(), "a caller's thread is no exit thread");
        } finally {
            release.countDown();
            first.destroyForcibly().waitFor();
            second.destroyForcibly().waitFor();
            Libc.close(fd1);
            Libc.close(fd2);
        }
    }
}
