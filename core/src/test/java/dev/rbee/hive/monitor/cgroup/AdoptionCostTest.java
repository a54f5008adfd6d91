package dev.rbee.hive.monitor.cgroup;

import dev.rbee.hive.monitor.model.MonitorConfig;
import dev.rbee.hive.monitor.model.SpawnException;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Counted, not timed: a monitor that finds N workers another live owner holds
 * reads /proc/locks (one line per lock on the host) not once per worker, which
 * made finding N of them O(N^2), but only when a BUSY error must name the owner.
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
                assertInstanceOf(CgroupTree.Takeover.Owned.class, other.takeOver("g", "w" + i), "w" + i + " is held");
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

    private static long openFds() throws Exception {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }
}
