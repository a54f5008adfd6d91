package dev.rbee.hive.monitor.contract;

import dev.rbee.hive.monitor.testing.RunTests;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The process-tree contract as a user with no cgroup access (nobody, 65534):
 * the monitor must choose the process-tree backend by itself and pass the same
 * tests.  The test classes and jars are copied where that user can read them
 * (this JVM's may sit under /root), and the contract runs in a JVM started with
 * setpriv.
 */
class NonRootProcTreeTest {
    static final int NOBODY = 65534;

    @Test
    void contractPassesAsNobody() throws Exception {
        Assumptions.assumeTrue(dev.rbee.hive.monitor.internal.Libc.getuid() == 0,
                "needs root to start a JVM as uid 65534 (setpriv)");
        Path setpriv = Path.of("/usr/bin/setpriv");
        if (!Files.isExecutable(setpriv)) {
            System.err.println("*** SKIPPED NonRootProcTreeTest: /usr/bin/setpriv (util-linux) is missing ***");
            Assumptions.abort("setpriv missing");
        }
        Path home = Files.createTempDirectory("rbee-nonroot-");
        try {
            Files.setPosixFilePermissions(home, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            List<String> cp = new ArrayList<>();
            int i = 0;
            for (String entry : System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"))
                    .split(File.pathSeparator)) {
                Path src = Path.of(entry);
                if (!Files.exists(src)) continue;
                Path dst = home.resolve("cp" + (i++) + (Files.isDirectory(src) ? "" : ".jar"));
                copyReadable(src, dst);
                cp.add(dst.toString());
            }
            Path tmp = Files.createDirectory(home.resolve("tmp"));
            Files.setAttribute(tmp, "unix:uid", NOBODY);
            List<String> cmd = List.of(setpriv.toString(), "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups", "--",
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED",
                    "-XX:+UseSerialGC", "-Djava.io.tmpdir=" + tmp, "-Drbee.contract.auto=true",
                    "-cp", String.join(File.pathSeparator, cp), RunTests.class.getName(), ProcTreeContractTest.class.getName());
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).directory(tmp.toFile());
            pb.environment().remove("XDG_RUNTIME_DIR");
            pb.environment().put("HOME", tmp.toString());
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(5, TimeUnit.MINUTES));
            System.out.println(out);
            assertTrue(out.contains("backend: proctree"), "chose the process-tree backend by itself:\n" + out);
            assertTrue(out.contains("not writable by uid " + NOBODY), "and said why:\n" + out);
            assertTrue(out.contains("8 tests successful"), out);
            assertEquals(0, p.exitValue(), out);
        } finally {
            try (Stream<Path> s = Files.walk(home)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    /** Copies a jar or a class directory, readable by everyone. */
    private static void copyReadable(Path src, Path dst) throws IOException {
        if (!Files.isDirectory(src)) {
            Files.copy(src, dst, StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(dst, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            return;
        }
        try (Stream<Path> s = Files.walk(src)) {
            for (Path f : s.toList()) {
                Path t = dst.resolve(src.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(t);
                    Files.setPosixFilePermissions(t, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
                } else {
                    Files.copy(f, t, StandardCopyOption.REPLACE_EXISTING);
                    Files.setPosixFilePermissions(t, java.nio.file.attribute.PosixFilePermissions.fromString(
                            Files.isExecutable(f) ? "rwxr-xr-x" : "rw-r--r--"));
                }
            }
        }
    }
}
