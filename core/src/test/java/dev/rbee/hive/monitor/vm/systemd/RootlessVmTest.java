package dev.rbee.hive.monitor.vm.systemd;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static dev.rbee.hive.monitor.vm.systemd.SdEnv.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 14, done-when 2: rootless.  uid 65534 (nobody) as the main process of
 * a system service with Delegate=yes (systemd-run --uid=65534 -p Delegate=yes):
 * the monitor places itself in the delegated cgroup (placement delegated),
 * spawns, limits, samples, stops and cleans up workers there, and the
 * fork-first race test shows no escape.  The unit's cgroup is gone at the end.
 */
@Tag("systemd")
class RootlessVmTest {
    static final int RACE_RUNS = Integer.getInteger("rbee.race.rootlessRuns", 40);

    @BeforeAll
    static void guest() {
        requireGuest();
    }

    /** systemd-run as uid 65534 in a Delegate=yes service, waiting for it, its output piped back. */
    private static Result delegated(String unit, String... cmd) {
        List<String> c = new java.util.ArrayList<>(List.of("systemd-run", "--unit=" + unit, "--uid=65534", "--gid=65534",
                "-p", "Delegate=yes", "--wait", "--pipe", "--quiet", "--collect"));
        c.addAll(List.of(cmd));
        try {
            return sh(Duration.ofSeconds(300), c.toArray(String[]::new));
        } finally {
            stopUnit(unit);
        }
    }

    @Test
    void theCliSpawnsAndLimitsAWorkerInsideItsDelegatedService() {
        String unit = "sdf-cli";
        Result b = delegated(unit + "-b", RBEE_MON, "backend").ok();
        assertEquals("delegated", keyValues(b.out()).get("placement"), b.toString());

        Result r = delegated(unit, RBEE_MON, "run", "--group", "rl", "--instance", "1", "--pids-max", "10", "--quiet", "--",
                "/bin/sh", "-c", "id -u; cat /proc/self/cgroup; cat /sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)/pids.max").ok();
        String[] lines = r.out().strip().split("\n");
        assertEquals("65534", lines[0], r.toString());
        assertTrue(lines[1].startsWith("0::/system.slice/" + unit + ".service/") && lines[1].endsWith("/rl/1"),
                "the worker is in a leaf rl/1 below the delegated service: " + r);
        assertEquals("10", lines[2], r.toString());
        assertFalse(Files.exists(CGROUP.resolve("system.slice/" + unit + ".service")), "the unit's cgroup is gone");
    }

    @Test
    void anUnprivilegedSupervisorSpawnsLimitsSamplesStopsAndNeverLetsAForkEscape() {
        String unit = "sdf-main";
        String cp = property("rbee.vm.unprivileged.classpath") + ":" + property("rbee.vm.unprivileged.lib");
        Result r = delegated(unit, property("rbee.vm.java"), "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-Djava.io.tmpdir=/tmp", "-Drbee.testbin=" + property("rbee.vm.unprivileged.testbin"),
                "-cp", cp, RootlessMain.class.getName(), property("rbee.vm.unprivileged.launcher"),
                property("rbee.vm.unprivileged.testbin") + "/vm-helper", Integer.toString(RACE_RUNS));
        System.out.println(r);
        r.ok();
        Map<String, String> res = new TreeMap<>();
        for (String l : r.out().split("\n"))
            if (l.startsWith("result ")) res.put(l.substring(7, l.indexOf('=')), l.substring(l.indexOf('=') + 1));
        String base = "/system.slice/" + unit + ".service";
        assertEquals("65534", res.get("uid"), res.toString());
        assertEquals(base, res.get("unit.cgroup"), res.toString());
        assertTrue(res.get("backend").toLowerCase().contains("delegated"), "placement delegated: " + res.get("backend"));
        assertTrue(res.get("self.cgroup").startsWith(base + "/"), "the supervisor moved into a leaf of its own: " + res);
        assertTrue(res.get("worker.cgroup").startsWith("0::" + base + "/") && res.get("worker.cgroup").endsWith("/rl/w"), res.toString());
        assertEquals("8", res.get("worker.pids.max"), res.toString());
        assertEquals(Long.toString(32L << 20), res.get("worker.memory.max"), res.toString());
        assertFalse(res.get("stats.pids").equals("[]"), "stats show the worker's pids: " + res);
        assertTrue(res.get("stats.rssMb").startsWith("OptionalDouble["), "stats show its memory: " + res);
        assertEquals("true", res.get("stop.removed"), res.toString());
        assertEquals("0", res.get("race.escapes"), res.toString());
        assertEquals(Integer.toString(2 * RACE_RUNS), res.get("race.lines"), res.toString());
        assertEquals("[]", res.get("left"), "nothing but the supervisor's own leaf was left: " + res);
        assertFalse(Files.exists(CGROUP.resolve(base.substring(1))), "the unit's cgroup is gone");
    }
}
