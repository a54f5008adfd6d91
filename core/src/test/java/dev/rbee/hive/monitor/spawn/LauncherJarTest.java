package dev.rbee.hive.monitor.spawn;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** The built jar (native-launcher's, on core's class path) carries a launcher for x86-64 and one for aarch64. */
class LauncherJarTest {
    /** ELF e_machine of each architecture the jar must serve. */
    private static final Map<String, Integer> MACHINES = Map.of("x86_64", 62, "aarch64", 183);

    @Test
    void jarListsBothLaunchersWithTheirChecksums() throws Exception {
        URL url = LauncherJarTest.class.getResource(Launcher.RESOURCE_DIR + "x86_64/rbee-launch");
        assertNotNull(url, "no x86-64 launcher on the class path: run make");
        Assumptions.assumeTrue(url.getProtocol().equals("jar"), "the launchers come from a directory here (" + url
                + "), not a jar: a build without the package phase; mvn verify checks the jar");
        JarURLConnection c = (JarURLConnection) url.openConnection();
        c.setUseCaches(false);
        try (JarFile jar = new JarFile(c.getJarFileURL().getPath())) {
            String dir = Launcher.RESOURCE_DIR.substring(1);
            Map<String, Integer> found = new TreeMap<>();
            for (JarEntry e : (Iterable<JarEntry>) jar.stream()::iterator)
                if (e.getName().startsWith(dir) && e.getName().endsWith("/rbee-launch")) {
                    String arch = e.getName().substring(dir.length(), e.getName().length() - "/rbee-launch".length());
                    byte[] binary = read(jar, e);
                    JarEntry sum = jar.getJarEntry(e.getName() + ".sha256");
                    assertNotNull(sum, e.getName() + ".sha256 is in " + jar.getName());
                    assertEquals(new String(read(jar, sum), StandardCharsets.US_ASCII).strip(), Launcher.sha256(binary),
                            e.getName() + " matches its checksum");
                    found.put(arch, (binary[18] & 0xff) | (binary[19] & 0xff) << 8); // e_machine, little-endian
                }
            assertEquals(new TreeMap<>(MACHINES), found, "linux-ARCH/rbee-launch in " + jar.getName() + " -> ELF e_machine");
        }
    }

    private static byte[] read(JarFile jar, JarEntry e) throws Exception {
        try (InputStream in = jar.getInputStream(e)) {
            return in.readAllBytes();
        }
    }
}
