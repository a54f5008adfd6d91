package dev.rbee.hive.monitor.vm.systemd;

import dev.rbee.hive.monitor.placement.DelegatedMain;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The DELEGATED placement as systemd makes it: a system service with User=nobody
 * and Delegate=yes (systemd-run), whose supervisor JVM finds its delegated
 * cgroup by the trusted.delegate xattr and the ownership systemd gave it, moves
 * itself into .supervisor and spawns its worker below the unit.
 */
@Tag("systemd")
class DelegatedUnitVmTest {
    static final String UNIT = "rbee-deleg-vmtest.service";

    @BeforeAll
    static void guest() {
        if (!"1".equals(System.getenv("VM_GUEST")) || !Files.isDirectory(Path.of("/run/systemd/system")))
            fail("tests tagged \"systemd\" run only in the systemd guest: make vm-test-systemd");
    }

    @Test
    void nobodyInADelegateYesServiceSpawnsBelowItsUnit() throws Exception {
        String out = HiveScopeVmTest.sh("systemd-run", "--wait", "--pipe", "--quiet", "--collect", "--unit", UNIT,
                "-p", "Delegate=yes", "-p", "User=nobody", "-p", "Environment=JAVA_TOOL_OPTIONS=-Djava.io.tmpdir=/var/tmp",
                prop("rbee.vm.java"), "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", prop("rbee.vm.unprivileged.classpath"), DelegatedMain.class.getName(),
                prop("rbee.vm.unprivileged.launcher"), "auto");
        System.out.println(out);
        Map<String, String> r = new HashMap<>();
        for (String line : out.split("\n")) {
            if (!line.startsWith("result ")) continue;
            int eq = line.indexOf('=');
            if (eq > 7) r.merge(line.substring(7, eq), line.substring(eq + 1), (a, b) -> a + "\n" + b);
        }
        String cg = "/system.slice/" + UNIT;
        assertEquals("delegated", r.get("placement"), out);
        assertTrue(r.get("why").contains(".delegate=1"), out); // systemd 252 also sets user.delegate, readable without CAP_SYS_ADMIN
        assertEquals(UNIT, r.get("unit"), out);
        assertEquals(cg + "/.supervisor", r.get("self"), out);
        assertEquals(cg + "/g/i", r.get("worker"), out);
        assertEquals("false", r.get("leaf.left"), out);
    }

    static String prop(String name) {
        String v = System.getProperty(name);
        if (v == null || v.isEmpty()) fail("system property " + name + " is not set: run through vm/test.sh");
        return v;
    }
}
