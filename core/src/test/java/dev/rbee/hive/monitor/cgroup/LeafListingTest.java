package dev.rbee.hive.monitor.cgroup;

import dev.rbee.hive.monitor.ProcessMonitor;
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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The backend lists live workers through open directories (getdents64's types, cgroup.events by openat):
 * the same ids, in the same order, as the populated ones among {@link CgroupTree#leaves()}; and the
 * listing for {@code workers()}, which leaves that check to the adoption, finds no worker in an empty leaf.
 */
class LeafListingTest {
    final Path root = TestEnv.cgroupMount().resolve(TestEnv.uniqueGroup("listing"));

    @AfterEach
    void cleanup() {
        TestEnv.destroyTree(root);
    }

    @Test
    void populatedLeavesWithValidNamesSortedAsTheTreeListsThem() throws Exception {
        List<Process> sleepers = new ArrayList<>();
        try {
            for (String leaf : List.of("b/9", "b/10", "a/1", "a/x.y", "_bad/1", "a/-bad", "c/sub"))
                populate(root.resolve(leaf), sleepers);
            Files.createDirectories(root.resolve("a/empty")); // a leaf without processes: not a worker
            Files.createDirectories(root.resolve("d"));       // a group without leaves
            // A worker's own sub-cgroup, populated: below the leaf, not a leaf of its own.
            populate(root.resolve("c/sub/inner"), sleepers);

            List<MonitorConfig> expected = new ArrayList<>();
            for (Path leaf : new CgroupTree(root).leaves())
                if (CgroupFiles.populated(leaf))
                    expected.add(new MonitorConfig(leaf.getParent().getFileName().toString(), leaf.getFileName().toString()));
            try (ProcessMonitor m = ProcessMonitor.builder().root(root).build()) {
                assertEquals(List.of(new MonitorConfig("a", "1"), new MonitorConfig("a", "x.y"), new MonitorConfig("b", "10"),
                        new MonitorConfig("b", "9"), new MonitorConfig("c", "sub")), m.enumerateAll());
                assertEquals(expected, m.enumerateAll());
            }
        } finally {
            for (Process p : sleepers) p.destroyForcibly().waitFor();
        }
    }

    /**
     * A fresh monitor's {@code workers()} lists the leaves it will adopt without reading cgroup.events first:
     * an empty leaf, free or held, still adopts as nothing, and is left as it was.
     */
    @Test
    void emptyLeavesFreeOrHeldAreNoWorkers() throws Exception {
        CgroupTree tree = new CgroupTree(root);
        tree.claim(new MonitorConfig("g", "free")).close(); // a dead owner's leftover: empty, unlocked
        try (Leaf held = tree.claim(new MonitorConfig("g", "held"))) { // claimed, nothing started yet
            try (ProcessMonitor m = ProcessMonitor.builder().root(root).build()) {
                List<String> before = fdsUnder(root);
                assertEquals(List.of(), m.workers());
                assertEquals(before, fdsUnder(root), "no fd kept on an empty leaf");
                assertEquals(List.of(), m.enumerateAll());
            }
            assertTrue(Files.isDirectory(root.resolve("g/free")) && Files.isDirectory(root.resolve("g/held")));
            assertTrue(held.isCurrent(), "the held leaf is the one claimed");
            SpawnException busy = assertThrows(SpawnException.class, () -> tree.claim(new MonitorConfig("g", "held")));
            assertEquals(SpawnException.Step.BUSY, busy.step(), "still held by its claim");
        }
    }

    @Test
    void noTreeYetListsNothing() throws Exception {
        try (ProcessMonitor m = ProcessMonitor.builder().root(root).build()) {
            assertEquals(List.of(), m.enumerateAll());
        }
    }

    /** This JVM's open fds on {@code dir} or below it (other threads' fds elsewhere do not count). */
    private static List<String> fdsUnder(Path dir) throws Exception {
        List<String> out = new ArrayList<>();
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    Path target = Files.readSymbolicLink(fd);
                    if (target.startsWith(dir)) out.add(target.toString());
                } catch (java.nio.file.NoSuchFileException closedMeanwhile) {
                    // the listing's own fd, or one closed since
                }
            }
        }
        out.sort(null);
        return out;
    }

    /** Makes {@code cgroup} and moves a new sleeper into it. */
    private static void populate(Path cgroup, List<Process> sleepers) throws Exception {
        Files.createDirectories(cgroup);
        Process p = new ProcessBuilder("sleep", "600").start();
        sleepers.add(p);
        CgroupFiles.write(cgroup.resolve("cgroup.procs"), Long.toString(p.pid()));
    }
}
