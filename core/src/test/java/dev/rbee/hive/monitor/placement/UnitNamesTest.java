package dev.rbee.hive.monitor.placement;

import dev.rbee.hive.monitor.systemd.UnitNames;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Our unit-name escaping against the real systemd-escape, and the checks of unit names. */
class UnitNamesTest {
    static final Path SYSTEMD_ESCAPE = Path.of("/usr/bin/systemd-escape");

    @Test
    void escapeMatchesSystemdEscape() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(SYSTEMD_ESCAPE), "systemd-escape (package systemd) is not installed here");
        List<String> samples = List.of("llm", "llm-8080", "a/b/c", ".hidden", "a.b", "with space", "back\\slash", "x:y_z",
                "ünïcode", "tab\there", "-lead", "trail-", "a--b", "@at", "100%", "日本", "a.-b", "..", "/lead/slash");
        for (String s : samples) {
            Process p = new ProcessBuilder(SYSTEMD_ESCAPE.toString(), "--", s).redirectErrorStream(true).start();
            String want = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            assertEquals(0, p.waitFor(), want);
            assertEquals(want, UnitNames.escape(s), "escape of \"" + s + "\"");
        }
    }

    @Test
    void checkAcceptsUnitNamesAndRefusesOthers() {
        assertEquals("rbee-hive.scope", UnitNames.check("unit", "rbee-hive.scope", ".scope"));
        assertEquals("a\\x2db.scope", UnitNames.check("unit", "a\\x2db.scope", ".scope"));
        for (String bad : List.of("", ".scope", "rbee-hive.service", "a/b.scope", "a b.scope", "x@y.scope", "a\nb.scope",
                "é.scope", "x".repeat(250) + ".scope"))
            assertThrows(IllegalArgumentException.class, () -> UnitNames.check("unit", bad, ".scope"), bad);
        for (String bad : List.of("-a.slice", "a-.slice", "a--b.slice"))
            assertThrows(IllegalArgumentException.class, () -> UnitNames.check("slice", bad, ".slice"), bad);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> UnitNames.check("unit", "my hive.scope", ".scope"));
        assertTrue(e.getMessage().contains("\"my hive.scope\"") && e.getMessage().contains("index 2"), e.getMessage());
    }

    @Test
    void slicesNestByTheirDashes() {
        assertEquals("rbee.slice/rbee-hive.slice/rbee-hive.scope", UnitNames.cgroupPath("rbee-hive.slice", "rbee-hive.scope"));
        assertEquals("a.slice/a-b.slice/a-b-c.slice/u.scope", UnitNames.cgroupPath("a-b-c.slice", "u.scope"));
        assertEquals("system.slice/u.scope", UnitNames.cgroupPath("system.slice", "u.scope"));
        assertEquals("u.scope", UnitNames.cgroupPath("-.slice", "u.scope"));
    }
}
