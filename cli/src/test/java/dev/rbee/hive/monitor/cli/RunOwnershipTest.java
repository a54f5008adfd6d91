package dev.rbee.hive.monitor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rbee.hive.monitor.spawn.RuntimeDir;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** rbee-mon run as a user meets the identity rules: one owner per id, crash leftovers, arguments checked first. */
class RunOwnershipTest {
    final String group = TestEnv.uniqueGroup("own");
    final Path groupDir = TestEnv.cgroupMount().resolve("rbee.slice").resolve(group);

    @AfterEach
    void cleanup() {
        TestEnv.destroyTree(groupDir);
    }

    /** Before: both joined one leaf, and the first to end SIGKILLed the other's worker. */
    @Test
    void twoRunsWithOneIdOneRunsTheOtherIsBusy() throws Exception {
        CompletableFuture<Cli.Result> a = CompletableFuture.supplyAsync(() -> run("run", "--group", group, "--instance", "1",
                "--quiet", "--json", "--", "/bin/sleep", "3"), r -> Thread.ofPlatform().start(r));
        CompletableFuture<Cli.Result> b = CompletableFuture.supplyAsync(() -> run("run", "--group", group, "--instance", "1",
                "--quiet", "--json", "--", "/bin/sleep", "3"), r -> Thread.ofPlatform().start(r));
        List<Cli.Result> both = List.of(a.get(60, TimeUnit.SECONDS), b.get(60, TimeUnit.SECONDS));
        Cli.Result winner = both.stream().filter(r -> r.exit() == 0).findFirst().orElseThrow(() -> new AssertionError(both.toString()));
        Cli.Result loser = both.stream().filter(r -> r != winner).findFirst().orElseThrow();
        assertEquals(125, loser.exit(), loser.err());
        assertTrue(loser.err().contains("busy"), loser.err());
        assertTrue(loser.err().contains("owned by pid "), "names the owner: " + loser.err());
        JsonNode report = new ObjectMapper().readTree(winner.err().lines().filter(l -> l.startsWith("{")).findFirst().orElseThrow());
        assertEquals(0, report.get("exit_code").asInt(), "the winner's worker ran to its end, never killed by the loser");
        assertFalse(report.get("killed_by_stop").asBoolean());
        assertFalse(Files.exists(groupDir));
    }

    /** Before: a SIGKILLed run left its leaf and its socket file forever. */
    @Test
    void sigkilledRunLeavesWhatCleanupRemoves() throws Exception {
        Process run = Cli.start("run", "--group", group, "--instance", "k", "--quiet", "--", "/bin/sleep", "1");
        Path leaf = groupDir.resolve("k");
        for (int i = 0; i < 1000 && TestEnv.read(leaf.resolve("cgroup.procs")).orElse("").isBlank(); i++) Thread.sleep(10);
        assertFalse(TestEnv.read(leaf.resolve("cgroup.procs")).orElse("").isBlank(), "the worker runs");
        run.destroyForcibly(); // SIGKILL: no cleanup of any kind
        run.waitFor();
        for (int i = 0; i < 500 && !TestEnv.read(leaf.resolve("cgroup.events")).orElse("").contains("populated 0"); i++)
            Thread.sleep(10);
        assertTrue(Files.isDirectory(leaf), "the crash left the leaf");
        Cli.Result r = Cli.run("cleanup");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("removed " + leaf + "\n"), r.out());
        assertTrue(r.out().contains("removed " + groupDir + "\n"), r.out());
        assertFalse(Files.exists(groupDir));
        try (Stream<Path> s = Files.list(RuntimeDir.get())) {
            assertEquals(List.of(), s.filter(p -> p.getFileName().toString().endsWith(".sock")).toList());
        }
        assertEquals("nothing to remove", Cli.run("cleanup").out().lines().filter(l -> l.contains(group) || l.startsWith("nothing"))
                .findFirst().orElse("nothing to remove"));
    }

    /** Before: --interval was checked after the spawn (the worker was orphaned), NaNs meant SIGKILL at once. */
    @Test
    void badArgumentsLeaveNothingSpawned(@TempDir Path tmp) throws Exception {
        Path marker = tmp.resolve("ran");
        String[][] bad = {
                {"--interval", "1ms"}, {"--interval", "0"}, {"--interval", "x"}, {"--grace", "NaNs"},
                {"--grace", "-1s"}, {"--grace", "99999999999s"}, {"--grace", "1e3s"}, {"--pids-max", "lots"},
        };
        for (String[] opt : bad) {
            Cli.Result r = Cli.run("run", "--group", group, "--instance", "1", opt[0], opt[1], "--", "/bin/touch", marker.toString());
            assertEquals(2, r.exit(), String.join(" ", opt) + ": " + r.err());
            assertTrue(r.err().contains(opt[0]) || r.err().contains(opt[0].substring(2)), "names the option: " + r.err());
            assertFalse(Files.exists(marker), "nothing ran for " + String.join(" ", opt));
            assertFalse(Files.exists(groupDir), "no cgroup made for " + String.join(" ", opt));
        }
        Cli.Result badName = Cli.run("run", "--group", group, "--instance", "cgroup.procs", "--", "/bin/true");
        assertEquals(2, badName.exit());
        assertTrue(badName.err().contains("cgroup interface files"), badName.err());
    }

    /** POSIX: the first operand ends the options; what follows is the program's, even if it looks like ours. */
    @Test
    void wordsAfterTheProgramBelongToIt() throws Exception {
        Cli.Result r = Cli.run("run", "--group", group, "--instance", "1", "--quiet", "/bin/echo", "--interval", "1ms");
        assertEquals(0, r.exit(), r.err());
        assertEquals("--interval 1ms\n", r.out());
    }

    /** SIGHUP (the terminal went away) stops the worker gracefully, like SIGTERM. */
    @Test
    void sighupStopsTheWorkerGracefully() throws Exception {
        Process p = Cli.start("run", "--group", group, "--instance", "1", "--quiet", "--json", "--",
                "/bin/sh", "-c", "trap 'echo got-term; exit 0' TERM; echo started; while :; do sleep 0.05; done");
        assertEquals("started\n", new String(p.getInputStream().readNBytes(8), StandardCharsets.UTF_8));
        assertEquals(0, new ProcessBuilder("kill", "-HUP", Long.toString(p.pid())).start().waitFor());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertTrue(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).contains("got-term"));
        assertEquals(0, p.exitValue());
        assertFalse(Files.exists(groupDir));
    }

    private static Cli.Result run(String... args) {
        try {
            return Cli.run(args);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
