package dev.rbee.hive.monitor.testing;

import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs a main class of the test class path in a JVM as another uid (setpriv),
 * optionally started inside a given cgroup: the class path is copied where
 * that user can read it (this JVM's may sit under /root).  Not thread-safe:
 * one test uses one instance; {@link #close()} removes the copy.
 */
public final class AsUser implements AutoCloseable {
    /** The output (stdout and stderr together) and the exit status. */
    public record Result(int exit, String out) {}

    private final int uid;
    private final Path home;
    private final String classPath;

    public AsUser(int uid) throws IOException {
        Assumptions.assumeTrue(dev.rbee.hive.monitor.internal.Libc.getuid() == 0, "needs root to start a JVM as another uid");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "/usr/bin/setpriv (util-linux) is missing");
        this.uid = uid;
        this.home = Files.createTempDirectory("rbee-asuser-");
        Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwxr-xr-x"));
        List<String> cp = new ArrayList<>();
        int i = 0;
        for (String entry : System.getProperty("surefire.test.class.path", TestEnv.classPath()).split(File.pathSeparator)) {
            Path src = Path.of(entry);
            if (!Files.exists(src)) continue;
            Path dst = home.resolve("cp" + (i++) + (Files.isDirectory(src) ? "" : ".jar"));
            copyReadable(src, dst);
            cp.add(dst.toString());
        }
        Path tmp = Files.createDirectory(home.resolve("tmp"));
        Files.setAttribute(tmp, "unix:uid", uid);
        this.classPath = String.join(File.pathSeparator, cp);
    }

    /** A copy of {@code file} that the user can execute (the launcher, whose path may be under /root). */
    public Path readable(Path file) throws IOException {
        Path dst = home.resolve(file.getFileName().toString());
        Files.copy(file, dst, StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(dst, PosixFilePermissions.fromString("rwxr-xr-x"));
        return dst;
    }

    /**
     * Runs {@code main args...} as the user; with {@code cgroup} present, the JVM starts inside it (the
     * shell that execs setpriv writes itself into its cgroup.procs first, as systemd does for a unit).
     */
    public Result run(java.util.Optional<Path> cgroup, Class<?> main, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        if (cgroup.isPresent()) cmd.addAll(List.of("/bin/sh", "-c", "echo $$ > \"$0\"/cgroup.procs && exec \"$@\"",
                cgroup.get().toString()));
        cmd.addAll(List.of("/usr/bin/setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups", "--",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED",
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.io.tmpdir=" + home.resolve("tmp"),
                "-cp", classPath, main.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).directory(home.resolve("tmp").toFile());
        pb.environment().remove("XDG_RUNTIME_DIR");
        pb.environment().put("HOME", home.resolve("tmp").toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(3, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("the JVM as uid " + uid + " did not end:\n" + out);
        }
        return new Result(p.exitValue(), out);
    }

    @Override
    public void close() throws IOException {
        try (Stream<Path> s = Files.walk(home)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    private static void copyReadable(Path src, Path dst) throws IOException {
        if (!Files.isDirectory(src)) {
            Files.copy(src, dst, StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(dst, PosixFilePermissions.fromString("rw-r--r--"));
            return;
        }
        try (Stream<Path> s = Files.walk(src)) {
            for (Path f : s.toList()) {
                Path t = dst.resolve(src.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(t);
                    Files.setPosixFilePermissions(t, PosixFilePermissions.fromString("rwxr-xr-x"));
                } else {
                    Files.copy(f, t, StandardCopyOption.REPLACE_EXISTING);
                    Files.setPosixFilePermissions(t, PosixFilePermissions.fromString(
                            Files.isExecutable(f) ? "rwxr-xr-x" : "rw-r--r--"));
                }
            }
        }
    }
}
