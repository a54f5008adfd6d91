package dev.rbee.hive.monitor.stats;

import dev.rbee.hive.monitor.model.ProcessStats;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Files that appear after a worker's reader was made (a controller enabled
 * later) and sub-cgroups the worker makes are picked up by the collector's
 * periodic refresh, on a real pure-v2 leaf captured from the VM.
 */
class LateFilesTest {
    @Test
    void collectorPicksUpLateControllerFilesAndSubCgroups(@TempDir Path tmp) throws Exception {
        Path leaf = Fixtures.copy(tmp.resolve("g").resolve("i"), "vm-pure-v2");
        Path memoryStat = leaf.resolve("memory.stat"), saved = tmp.resolve("memory.stat");
        Files.move(memoryStat, saved); // the memory controller is not on yet
        Discovery one = () -> List.of(new Discovery.Found("g", "i", leaf, () -> new CgroupReader(leaf)));
        try (StatsCollector c = new StatsCollector(one, 1, Optional.empty())) {
            ProcessStats first = c.collect(f -> true).get(0);
            assertTrue(first.rssMb().isEmpty(), "no memory.stat yet: rss absent");
            int pidsBefore = first.pids().size();

            Files.move(saved, memoryStat); // enabled now
            Path sub = Files.createDirectory(leaf.resolve("inner"));
            Files.writeString(sub.resolve("cgroup.procs"), "4242\n");
            Files.writeString(leaf.resolve("cgroup.stat"), "nr_descendants 1\nnr_dying_descendants 0\n"); // as the kernel counts it
            boolean rss = false, subPid = false;
            for (int round = 0; round < StatsCollector.REFRESH_EVERY + 1; round++) {
                ProcessStats s = c.collect(f -> true).get(0);
                rss = s.rssMb().isPresent();
                subPid = s.pids().contains(4242L) && s.pids().size() == pidsBefore + 1;
            }
            assertTrue(rss, "memory.stat found by the refresh");
            assertTrue(subPid, "the sub-cgroup's pid counts as the worker's");
            Files.delete(sub.resolve("cgroup.procs"));
            assertFalse(c.collect(f -> true).isEmpty(), "a sub-cgroup gone between refreshes is no error");
            assertEquals(List.of(), c.errors());
        }
    }
}
