package dev.rbee.hive.monitor.vm;

import dev.rbee.hive.monitor.model.ExitReport;
import dev.rbee.hive.monitor.model.Output;
import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Delegation as systemd does it (Delegate=yes): root gives an unprivileged
 * user a subtree by chown of its directory and of its cgroup.procs,
 * cgroup.subtree_control and cgroup.threads, and starts the user's supervisor
 * inside it.  That supervisor (a JVM running {@link DelegatedSpawnMain} as
 * uid 65534) can then spawn workers with limits in the subtree, but cannot
 * move a worker into a cgroup outside it, even into one whose files it owns:
 * the kernel wants write access to cgroup.procs of the common ancestor.
 */
@Tag("vm")
class DelegationVmTest {
    static final int UID = 65534; // nobody
    final Path delegated = VmEnv.newRoot("deleg");
    final Path other = VmEnv.newRoot("deleg-other");

    @BeforeAll
    static void guest() {
        VmEnv.requireGuest();
    }

    @AfterEach
    void cleanup() {
        VmEnv.destroy(delegated);
        VmEnv.destroy(other);
    }

    /** What systemd does for a delegated unit: the directory and the three files the delegatee needs. */
    static void delegate(Path dir, int uid) throws Exception {
        Files.createDirectory(dir);
        for (Path p : new Path[] {dir, dir.resolve("cgroup.procs"), dir.resolve("cgroup.subtree_control"),
                dir.resolve("cgroup.threads")}) {
            Files.setAttribute(p, "unix:uid", uid);
            Files.setAttribute(p, "unix:gid", uid);
        }
    }

    @Test
    void unprivilegedUserSpawnsInsideItsSubtreeAndCannotWriteOutside() throws Exception {
        delegate(delegated, UID);
        delegate(other, UID);
        Path log = Files.createTempFile("delegated", ".log");
        // The user's supervisor runs inside its subtree (in delegated/sup/jvm), started by root through the
        // library like any worker; setpriv then drops to the user before the JVM starts.
        ProcessMonitor rootMonitor = VmEnv.monitor(delegated);
        Worker jvm = rootMonitor.spawn(WorkerSpec.command(
                        "/usr/bin/setpriv", "--reuid=" + UID, "--regid=" + UID, "--clear-groups", "--",
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
                        "-Djava.io.tmpdir=/tmp",
                        "-cp", VmEnv.property("rbee.vm.unprivileged.classpath"),
                        DelegatedSpawnMain.class.getName(),
                        delegated.toString(), other.toString(),
                        VmEnv.property("rbee.vm.unprivileged.launcher"),
                        VmEnv.property("rbee.vm.unprivileged.helper"))
                .clearEnvironment().env("PATH", "/usr/bin:/bin").env("LANG", "C.UTF-8")
                .withMonitoring("sup", "jvm").output(Output.appendTo(log)).build());
        ExitReport r = jvm.onExit().get(180, TimeUnit.SECONDS);
        String out = Files.readString(log);
        System.out.println("delegation: supervisor JVM as uid " + UID + ": " + r.summary() + "\n" + out.strip());
        assertEquals(0, r.status().orElseThrow().code().orElse(-1), "the delegated supervisor ran to the end:\n" + out);
        Map<String, String> res = results(out);

        assertEquals(Integer.toString(UID), res.get("uid"), "the supervisor ran unprivileged");
        // Inside: a worker with a limit, born in the delegated subtree.
        Path leaf = delegated.resolve("rbee.slice/g/i");
        assertEquals("CGROUP2", res.get("inside.backend"), "the user's monitor works in its cgroup subtree");
        assertEquals(VmEnv.cgroupLine(leaf), res.get("inside.cgroup"), out);
        assertEquals("8", res.get("inside.pids.max"), "the user wrote its worker's limit");
        assertEquals(Integer.toString(UID), res.get("inside.leaf.owner"), "the user made the leaf");
        assertEquals("true", res.get("inside.removed"), out);
        // Outside: the kernel refuses the move into a cgroup outside the subtree; the user's
        // directories made for it are removed again.
        assertEquals("CGROUP2", res.get("outside.backend"), "the other subtree is the user's too: the library lets it try");
        assertEquals("JOIN", res.get("outside.step"), out);
        assertEquals("EACCES", res.get("outside.errno"), out);
        assertEquals("false", res.get("outside.left"), out);
        assertFalse(Files.exists(other.resolve("rbee.slice")), "left behind in " + other);
        // The delegation root's own limit files stay root's: the user cannot raise its own limits.
        assertEquals("AccessDeniedException", res.get("root.pids.max.write"), out);
        assertEquals("max", VmEnv.read(delegated.resolve("pids.max")));
        assertTrue(r.cgroupRemoved());
    }

    private static Map<String, String> results(String out) {
        Map<String, String> m = new HashMap<>();
        for (String line : out.split("\n")) {
            if (!line.startsWith("result ")) continue;
            String kv = line.substring(7);
            int eq = kv.indexOf('=');
            m.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return m;
    }
}
