package dev.rbee.hive.monitor.cgroup;

import dev.rbee.hive.monitor.model.Limits;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The limit writers against a fixture tree of regular files (the VM suite
 * shows the same limits applied by a real kernel).
 */
class LimitWriterFixtureTest {
    static final List<String> FILES = List.of("cpu.max", "cpu.weight", "memory.max", "memory.high", "memory.swap.max",
            "pids.max", "io.max");

    @Test
    void writesEveryLimitInKernelFormat(@TempDir Path leaf) throws Exception {
        for (String f : FILES) Files.writeString(leaf.resolve(f), "");
        Limits l = Limits.builder().cpuPercent(250).cpuWeight(200).memoryMax("512M").memoryHigh("400M")
                .swapMax("0").pidsMax(16).io("254:0 rbps=1M wbps=max").build();
        try (Leaf target = Leaf.observe(leaf).orElseThrow()) {
            CgroupTree.applyLimits(target, l);
        }
        assertEquals("250000 100000", Files.readString(leaf.resolve("cpu.max")));
        assertEquals("200", Files.readString(leaf.resolve("cpu.weight")));
        assertEquals("536870912", Files.readString(leaf.resolve("memory.max")));
        assertEquals("419430400", Files.readString(leaf.resolve("memory.high")));
        assertEquals("0", Files.readString(leaf.resolve("memory.swap.max")));
        assertEquals("16", Files.readString(leaf.resolve("pids.max")));
        assertEquals("254:0 rbps=1048576 wbps=max", Files.readString(leaf.resolve("io.max")));
    }

    @Test
    void onlyRequestedLimitsAreWritten(@TempDir Path leaf) throws Exception {
        for (String f : FILES) Files.writeString(leaf.resolve(f), "");
        try (Leaf target = Leaf.observe(leaf).orElseThrow()) {
            CgroupTree.applyLimits(target, Limits.builder().memoryMax("max").build());
        }
        assertEquals("max", Files.readString(leaf.resolve("memory.max")));
        for (String f : FILES) if (!f.equals("memory.max")) assertEquals("", Files.readString(leaf.resolve(f)), f);
    }

    /**
     * Controllers are enabled top-down, only where missing, only those needed and
     * offered, and only in our own directories: never in the parent of rbee.slice.
     */
    @Test
    void enablesOnlyNeededAndAvailableControllersInOurOwnTree(@TempDir Path top) throws Exception {
        Path slice = top.resolve("rbee.slice"), group = slice.resolve("llm");
        Files.createDirectories(group);
        Files.writeString(top.resolve("cgroup.controllers"), "cpu io memory pids hugetlb\n");
        Files.writeString(top.resolve("cgroup.subtree_control"), "memory pids\n"); // the parent's: not ours
        Files.writeString(slice.resolve("cgroup.controllers"), "memory pids\n");
        Files.writeString(slice.resolve("cgroup.subtree_control"), "");
        Files.writeString(group.resolve("cgroup.controllers"), "memory\n");         // only memory offered below
        Files.writeString(group.resolve("cgroup.subtree_control"), "");
        new CgroupTree(slice).enableControllers(Limits.NONE, List.of(slice, group));
        // A regular file shows the last write at offset 0 over older bytes ("+memory", then "+pids").
        assertEquals("+pids\n", Files.readString(slice.resolve("cgroup.subtree_control")).substring(0, 5) + "\n");
        assertEquals("+memory", Files.readString(group.resolve("cgroup.subtree_control")));
        assertEquals("memory pids\n", Files.readString(top.resolve("cgroup.subtree_control")), "the parent is never written");
    }

    /** A limit whose controller the parent of rbee.slice does not offer fails, naming the file we may not write. */
    @Test
    void limitWithoutDelegatedControllerFailsNamingTheParent(@TempDir Path top) throws Exception {
        Path slice = top.resolve("rbee.slice"), group = slice.resolve("llm");
        Files.createDirectories(group);
        Files.writeString(top.resolve("cgroup.subtree_control"), "memory\n");
        Files.writeString(slice.resolve("cgroup.controllers"), "memory\n");
        Files.writeString(slice.resolve("cgroup.subtree_control"), "");
        Files.writeString(group.resolve("cgroup.controllers"), "");
        Files.writeString(group.resolve("cgroup.subtree_control"), "");
        var e = org.junit.jupiter.api.Assertions.assertThrows(dev.rbee.hive.monitor.model.SpawnException.class, () ->
                new CgroupTree(slice).enableControllers(Limits.builder().pidsMax(10).build(), List.of(slice, group)));
        assertTrue(e.getMessage().contains("pids.max=\"10\""), e.getMessage());
        assertTrue(e.getMessage().contains(top.resolve("cgroup.subtree_control") + ", which is not ours to write"), e.getMessage());
        assertEquals("memory\n", Files.readString(top.resolve("cgroup.subtree_control")));
    }
}
