package dev.rbee.hive.monitor.vm.systemd;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The systemd guest itself, before any test of the monitor relies on it:
 * systemd is PID 1 and owns the tree, this JVM runs in a unit, transient
 * units with Delegate=yes get their cgroup, journald takes lines, and strace
 * (which NoForeignWriteVmTest drives) runs.
 */
@Tag("systemd")
class SystemdGuestVmTest {
    @BeforeAll
    static void guest() {
        SdEnv.requireGuest();
    }

    @Test
    void systemdOwnsTheTreeAndThisJvmRunsInAService() {
        assertEquals("0::/system.slice/rbee-vm-test.service", SdEnv.procCgroup(ProcessHandle.current().pid()));
        String mounts = SdEnv.read(Path.of("/proc/self/mountinfo"));
        assertTrue(mounts.lines().anyMatch(l -> l.contains(" /sys/fs/cgroup ") && l.contains(" - cgroup2 ")),
                "systemd mounted cgroup2 at /sys/fs/cgroup:\n" + mounts);
        // a oneshot service is "activating" until its ExecStart ends
        assertEquals("activating", SdEnv.sh("systemctl", "show", "-P", "ActiveState", "rbee-vm-test.service").out().strip());
    }

    @Test
    void aDelegatedTransientScopeGetsItsOwnCgroup() {
        SdEnv.Result r = SdEnv.sh("systemd-run", "--scope", "--quiet", "-p", "Delegate=yes", "--slice=sdprobe.slice",
                "--unit=sdprobe-scope", "/bin/sh", "-c", "cat /proc/self/cgroup; cat /sys/fs/cgroup/sdprobe.slice/sdprobe-scope.scope/cgroup.controllers").ok();
        String[] lines = r.out().strip().split("\n");
        assertEquals("0::/sdprobe.slice/sdprobe-scope.scope", lines[0]);
        assertTrue(lines[1].contains("pids"), "the delegated scope offers pids: " + lines[1]);
        SdEnv.await(Duration.ofSeconds(20), "the scope is gone", () -> !Files.exists(SdEnv.CGROUP.resolve("sdprobe.slice/sdprobe-scope.scope")));
    }

    @Test
    void journaldTakesLinesByIdentifier() {
        String line = "sdprobe-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        SdEnv.sh("systemd-cat", "-t", "rbee-sdprobe", "echo", line).ok();
        SdEnv.await(Duration.ofSeconds(20), "journalctl -t rbee-sdprobe shows " + line,
                () -> SdEnv.sh("journalctl", "-q", "--no-pager", "-o", "cat", "-t", "rbee-sdprobe").out().contains(line));
    }

    @Test
    void straceRuns() {
        SdEnv.sh("strace", "-qq", "-e", "trace=openat", "-o", "/dev/null", "/bin/true").ok();
    }
}
