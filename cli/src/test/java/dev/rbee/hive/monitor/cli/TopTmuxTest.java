package dev.rbee.hive.monitor.cli;

import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * rbee-mon top on a real terminal: tmux runs it in a detached session, the
 * test reads the screen (capture-pane) and presses keys (send-keys).
 * Skipped, loudly, where tmux is not installed.
 */
class TopTmuxTest {
    final String group = TestEnv.uniqueGroup("top");
    final String socket = "rbee-top-test-" + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffffL);
    Worker worker;
    Path dir;

    @BeforeEach
    void setUp() throws Exception {
        String why = tmuxMissing();
        if (why != null) {
            System.err.println("\n*** SKIPPED TopTmuxTest: " + why
                    + " -- install it (apt-get install tmux) to test rbee-mon top on a terminal ***\n");
            assumeTrue(false, "tmux is not available: " + why);
        }
        worker = TestEnv.monitor().spawn(WorkerSpec.command("/bin/sleep", "600").withMonitoring(group, "8080").build());
        dir = Files.createTempDirectory("rbee-top-test");
    }

    @AfterEach
    void tearDown() throws Exception {
        if (dir != null) tmux("kill-server");
        if (worker != null && worker.isAlive()) worker.stop(Duration.ofSeconds(1));
        TestEnv.destroyTree(TestEnv.cgroupMount().resolve("rbee.slice").resolve(group));
    }

    @Test
    void liveTableSortKeysAndQuitRestoreTheTerminal() throws Exception {
        startTop();
        String screen = waitForScreen(s -> s.contains(group + "/8080 "), "the worker row");
        List<String> lines = screen.lines().toList();
        assertTrue(lines.get(0).startsWith("rbee-mon top - "), screen);
        assertTrue(lines.get(0).contains("sort: cpu") && lines.get(0).contains("q quit"), screen);
        assertTrue(lines.get(1).startsWith("node: cpu "), screen);
        String header = lines.stream().filter(l -> l.startsWith("WORKER ")).findFirst().orElseThrow(() -> new AssertionError(screen));
        for (String col : TopTable.COLUMNS) assertTrue(header.contains(col), col + " in " + header);
        String row = lines.stream().filter(l -> l.startsWith(group + "/8080 ")).findFirst().orElseThrow();
        String[] cells = row.trim().split("\\s+");
        assertEquals(13, cells.length, row);
        assertEquals("1", cells[1], row);
        assertEquals("-", cells[10], "VRAM absent (no GPU), not 0: " + row);
        // The column header is drawn in reverse video.
        String escaped = tmux("capture-pane", "-p", "-e", "-t", "top");
        assertTrue(escaped.lines().anyMatch(l -> l.contains("\033[7mWORKER")), escaped);

        tmux("send-keys", "-t", "top", "m");
        waitForScreen(s -> s.lines().findFirst().orElse("").contains("sort: memory"), "sort: memory after m");
        tmux("send-keys", "-t", "top", "n");
        waitForScreen(s -> s.lines().findFirst().orElse("").contains("sort: name"), "sort: name after n");
        tmux("send-keys", "-t", "top", "q");
        waitFor(dir.resolve("exit"), "rbee-mon to quit on q");
        assertEquals("0", Files.readString(dir.resolve("exit")).strip());
        assertRestored();
        String after = tmux("capture-pane", "-p", "-t", "top");
        assertFalse(after.contains("WORKER"), "the alternate screen is gone after quitting: " + after);
        assertTrue(after.contains("top-ended"), after);
    }

    @Test
    void ctrlCAlsoRestoresTheTerminal() throws Exception {
        startTop();
        waitForScreen(s -> s.contains(group + "/8080 "), "the worker row");
        tmux("send-keys", "-t", "top", "C-c");
        waitFor(dir.resolve("exit"), "rbee-mon to end on Ctrl-C");
        assertEquals("130", Files.readString(dir.resolve("exit")).strip());
        assertRestored();
        assertFalse(tmux("capture-pane", "-p", "-t", "top").contains("WORKER"));
    }

    /** The stty settings after rbee-mon are the ones before it, and are canonical mode with echo. */
    private void assertRestored() throws IOException {
        String before = Files.readString(dir.resolve("before")).strip(), after = Files.readString(dir.resolve("after")).strip();
        assertFalse(before.isEmpty());
        assertEquals(before, after, "stty -g before and after rbee-mon top");
        List<String> words = List.of(Files.readString(dir.resolve("after-a")).split("[\\s;]+"));
        assertTrue(words.contains("icanon") && words.contains("echo"), "canonical mode and echo back: " + words);
    }

    private void startTop() throws Exception {
        List<String> java = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), RbeeMon.class.getName(),
                "top", "--interval", "300ms", "--group", group));
        StringBuilder cmd = new StringBuilder();
        for (String a : java) cmd.append(quote(a)).append(' ');
        // The script survives Ctrl-C (a trap, not an ignored signal, so the JVM still gets SIGINT).
        String script = "trap ':' INT\n"
                + "cd " + quote(dir.toString()) + "\n"
                + "stty -g > before\n"
                + cmd + "\n"
                + "echo $? > exit.tmp\n"
                + "stty -g > after\n"
                + "stty -a > after-a\n"
                + "mv exit.tmp exit\n"
                + "echo top-ended\n"
                + "exec sleep 600\n";
        Files.writeString(dir.resolve("run.sh"), script);
        tmux("-f", "/dev/null", "new-session", "-d", "-s", "top", "-x", "190", "-y", "40", "sh " + quote(dir.resolve("run.sh").toString()));
    }

    private String waitForScreen(Predicate<String> ok, String what) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        String screen = "";
        while (System.nanoTime() < end) {
            screen = tmux("capture-pane", "-p", "-t", "top");
            if (ok.test(screen)) return screen;
            Thread.sleep(100);
        }
        throw new AssertionError("timed out waiting for " + what + "; the screen:\n" + screen);
    }

    private void waitFor(Path file, String what) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!Files.exists(file)) {
            if (System.nanoTime() > end)
                throw new AssertionError("timed out waiting for " + what + "; the screen:\n" + tmux("capture-pane", "-p", "-t", "top"));
            Thread.sleep(50);
        }
    }

    private String tmux(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("tmux", "-L", socket));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("tmux " + String.join(" ", args) + " hung");
        }
        if (p.exitValue() != 0 && !args[0].equals("kill-server"))
            throw new AssertionError("tmux " + String.join(" ", args) + " failed: " + out);
        return out;
    }

    private static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    /** Null if tmux runs here, else why not. */
    static String tmuxMissing() {
        try {
            Process p = new ProcessBuilder("tmux", "-V").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0 ? null : "tmux -V failed";
        } catch (IOException | InterruptedException e) {
            return "tmux is not installed (" + e.getMessage() + ")";
        }
    }
}
