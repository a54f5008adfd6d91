package dev.rbee.hive.monitor.stats;

import dev.rbee.hive.monitor.cgroup.CgroupTree;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * The collector's discovery lists the tree only after inotify saw a mkdir or
 * rmdir in it: every change is seen at the next round (new groups included),
 * and a round without change allocates nothing.
 */
class WatchedDiscoveryTest {
    final Path root = TestEnv.cgroupMount().resolve(TestEnv.uniqueGroup("watch"));

    @AfterEach
    void cleanup() {
        TestEnv.destroyTree(root);
    }

    @Test
    void everyChangeIsSeenAtTheNextRoundAndNoChangeCostsNothing() throws Exception {
        try (Discovery d = Discovery.leaves(new CgroupTree(root))) {
            assertEquals(List.of(), names(d.find()), "no root yet");
            Files.createDirectories(root.resolve("g1/a"));
            assertEquals(List.of("g1/a"), names(d.find()), "root, group and leaf made between two rounds");
            Files.createDirectory(root.resolve("g1/b"));
            Files.createDirectories(root.resolve("g2/c"));
            assertEquals(List.of("g1/a", "g1/b", "g2/c"), names(d.find()));
            Files.delete(root.resolve("g1/a"));
            assertEquals(List.of("g1/b", "g2/c"), names(d.find()));

            List<Discovery.Found> last = d.find();
            assertSame(last, d.find(), "no change: the same list");
            var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long id = Thread.currentThread().threadId();
            for (int i = 0; i < 20_000; i++) d.find(); // warm up: the JIT's first compilations allocate
            long before = threads.getThreadAllocatedBytes(id);
            for (int i = 0; i < 10_000; i++) d.find();
            long bytes = threads.getThreadAllocatedBytes(id) - before;
            // A few stray bytes (the JIT, the bean itself), not one object (16 B or more) per round.
            org.junit.jupiter.api.Assertions.assertTrue(bytes < 10_000, bytes + " bytes allocated by 10 000 rounds without change");
        }
    }

    private static List<String> names(List<Discovery.Found> found) {
        return found.stream().map(f -> f.group() + "/" + f.instance()).toList();
    }
}
