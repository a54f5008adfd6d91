package dev.rbee.hive.monitor.cgroup;

import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.MonitorConfig;
import dev.rbee.hive.monitor.model.SpawnException;
import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Counted, not timed: a monitor that finds N workers another live owner holds
 * reads /proc/locks (one line per lock on the host) not once per worker, which
 * made finding N of them O(N^2), but only when a BUSY error must name the owner;
 * and adopting N workers costs a few read(2)s each (the calling thread's count
 * in /proc/thread-self/io), whether it takes them over or observes them.
 */
class AdoptionCostTest {
    static final int N = 50;
    final Path root = TestEnv.cgroupMount().resolve(TestEnv.uniqueGroup("adopt-cost"));

    @AfterEach
    void cleanup() {
        TestEnv.destroyTree(root);
    }

    @Test
    void findingOwnedWorkersReadsNoLockTableAndBusyNamesTheOwner() throws Exception {
        long fds = openFds();
        CgroupTree owner = new CgroupTree(root), other = new CgroupTree(root);
        List<Leaf> held = new ArrayList<>();
        try {
            for (int i = 0; i < N; i++) held.add(owner.claim(new MonitorConfig("g", "w" + i)));
            long before = CgroupTree.lockTableReads();
            for (int i = 0; i < N; i++)
                assertInstanceOf(CgroupTree.Takeover.Owned.class, other.takeOver("g", "w" + i), "w" + i + " is held").leaf().close();
            assertEquals(before, CgroupTree.lockTableReads(), "finding " + N + " owned workers read /proc/locks");

            SpawnException busy = assertThrows(SpawnException.class, () -> other.claim(new MonitorConfig("g", "w0")));
            assertEquals(SpawnException.Step.BUSY, busy.step());
            assertTrue(busy.getMessage().contains("pid " + ProcessHandle.current().pid()), busy.getMessage());
            assertEquals(before + 1, CgroupTree.lockTableReads(), "BUSY names its owner: one read");
        } finally {
            for (Leaf l : held) owner.release(l);
        }
        assertFalse(Files.exists(root.resolve("g")), "the empty leaves and their group are gone");
        assertEquals(fds, openFds(), "no fd left open");
    }

    /**
     * Per worker: cgroup.events under the group lock when taking it over (not when listing: the adoption
     * reads it), cgroup.procs before and after pidfd_open (a data read and the end-of-file read each),
     * /proc/PID/stat once.  Measured: 6 taken over, 5 observed; before the reads went through fds and a
     * thread's buffer, 18 and 16 (each file read to its end twice over, /proc/PID/stat, cgroup.stat and
     * cgroup.events read twice).
     */
    static final int READS_PER_WORKER = 7, READS_SLACK = 32;

    @Test
    void adoptingWorkersMakesAFewReadsEach() throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/thread-self/io")), "no per-thread I/O accounting on this kernel");
        // First a small round of each kind: the classes of adoption are loaded (class loading reads jars on this
        // thread) before the counted rounds.
        adoptOwnerless("warm-taken", 2);
        adoptObserved("warm-observed", 2);
        long taken = adoptOwnerless("taken", N);
        long observed = adoptObserved("observed", N);
        System.out.println("read(2)s of the adopting thread for " + N + " workers: taken over " + taken + ", observed " + observed);
        assertTrue(taken <= READS_PER_WORKER * N + READS_SLACK, "taking over " + N + " workers made " + taken + " reads");
        assertTrue(observed <= READS_PER_WORKER * N + READS_SLACK, "observing " + N + " workers made " + observed + " reads");
    }

    /**
     * {@code n} live workers whose owner let go of their leaves (a supervisor that died): a fresh monitor takes
     * each over; the reads that took, then they are killed and their leaves removed.
     */
    private long adoptOwnerless(String group, int n) throws Exception {
        CgroupTree tree = new CgroupTree(root);
        List<Process> sleepers = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                Process p = new ProcessBuilder("sleep", "600").start();
                sleepers.add(p);
                try (Leaf l = tree.claim(new MonitorConfig(group, "w" + i))) { // closed: the owner is gone
                    l.write("cgroup.procs", Long.toString(p.pid()));
                }
            }
            try (ProcessMonitor fresh = ProcessMonitor.builder().root(root).build()) {
                long before = readSyscalls();
                List<Worker> found = fresh.workers();
                long reads = readSyscalls() - before;
                List<Worker> ours = found.stream().filter(w -> w.monitoring().orElseThrow().group().equals(group)).toList();
                assertEquals(n, ours.size(), ours.toString());
                for (Worker w : ours) assertTrue(w.owned() && w.adopted(), w.toString());
                for (Worker w : ours) w.kill();
                for (Worker w : ours) assertTrue(w.onExit().get(30, TimeUnit.SECONDS).cgroupRemoved());
                return reads;
            }
        } finally {
            for (Process p : sleepers) p.destroyForcibly().waitFor();
        }
    }

    /** {@code n} workers of a live owner (another monitor of this JVM): a fresh monitor observes them. */
    private long adoptObserved(String group, int n) throws Exception {
        try (ProcessMonitor owner = ProcessMonitor.builder().root(root).build()) {
            List<Worker> spawned = new ArrayList<>();
            try {
                for (int i = 0; i < n; i++)
                    spawned.add(owner.spawn(WorkerSpec.command("sleep", "600").withMonitoring(group, "w" + i).build()));
                try (ProcessMonitor observer = ProcessMonitor.builder().root(root).build()) {
                    long before = readSyscalls();
                    List<Worker> found = observer.workers();
                    long reads = readSyscalls() - before;
                    List<Worker> ours = found.stream().filter(w -> w.monitoring().orElseThrow().group().equals(group)).toList();
                    assertEquals(n, ours.size(), ours.toString());
                    for (Worker w : ours) {
                        assertFalse(w.owned(), w.toString());
                        int i = Integer.parseInt(w.monitoring().orElseThrow().instance().substring(1));
                        assertEquals(spawned.get(i).pid(), w.pid(), "the main process is the spawned one");
                    }
                    return reads;
                }
            } finally {
                for (Worker w : spawned) w.kill();
                for (Worker w : spawned) w.onExit().get(30, TimeUnit.SECONDS);
            }
        }
    }

    /** read(2)s (and preads) this thread has made: "syscr" of /proc/thread-self/io. */
    private static long readSyscalls() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/thread-self/io")))
            if (line.startsWith("syscr:")) return Long.parseLong(line.substring(6).strip());
        throw new IllegalStateException("no syscr in /proc/thread-self/io");
    }

    private static long openFds() throws Exception {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }
}
