package dev.rbee.hive.monitor.spawn;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The launcher comes out of the jar into a private directory, checked by its SHA-256. */
class LauncherUnpackTest {
    @Test
    void unpackedPrivateAndVerified() throws Exception {
        Path l = Launcher.fromJar();
        assertTrue(Files.isExecutable(l));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(l.getParent())));
        String expected = new String(Launcher.class.getResourceAsStream(Launcher.RESOURCE_DIR + "x86_64/rbee-launch.sha256")
                .readAllBytes()).strip();
        assertEquals(expected, Launcher.sha256(Files.readAllBytes(l)));
        assertTrue(l.getFileName().toString().startsWith("rbee-launch-" + expected.substring(0, 16)));
    }

    @Test
    void aTamperedCopyIsReplaced(@TempDir Path tmp) throws Exception {
        Path dir = RuntimeDir.ensurePrivate(tmp.resolve("rt"), dev.rbee.hive.monitor.internal.Libc.getuid());
        Path l = Launcher.fromJar(dir);
        Files.writeString(l, "#!/bin/sh\necho evil\n");
        Path again = Launcher.fromJar(dir);
        assertEquals(l, again);
        assertTrue(Files.size(again) > 1000, "the real binary is back");
        assertEquals(Launcher.sha256(Files.readAllBytes(again)),
                new String(Launcher.class.getResourceAsStream(Launcher.RESOURCE_DIR + "x86_64/rbee-launch.sha256").readAllBytes()).strip());
    }

    @Test
    void refusesADirectoryOwnedBySomeoneElse(@TempDir Path tmp) throws Exception {
        Path d = tmp.resolve("other");
        Files.createDirectory(d);
        Files.setAttribute(d, "unix:uid", 65534, LinkOption.NOFOLLOW_LINKS);
        IOException e = assertThrows(IOException.class, () -> RuntimeDir.ensurePrivate(d, 0));
        assertTrue(e.getMessage().contains("owned by uid 65534"), e.getMessage());
        Path link = tmp.resolve("link");
        Files.createSymbolicLink(link, tmp);
        assertThrows(IOException.class, () -> RuntimeDir.ensurePrivate(link, 0));
    }
}
