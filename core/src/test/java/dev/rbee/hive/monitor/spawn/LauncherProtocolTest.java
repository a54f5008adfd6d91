package dev.rbee.hive.monitor.spawn;

import dev.rbee.hive.monitor.internal.Libc;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The status protocol (top of rbee-launch.c) of every launcher the jar carries:
 * the host's runs natively, the other architecture's under qemu user-mode
 * emulation, started explicitly as {@code qemu-ARCH-static LAUNCHER ...} (no
 * binfmt_misc needed).  qemu-user runs the launcher's own code; its execve goes
 * to the host kernel, so the target it execs is a native program.
 *
 * <p>What qemu 7.2 (Debian 12) does with the pidfd: it passes pidfd_open and
 * SCM_RIGHTS through, so the supervisor receives a real pidfd naming the
 * launcher's pid, exactly as natively.
 */
class LauncherProtocolTest {
    private static final String HOST = hostArch();
    private static Path unpacked;

    @BeforeAll
    static void unpack() throws IOException {
        unpacked = Files.createTempDirectory("rbee-proto-");
    }

    @AfterAll
    static void removeUnpacked() throws IOException {
        try (Stream<Path> s = Files.list(unpacked)) {
            for (Path p : s.toList()) Files.delete(p);
        }
        Files.delete(unpacked);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"x86_64", "aarch64"})
    void joinedLineCarriesAPidfdOfTheLauncherAndEndOfFileMeansExec(String arch) throws Exception {
        List<String> cmd = launcher(arch);
        try (StatusSocket status = StatusSocket.open()) {
            cmd.addAll(List.of("--status-socket", status.address(), "--no-cgroup", "--", "/bin/sleep", "100"));
            Process p = start(cmd);
            try {
                StatusSocket.Message m = status.await(p, 60_000);
                try {
                    assertEquals("J " + p.pid() + "\n", m.text(), "J, then end-of-file: the exec happened");
                    assertTrue(m.pidfd() >= 0, "a pidfd came with J (" + arch + ")");
                    String info = Files.readString(Path.of("/proc/self/fdinfo/" + m.pidfd()));
                    assertTrue(info.contains("Pid:\t" + p.pid() + "\n"), "the pidfd names the launcher's pid: " + info);
                    assertEquals(Path.of("/bin/sleep").toRealPath(), Path.of("/proc/" + p.pid() + "/exe").toRealPath(),
                            "the pid now runs the target, natively");
                    assertEquals(0, Libc.pidfdSendSignal(m.pidfd(), 9));
                    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
                    assertEquals(128 + 9, p.exitValue(), "the signal sent through the pidfd reached the worker");
                } finally {
                    m.closePidfd();
                }
            } finally {
                p.destroyForcibly().waitFor();
            }
        }
    }

    /** Over --status-fd that is not a socket, "J" goes alone (the documented fallback: the supervisor opens its own pidfd). */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"x86_64", "aarch64"})
    void statusFdThatIsNoSocketGetsTheLineAlone(String arch) throws Exception {
        List<String> cmd = launcher(arch);
        cmd.addAll(List.of("--status-fd", "1", "--no-cgroup", "--", "/bin/true"));
        Result r = run(cmd);
        assertEquals("J " + r.pid + "\n", r.stdout, "J on fd 1, which then closes at exec (close-on-exec)");
        assertEquals(0, r.exit, r.stderr);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"x86_64", "aarch64"})
    void execOfAMissingProgramIsEnoentAnd127(String arch) throws Exception {
        List<String> cmd = launcher(arch);
        try (StatusSocket status = StatusSocket.open()) {
            cmd.addAll(List.of("--status-socket", status.address(), "--no-cgroup", "--", "/nonexistent/rbee-worker"));
            Process p = start(cmd);
            try {
                StatusSocket.Message m = status.await(p, 60_000);
                m.closePidfd();
                assertEquals("J " + p.pid() + "\nE exec 2 ENOENT\n", m.text());
                assertTrue(p.waitFor(30, TimeUnit.SECONDS));
                assertEquals(127, p.exitValue());
            } finally {
                p.destroyForcibly().waitFor();
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"x86_64", "aarch64"})
    void badArgumentsAreEArgsAnd125(String arch) throws Exception {
        // Before the status channel exists the line goes to stderr ...
        List<String> unknown = launcher(arch);
        unknown.addAll(List.of("--no-such-option", "--no-cgroup", "--", "/bin/true"));
        Result r = run(unknown);
        assertEquals("rbee-launch: E args 22 EINVAL\n", r.stderr);
        assertEquals(125, r.exit);
        List<String> range = launcher(arch);
        range.addAll(List.of("--oom-score-adj", "5000", "--no-cgroup", "--", "/bin/true"));
        r = run(range);
        assertEquals("rbee-launch: E args 22 EINVAL\n", r.stderr);
        assertEquals(125, r.exit);
        // ... after it, over the channel: neither --cgroup nor --no-cgroup.
        List<String> neither = launcher(arch);
        try (StatusSocket status = StatusSocket.open()) {
            neither.addAll(List.of("--status-socket", status.address(), "--", "/bin/true"));
            Process p = start(neither);
            try {
                StatusSocket.Message m = status.await(p, 60_000);
                m.closePidfd();
                assertEquals("E args 22 EINVAL\n", m.text());
                assertTrue(p.waitFor(30, TimeUnit.SECONDS));
                assertEquals(125, p.exitValue());
            } finally {
                p.destroyForcibly().waitFor();
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"x86_64", "aarch64"})
    void aDirectoryOutsideCgroup2IsRefusedAndTheTargetNeverRuns(String arch) throws Exception {
        List<String> cmd = launcher(arch);
        Path dir = Files.createTempDirectory("rbee-not-cgroup-");
        Path marker = dir.resolve("ran");
        try (StatusSocket status = StatusSocket.open()) {
            cmd.addAll(List.of("--status-socket", status.address(), "--cgroup", dir.toString(),
                    "--", "/bin/sh", "-c", "echo ran > " + marker));
            Process p = start(cmd);
            try {
                StatusSocket.Message m = status.await(p, 60_000);
                m.closePidfd();
                assertEquals("E join 124 EMEDIUMTYPE\n", m.text());
                assertTrue(p.waitFor(30, TimeUnit.SECONDS));
                assertEquals(125, p.exitValue());
                assertFalse(Files.exists(marker), "the target never ran");
            } finally {
                p.destroyForcibly().waitFor();
            }
        } finally {
            Files.deleteIfExists(marker);
            Files.delete(dir);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"x86_64", "aarch64"})
    void joinsARealCgroup2LeafBeforeExec(String arch) throws Exception {
        List<String> cmd = launcher(arch);
        Path mount = TestEnv.cgroupMount();
        Path leaf = mount.resolve("rbee-test-launcher-" + arch + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16));
        Files.createDirectory(leaf);
        try (StatusSocket status = StatusSocket.open()) {
            cmd.addAll(List.of("--status-socket", status.address(), "--cgroup", leaf.toString(), "--", "/bin/cat", "/proc/self/cgroup"));
            Process p = start(cmd);
            try {
                StatusSocket.Message m = status.await(p, 60_000);
                m.closePidfd();
                assertEquals("J " + p.pid() + "\n", m.text());
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertTrue(p.waitFor(30, TimeUnit.SECONDS));
                assertEquals(0, p.exitValue());
                assertTrue(out.lines().anyMatch(l -> l.equals("0::/" + mount.relativize(leaf))),
                        "the target ran inside " + leaf + ": " + out);
            } finally {
                p.destroyForcibly().waitFor();
            }
        } finally {
            TestEnv.destroyTree(leaf);
        }
    }

    // --- helpers ---------------------------------------------------------------------

    /** The command that runs the jar's launcher for {@code arch}: itself on the host's architecture, else through qemu-user. */
    private static List<String> launcher(String arch) throws IOException {
        List<String> cmd = new ArrayList<>();
        if (!arch.equals(HOST)) {
            Optional<Path> qemu = Stream.of("qemu-" + arch + "-static", "qemu-" + arch)
                    .flatMap(n -> Stream.of(System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")).map(d -> Path.of(d, n)))
                    .filter(Files::isExecutable).findFirst();
            Assumptions.assumeTrue(qemu.isPresent(), "no qemu-" + arch + "-static or qemu-" + arch + " on PATH (Debian package"
                    + " qemu-user-static, installed by make deps where apt can): the " + arch + " launcher's protocol is not tested here");
            cmd.add(qemu.get().toString());
        }
        cmd.add(unpackFromJar(arch).toString());
        return cmd;
    }

    /** The launcher exactly as the jar carries it, checked against its .sha256. */
    private static Path unpackFromJar(String arch) throws IOException {
        Path target = unpacked.resolve("rbee-launch-" + arch);
        if (Files.exists(target)) return target;
        String base = Launcher.RESOURCE_DIR + arch + "/rbee-launch";
        byte[] binary = resource(base);
        assertEquals(new String(resource(base + ".sha256"), StandardCharsets.US_ASCII).strip(), Launcher.sha256(binary),
                "the " + arch + " launcher matches its checksum");
        Files.write(target, binary);
        assertTrue(target.toFile().setExecutable(true, true));
        return target;
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = LauncherProtocolTest.class.getResourceAsStream(name)) {
            assertTrue(in != null, name + " is on the class path (native-launcher/Makefile builds it)");
            return in.readAllBytes();
        }
    }

    private static Process start(List<String> cmd) throws IOException {
        return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    private record Result(long pid, int exit, String stdout, String stderr) {}

    /** Runs to the end; stdout and stderr are small here, so reading one after the other cannot block. */
    private static Result run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            return new Result(p.pid(), p.exitValue(), out, err);
        } finally {
            p.destroyForcibly().waitFor();
        }
    }

    private static String hostArch() {
        return switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> System.getProperty("os.arch");
        };
    }
}
