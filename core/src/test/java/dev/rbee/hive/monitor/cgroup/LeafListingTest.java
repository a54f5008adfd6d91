package dev.rbee.hive.monitor.cgroup;

import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.model.MonitorConfig;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The backend lists live workers through open directories (getdents64's types, cgroup.events by openat):
 * the same ids, in the same order, as the populated ones among {@link CgroupTree#leaves()}.
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

    @Test
    void noTreeYetListsNothing() throws Exception {
        try (ProcessMonitor m = ProcessMonitor.builder().root(root).build()) {
            assertEquals(List.of(), m.enumerateAll());
        }
    }

    /** Makes {@code cgroup} and moves a new sleeper into it. */
    private static void populate(Path cgroup, List<Process> sleepers) throws Exception {
        Files.createDirectories(cgroup);
        Process p = new ProcessBuilder("sleep", "600").start();
        sleepers.add(p);
        CgroupFiles.write(cgroup.resolve("cgroup.procs"), Long.toString(p.pid()));
    }
}
