package dev.rbee.hive.monitor.cgroup;

import org.junit.jupiter.api.Test;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** /proc/self/mountinfo fixtures: this host (hybrid), pure v2, none, two mounts, escaped names. */
class CgroupMountTest {
    static Path fixture(String name) {
        try {
            return Path.of(CgroupMountTest.class.getResource("/fixtures/mountinfo/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void hybridHost() throws Exception {
        assertEquals(Optional.of(new CgroupMount(Path.of("/sys/fs/cgroup/unified"), "/")),
                CgroupMount.find(fixture("hybrid-host.txt")));
    }

    @Test
    void pureV2() throws Exception {
        assertEquals(Optional.of(new CgroupMount(Path.of("/sys/fs/cgroup"), "/")), CgroupMount.find(fixture("pure-v2.txt")));
    }

    @Test
    void none() throws Exception {
        assertTrue(CgroupMount.find(fixture("no-cgroup2.txt")).isEmpty());
    }

    @Test
    void mountedTwicePrefersTheFirstFullView() throws Exception {
        // The first line shows only a sub-tree (root /system.slice/app.service): the first "/" root wins.
        assertEquals(Path.of("/mnt/cg2"), CgroupMount.find(fixture("twice.txt")).orElseThrow().mountPoint());
        assertEquals(3, CgroupMount.parse(java.nio.file.Files.readAllLines(fixture("twice.txt"))).size());
    }

    @Test
    void escapedSpaceTabBackslash() throws Exception {
        assertEquals(Path.of("/mnt/my cgroup\tdir\\x"), CgroupMount.find(fixture("escaped.txt")).orElseThrow().mountPoint());
    }

    @Test
    void liveHostHasOne() throws Exception {
        assertTrue(CgroupMount.find(CgroupMount.MOUNTINFO).isPresent(), "every machine of this project has a cgroup2 mount");
    }
}
