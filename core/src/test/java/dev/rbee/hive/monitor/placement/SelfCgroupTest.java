package dev.rbee.hive.monitor.placement;

import dev.rbee.hive.monitor.systemd.SelfCgroup;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** /proc/PID/cgroup as hybrid, pure-v2 and namespaced hosts write it. */
class SelfCgroupTest {
    @Test
    void findsTheV2LineAmongV1Ones() {
        assertEquals(Optional.of("/system.slice/hive.service"), SelfCgroup.parse(
                "12:pids:/system.slice/hive.service\n1:name=systemd:/system.slice/hive.service\n0::/system.slice/hive.service\n"));
        assertEquals(Optional.of("/"), SelfCgroup.parse("0::/\n"));
        assertEquals(Optional.of("/user.slice/user-1000.slice/user@1000.service/app.slice/x.service"),
                SelfCgroup.parse("0::/user.slice/user-1000.slice/user@1000.service/app.slice/x.service\n"));
    }

    @Test
    void noV2LineOrOutsideTheNamespaceIsEmpty() {
        assertEquals(Optional.empty(), SelfCgroup.parse("4:memory:/x\n1:cpu:/\n"));
        assertEquals(Optional.empty(), SelfCgroup.parse("0::/../../system.slice/other.service\n"));
        assertEquals(Optional.empty(), SelfCgroup.parse(""));
    }

    @Test
    void thisProcessIsInAnExistingCgroup() throws Exception {
        Path mount = dev.rbee.hive.monitor.testing.TestEnv.cgroupMount();
        Path self = SelfCgroup.of(mount).orElseThrow();
        assertTrue(Files.isRegularFile(self.resolve("cgroup.procs")), self.toString());
        assertTrue(Files.readString(self.resolve("cgroup.procs")).lines()
                .anyMatch(l -> l.equals(Long.toString(ProcessHandle.current().pid()))), self + " lists this JVM");
    }
}
