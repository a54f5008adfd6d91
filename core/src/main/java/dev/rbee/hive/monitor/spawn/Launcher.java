package dev.rbee.hive.monitor.spawn;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Finds rbee-launch: an explicitly configured path, or the copy inside the jar,
 * unpacked into the private runtime directory and verified by its SHA-256.
 * A user of the jar never needs to know where it lives.
 */
public final class Launcher {
    static final String RESOURCE_DIR = "/dev/rbee/hive/monitor/native/linux-";

    private Launcher() {}

    /** The launcher at {@code path}, which must be an executable regular file. */
    public static Path explicit(Path path) throws IOException {
        if (!Files.isRegularFile(path) || !Files.isExecutable(path))
            throw new IOException("launcher " + path + " is not an executable file");
        return path;
    }

    /** The launcher from the jar, unpacked once per content into the runtime directory. */
    public static Path fromJar() throws IOException {
        return fromJar(RuntimeDir.get());
    }

    /** As {@link #fromJar()}, into {@code dir} (a private directory). */
    static Path fromJar(Path dir) throws IOException {
        return unpack(dir, "rbee-launch");
    }

    /**
     * The jar's {@code name} for this machine's architecture (rbee-launch, librbee-spawn.so), verified by
     * its SHA-256 and unpacked once per content into {@code dir}, executable by the owner only.
     */
    static Path unpack(Path dir, String name) throws IOException {
        String arch = switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> System.getProperty("os.arch");
        };
        String base = RESOURCE_DIR + arch + "/" + name;
        byte[] binary = resource(base, name, arch);
        String expected = new String(resource(base + ".sha256", name, arch), StandardCharsets.US_ASCII).strip();
        String actual = sha256(binary);
        if (!actual.equals(expected))
            throw new IOException(name + " in the jar is corrupt: sha256 " + actual + ", expected " + expected);
        // The content's hash in the name: a copy is never rewritten while another JVM runs or maps it.
        int dot = name.indexOf('.');
        String target0 = dot < 0 ? name + "-" + expected.substring(0, 16) : name.substring(0, dot) + "-" + expected.substring(0, 16) + name.substring(dot);
        Path target = dir.resolve(target0);
        if (Files.isRegularFile(target) && sha256(Files.readAllBytes(target)).equals(expected)) return target;
        Path tmp = Files.createTempFile(dir, name, ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        try {
            Files.write(tmp, binary);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
        return target;
    }

    private static byte[] resource(String name, String what, String arch) throws IOException {
        // Through the class loader: on the module path, Class.getResourceAsStream would
        // search only this module, and the launchers are in rbee-native-launcher's jar.
        try (InputStream in = Launcher.class.getClassLoader().getResourceAsStream(name.substring(1))) {
            if (in == null)
                throw new IOException("no " + what + " for linux-" + arch + " in the jar (" + name
                        + "); build it (make) or configure an explicit launcher path");
            return in.readAllBytes();
        }
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
