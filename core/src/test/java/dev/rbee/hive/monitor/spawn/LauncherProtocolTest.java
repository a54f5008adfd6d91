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
        try (Launch l = launch(arch, "--no-cgroup", "--", "/bin/sleep", "100")) {
            long pid = l.process().pid();
            assertEquals("J " + pid + "\n", l.report(), "J, then end-of-file: the exec happened");
            assertTrue(l.pidfd() >= 0, "a pidfd came with J (" + arch + ")");
            String info = Files.readString(Path.of("/proc/self/fdinfo/" + l.pidfd()));
            assertTrue(info.contains("Pid:\t" + pid + "\n"), "the pidfd names the launcher's pid: " + info);
            assertEquals(Path.of("/bin/sleep").toRealPath(), Path.of("/proc/" + pid + "/exe").toRealPath(),
                    "the pid now runs the target, natively");
            assertEquals(0, Libc.pidfdSendSignal(l.pidfd(), 9));
            assertEquals(128 + 9, l.exit(), "the signal sent through the pidfd reached the worker");
        }
    }

    /** Over --status-fd that is not a socket, "J" goes alone (the documented fallback: the supervisor opens its own pidfd). */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"x86_64", "aarch64"})
    void statusFdThatIsNoSocketGetsTheLineAlone(String arch) throws Exception {
        Result r = run(arch, "--status-fd", "1", "--no-cgroup", "--", "/bin/true");
        assertEquals("J " + r.pid + "\n", r.stdout, "J on fd 1, which then closes at exec (close-on-exec)");
        assertEquals(0, r.exit, r.stderr);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"x86_64", "aarch64"})
    void execOfAMissingProgramIsEnoentAnd127(String arch) throws Exception {
        try (Launch l = launch(arch, "--no-cgroup", "--", "/nonexistent/rbee-worker")) {
            assertEquals("J " + l.process().pid() + "\nE exec 2 ENOENT\n", l.report());
            assertEquals(127, l.exit());
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"x86_64", "aarch64"})
    void badArgumentsAreEArgsAnd125(String arch) throws Exception {
        // Before the status channel exists the line goes to stderr ...
        for (String[] bad : new String[][] {{"--no-such-option", "--no-cgroup"}, {"--oom-score-adj", "5000", "--no-cgroup"}}) {
            List<String> args = new ArrayList<>(List.of(bad));
            args.addAll(List.of("--", "/bin/true"));
            Result r = run(arch, args.toArray(String[]::new));
            assertEquals("rbee-launch: E args 22 EINVAL\n", r.stderr, String.join(" ", bad));
            assertEquals(125, r.exit);
        }
        // ... after it, over the channel: neither --cgroup nor --no-cgroup.
        try (Launch l = launch(arch, "--", "/bin/true")) {
            assertEquals("E args 22 EINVAL\n", l.report());
            assertEquals(125, l.exit());
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"x86_64", "aarch64"})
    void aDirectoryOutsideCgroup2IsRefusedAndTheTargetNeverRuns(String arch) throws Exception {
        Path dir = Files.createTempDirectory("rbee-not-cgroup-");
        Path marker = dir.resolve("ran");
        try (Launch l = launch(arch, "--cgroup", dir.toString(), "--", "/bin/sh", "-c", "echo ran > " + marker)) {
            assertEquals("E join 124 EMEDIUMTYPE\n", l.report());
            assertEquals(125, l.exit());
            assertFalse(Files.exists(marker), "the target never ran");
        } finally {
            Files.deleteIfExists(marker);
            Files.delete(dir);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"x86_64", "aarch64"})
    void joinsARealCgroup2LeafBeforeExec(String arch) throws Exception {
        Path mount = TestEnv.cgroupMount();
        Path leaf = mount.resolve("rbee-test-launcher-" + arch + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16));
        Files.createDirectory(leaf);
        try (Launch l = launch(arch, "--cgroup", leaf.toString(), "--", "/bin/cat", "/proc/self/cgroup")) {
            assertEquals("J " + l.process().pid() + "\n", l.report());
            String out = new String(l.process().getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, l.exit());
            assertTrue(out.lines().anyMatch(line -> line.equals("0::/" + mount.relativize(leaf))),
                    "the target ran inside " + leaf + ": " + out);
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

    /**
     * The launcher for {@code arch} started with a status socket and {@code args}, its
     * report read to end-of-file (exec, or its exit).  Closing it closes the pidfd and
     * kills what still runs.
     */
    private record Launch(Process process, String report, int pidfd) implements AutoCloseable {
        int exit() throws InterruptedException {
            assertTrue(process.waitFor(30, TimeUnit.SECONDS), "still running: " + process);
            return process.exitValue();
        }

        @Override
        public void close() throws InterruptedException {
            if (pidfd >= 0) Libc.close(pidfd);
            process.destroyForcibly().waitFor();
        }
    }

    private static Launch launch(String arch, String... args) throws Exception {
        List<String> cmd = launcher(arch);
        try (StatusSocket status = StatusSocket.open()) {
            cmd.addAll(List.of("--status-socket", status.address()));
            cmd.addAll(List.of(args));
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            try {
                StatusSocket.Message m = status.await(p, 60_000);
                return new Launch(p, m.text(), m.pidfd());
            } catch (Exception | Error e) {
                p.destroyForcibly().waitFor();
                throw e;
            }
        }
    }

    private record Result(long pid, int exit, String stdout, String stderr) {}

    /** Runs the launcher for {@code arch} with {@code args} to the end; its output is small, so reading one stream after the other cannot block. */
    private static Result run(String arch, String... args) throws Exception {
        List<String> cmd = launcher(arch);
        cmd.addAll(List.of(args));
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
