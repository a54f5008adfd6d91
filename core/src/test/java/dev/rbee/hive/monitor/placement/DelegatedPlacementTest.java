package dev.rbee.hive.monitor.placement;

import dev.rbee.hive.monitor.testing.AsUser;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The DELEGATED placement on this host's cgroup2: a subtree made as systemd makes
 * a Delegate=yes unit's (chown of the directory, cgroup.procs,
 * cgroup.subtree_control, cgroup.threads; the trusted.delegate xattr), a
 * supervisor JVM started inside it, as nobody or as root.  It must find the
 * delegation by itself, move itself into {@code .supervisor}, spawn its worker
 * below the unit's cgroup, clean up, and write nothing outside the unit.
 */
class DelegatedPlacementTest {
    static final int NOBODY = 65534;
    final Path base = TestEnv.cgroupMount().resolve("test-systemd-" + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffL));
    final Path unit = base.resolve("hive.service");

    @AfterEach
    void cleanup() throws Exception {
        if (!Files.exists(base)) return;
        List<Path> all;
        try (Stream<Path> s = Files.walk(base)) {
            all = s.filter(Files::isDirectory).sorted(Comparator.reverseOrder()).toList();
        }
        for (Path d : all) {
            if (Files.exists(d.resolve("cgroup.kill"))) Files.writeString(d.resolve("cgroup.kill"), "1");
        }
        for (Path d : all) {
            for (int i = 0; i < 100 && Files.exists(d); i++) {
                try {
                    Files.delete(d);
                } catch (java.nio.file.FileSystemException busy) {
                    Thread.sleep(20);
                }
            }
        }
    }

    /** What systemd does for a unit with Delegate=yes and User=uid. */
    void delegate(int uid, boolean xattr) throws Throwable {
        Files.createDirectory(base);
        Files.createDirectory(unit);
        for (Path p : new Path[] {unit, unit.resolve("cgroup.procs"), unit.resolve("cgroup.subtree_control"),
                unit.resolve("cgroup.threads")}) {
            Files.setAttribute(p, "unix:uid", uid);
            Files.setAttribute(p, "unix:gid", uid);
        }
        if (xattr) setxattr(unit, "trusted.delegate", "1");
    }

    @Test
    void nobodyInADelegatedUnitFindsItAndSpawnsBelowIt() throws Throwable {
        delegate(NOBODY, false);
        String before = snapshot();
        try (AsUser nobody = new AsUser(NOBODY)) {
            AsUser.Result r = nobody.run(Optional.of(unit), DelegatedMain.class, nobody.readable(TestEnv.launcher()).toString(), "auto");
            Map<String, String> res = results(r.out());
            String rel = "/" + TestEnv.cgroupMount().relativize(unit);
            assertEquals(0, r.exit(), r.out());
            assertEquals("CGROUP2", res.get("backend"), r.out());
            assertEquals("delegated", res.get("placement"), r.out());
            assertEquals(unit.toString(), res.get("root"), r.out());
            assertEquals("hive.service", res.get("unit"), r.out());
            assertEquals(rel + "/.supervisor", res.get("self"), "the supervisor moved itself into its own leaf:\n" + r.out());
            assertEquals(rel + "/g/i", res.get("worker"), r.out());
            assertEquals("false", res.get("leaf.left"), r.out());
            assertEquals("false", res.get("group.left"), r.out());
            assertTrue(res.getOrDefault("absent", "").isEmpty() || r.out().contains("not delegated to us"), r.out());
        }
        assertEquals(before, snapshot(), "nothing written outside the delegated unit");
        try (Stream<Path> s = Files.list(unit)) {
            assertEquals(List.of(unit.resolve(".supervisor")), s.filter(Files::isDirectory).toList(), "only the supervisor's leaf is left");
        }
    }

    @Test
    void rootInAUnitMarkedDelegatedFindsItByTheXattr() throws Throwable {
        delegate(0, true);
        try (AsUser root = new AsUser(0)) {
            AsUser.Result r = root.run(Optional.of(unit), DelegatedMain.class, TestEnv.launcher().toString(), "auto");
            Map<String, String> res = results(r.out());
            assertEquals("delegated", res.get("placement"), r.out());
            assertTrue(res.get("why").contains("trusted.delegate"), r.out());
            assertEquals("/" + TestEnv.cgroupMount().relativize(unit) + "/g/i", res.get("worker"), r.out());
        }
    }

    @Test
    void aCgroupNotDelegatedIsNotTakenAndAskingForItFailsSayingWhy() throws Throwable {
        delegate(0, false); // root's: nobody may not write there
        try (AsUser nobody = new AsUser(NOBODY)) {
            Path launcher = nobody.readable(TestEnv.launcher());
            AsUser.Result asked = nobody.run(Optional.of(unit), DelegatedMain.class, launcher.toString(), "DELEGATED");
            String failed = results(asked.out()).getOrDefault("failed", "");
            assertTrue(failed.contains("delegated placement was asked for but cannot work") && failed.contains("not delegated to uid "
                    + NOBODY) && failed.contains(unit.resolve("cgroup.procs").toString()), asked.out());
            AsUser.Result auto = nobody.run(Optional.of(unit), DelegatedMain.class, launcher.toString(), "auto");
            assertEquals("PROCTREE", results(auto.out()).get("backend"), auto.out());
        }
        assertTrue(!Files.exists(unit.resolve(".supervisor")), "no leaf made in a cgroup that is not ours");
    }

    /** The files of the parent and the mount that a delegatee must never write. */
    private String snapshot() throws Exception {
        StringBuilder b = new StringBuilder();
        // (the mount's cgroup.procs is left out: every process of the host comes and goes there)
        for (Path f : List.of(base.resolve("cgroup.subtree_control"), base.resolve("cgroup.procs"),
                base.resolve("cgroup.max.descendants"), TestEnv.cgroupMount().resolve("cgroup.subtree_control")))
            b.append(f).append('=').append(Files.readString(f)).append('\n');
        try (Stream<Path> s = Files.list(base)) {
            b.append(s.filter(Files::isDirectory).sorted().toList());
        }
        return b.toString();
    }

    static Map<String, String> results(String out) {
        Map<String, String> m = new HashMap<>();
        for (String line : out.split("\n")) {
            if (!line.startsWith("result ")) continue;
            String kv = line.substring(7);
            int eq = kv.indexOf('=');
            if (eq > 0) m.merge(kv.substring(0, eq), kv.substring(eq + 1), (a, c) -> a + "\n" + c);
        }
        return m;
    }

    static void setxattr(Path p, String name, String value) throws Throwable {
        Linker l = Linker.nativeLinker();
        MethodHandle h = l.downcallHandle(l.defaultLookup().find("setxattr").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocateFrom(value);
            int r = (int) h.invokeExact(a.allocateFrom(p.toString()), a.allocateFrom(name), v, (long) value.length(), 0);
            assertEquals(0, r, "setxattr " + name + " on " + p);
        }
    }
}
