package dev.rbee.hive.monitor.vm.systemd;

import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.Placement;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static dev.rbee.hive.monitor.vm.systemd.SdEnv.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The figures of issue 14's closing note, measured in the systemd guest and
 * printed ("figures: ..." lines in the console log), never asserted: the spawn
 * cost per placement against ProcessBuilder in the same JVM (systemd, as root;
 * root, under a directory of its own; delegated,
 * as uid 65534 in a Delegate=yes service), and the time a fresh monitor takes to
 * list the 100 workers a SIGKILLed supervisor left.  What it asserts is only
 * that the measured thing happened (100 survivors found and stopped).
 * Opt-in (tag systemd-figures; spawns under TCG cost up to a second each):
 * make vm-test-systemd VM_TAG=systemd-figures.
 */
@Tag("systemd-figures")
class SystemdFiguresVmTest {
    static final int SPAWNS = Integer.getInteger("rbee.figures.spawns", 20);
    static final int ADOPT = Integer.getInteger("rbee.figures.adopt", 100);

    @BeforeAll
    static void guest() {
        requireGuest();
    }

    @Test
    void spawnCostPerPlacement() throws Exception {
        try (ProcessMonitor m = ProcessMonitor.builder().placement(Placement.Kind.SYSTEMD).launcher(TestEnv.launcher()).build()) {
            System.out.println("figures: spawn " + SpawnCost.measure("systemd placement (" + m.backend() + ")", m, "sdfig", SPAWNS));
        } finally {
            destroy(HIVE.resolve("sdfig"));
        }
        Path root = CGROUP.resolve("sdfig-root");
        try (ProcessMonitor m = ProcessMonitor.builder().placement(Placement.Kind.ROOT).root(root).launcher(TestEnv.launcher()).build()) {
            System.out.println("figures: spawn " + SpawnCost.measure("root placement under " + root, m, "sdfig", SPAWNS));
        } finally {
            destroy(root);
        }
    }

    @Test
    void delegatedSpawnCost() {
        String cp = property("rbee.vm.unprivileged.classpath") + ":" + property("rbee.vm.unprivileged.lib");
        Result r = sh(Duration.ofSeconds(300), "systemd-run", "--unit=sdfig-delegated", "--uid=65534", "--gid=65534",
                "-p", "Delegate=yes", "--wait", "--pipe", "--quiet", "--collect", property("rbee.vm.java"),
                "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.io.tmpdir=/tmp",
                "-cp", cp, FiguresMain.class.getName(), property("rbee.vm.unprivileged.launcher"), Integer.toString(SPAWNS));
        stopUnit("sdfig-delegated");
        System.out.println(r.out().strip());
        r.ok();
        assertTrue(r.out().contains("figures: spawn"), r.toString());
    }

    @Test
    void aFreshMonitorAdoptsTheHundredWorkersOfAKilledSupervisor() throws Exception {
        String g = "sdadopt";
        Process sup = new ProcessBuilder(property("rbee.vm.java"), "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-cp", TestEnv.classPath(), AdoptSpawnMain.class.getName(),
                TestEnv.launcher().toString(), g, Integer.toString(ADOPT)).redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(sup.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = out.readLine()) != null && !line.startsWith("ready")) System.out.println("adopt-main: " + line);
            assertTrue(line != null, "the supervisor spawned its workers");
            System.out.println("figures: supervisor " + line);
            sup.destroyForcibly().waitFor();

            long t0 = System.nanoTime();
            try (ProcessMonitor fresh = ProcessMonitor.builder().launcher(TestEnv.launcher()).build()) {
                long t1 = System.nanoTime();
                List<Worker> ws = fresh.workers().stream()
                        .filter(w -> w.monitoring().map(c -> c.group().equals(g)).orElse(false)).toList();
                long t2 = System.nanoTime();
                System.out.printf("figures: adopt: a fresh monitor built in %.1f ms, workers() listed %d survivors of a SIGKILLed supervisor in %.1f ms%n",
                        (t1 - t0) / 1e6, ws.size(), (t2 - t1) / 1e6);
                assertEquals(ADOPT, ws.size());
                long t3 = System.nanoTime();
                for (Worker w : ws) w.stop(Duration.ofSeconds(5));
                System.out.printf("figures: adopt: stopping the %d adopted workers took %.1f ms%n", ws.size(), (System.nanoTime() - t3) / 1e6);
            }
            assertEquals(List.of(), cgroupsBelow(HIVE.resolve(g)).stream().filter(d -> d.getParent().endsWith(g)).toList(),
                    "no leaf left");
        } finally {
            sup.destroyForcibly();
            destroy(HIVE.resolve(g));
        }
        assertTrue(!Files.exists(HIVE.resolve(g)) || cgroupsBelow(HIVE.resolve(g)).size() == 1);
    }
}
