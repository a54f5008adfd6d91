package dev.rbee.hive.monitor.cli;

import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunCommandTest {
    final String group = TestEnv.uniqueGroup("cli");
    final Path slice = TestEnv.cgroupMount().resolve("rbee.slice");

    @AfterEach
    void cleanup() {
        TestEnv.destroyTree(slice.resolve(group));
    }

    @Test
    void workerSeesItsLeafAndExitStatusPassesThrough() throws Exception {
        Cli.Result r = Cli.run("run", "--group", group, "--instance", "1", "--quiet", "--", "/bin/sh", "-c",
                "grep ^0:: /proc/self/cgroup; exit 7");
        assertEquals(7, r.exit(), r.err());
        assertTrue(r.out().strip().endsWith("rbee.slice/" + group + "/1"), r.out());
    }

    @Test
    void killedBySignalExitsWith128PlusN() throws Exception {
        Cli.Result r = Cli.run("run", "--group", group, "--instance", "1", "--quiet", "--", "/bin/sh", "-c", "kill -TERM $$");
        assertEquals(128 + 15, r.exit(), r.err());
    }

    @Test
    void badArgumentsExit2NamingTheArgument() throws Exception {
        Cli.Result r = Cli.run("run", "--group", group, "--instance", "1", "--memory-max", "lots", "--", "/bin/true");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("invalid size \"lots\""), r.err());
        r = Cli.run("run", "--group", group, "--instance", "1", "--bogus", "--", "/bin/true");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--bogus"), r.err());
        r = Cli.run("run", "--group", group, "--", "/bin/true");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--instance"), r.err());
    }

    @Test
    void badNamesExit2BeforeTouchingTheTree() throws Exception {
        Cli.Result r = Cli.run("run", "--group", "../etc", "--instance", "1", "--", "/bin/true");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("invalid group \"../etc\""), r.err());
        assertFalse(Files.exists(slice.resolve("../etc")) && Files.exists(slice.resolve("../etc/1")));
    }

    @Test
    void launchFailureNamesStepAndErrno() throws Exception {
        Cli.Result r = Cli.run("run", "--group", group, "--instance", "1", "--", "/nonexistent/worker");
        assertEquals(127, r.exit());
        assertTrue(r.err().contains("cannot exec \"/nonexistent/worker\": ENOENT [step exec]"), r.err());
        assertFalse(Files.exists(slice.resolve(group)), "no cgroup left behind");
    }

    /** --output journal where journald is absent (this host): a launch failure naming the socket, nothing left. */
    @Test
    void journalOutputWithoutJournaldFailsClearly() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeFalse(Files.exists(Path.of("/run/systemd/journal/stdout")),
                "journald runs here: the systemd VM suite checks --output journal");
        Cli.Result r = Cli.run("run", "--group", group, "--instance", "1", "--quiet", "--output", "journal", "--", "/bin/true");
        assertEquals(125, r.exit(), r.err());
        assertTrue(r.err().contains("/run/systemd/journal/stdout") && r.err().contains("ENOENT"), r.err());
        assertFalse(Files.exists(slice.resolve(group)), "no cgroup left behind");
        Cli.Result bad = Cli.run("run", "--group", group, "--instance", "1", "--output", "syslog", "--", "/bin/true");
        assertEquals(2, bad.exit(), bad.err());
        assertTrue(bad.err().contains("--output: expected inherit or journal"), bad.err());
    }
}
