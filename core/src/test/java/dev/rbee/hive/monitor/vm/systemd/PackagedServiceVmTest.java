package dev.rbee.hive.monitor.vm.systemd;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * packaging/systemd/rbee-hive.service as shipped (hardening included) under
 * systemd 252: the service starts, its rbee-mon makes the hive's scope, a
 * worker started with the CLI lands in it and writes to the journal, and the
 * scope survives the service's stop (the documented default).
 */
@Tag("systemd")
class PackagedServiceVmTest {
    static final Path UNIT_FILE = Path.of("/etc/systemd/system/rbee-hive.service");
    static final Path SCOPE = Path.of("/sys/fs/cgroup/rbee.slice/rbee-hive.slice/rbee-hive.scope");

    @BeforeAll
    static void install() throws Exception {
        if (!"1".equals(System.getenv("VM_GUEST")) || !Files.isDirectory(Path.of("/run/systemd/system")))
            fail("tests tagged \"systemd\" run only in the systemd guest: make vm-test-systemd");
        if (!Files.isExecutable(Path.of("/usr/local/bin/rbee-mon"))) fail("vm/test.sh installs /usr/local/bin/rbee-mon");
        Path repo = Path.of(System.getProperty("rbee.launcher")).toAbsolutePath().getParent().getParent().getParent();
        Files.copy(repo.resolve("packaging/systemd/rbee-hive.service"), UNIT_FILE);
        HiveScopeVmTest.sh("systemctl", "daemon-reload");
    }

    @AfterAll
    static void uninstall() throws Exception {
        HiveScopeVmTest.sh("systemctl", "stop", "rbee-hive.service", "rbee-hive.scope");
        Files.deleteIfExists(UNIT_FILE);
        HiveScopeVmTest.sh("systemctl", "daemon-reload");
    }

    @Test
    void theShippedServiceRunsHardenedAndItsCliWorkersGoToTheScopeAndJournal() throws Exception {
        HiveScopeVmTest.sh("systemctl", "start", "rbee-hive.service");
        String log = "";
        for (int i = 0; i < 600 && !log.contains("serving hive"); i++) {
            Thread.sleep(200);
            log = HiveScopeVmTest.sh("journalctl", "--no-pager", "-o", "cat", "-u", "rbee-hive.service");
        }
        String status = HiveScopeVmTest.sh("systemctl", "status", "--no-pager", "rbee-hive.service");
        assertEquals("active", HiveScopeVmTest.sh("systemctl", "is-active", "rbee-hive.service"), status + "\n" + log);
        assertTrue(log.contains("backend cgroup2 (systemd placement"), "the hardened service chose the systemd placement:\n" + log);
        String backend = HiveScopeVmTest.sh("/usr/local/bin/rbee-mon", "backend");
        System.out.println(backend);
        assertTrue(backend.contains("placement: systemd") && backend.contains("unit: rbee-hive.scope")
                && backend.contains("slice: rbee-hive.slice") && backend.contains("root: " + SCOPE), backend);
        String run = HiveScopeVmTest.sh("/usr/local/bin/rbee-mon", "run", "--group", "pk", "--instance", "1", "--quiet",
                "--output", "journal", "--", "/bin/sh", "-c", "echo packaged-line; grep ^0:: /proc/self/cgroup; sleep 1");
        String lines = "";
        for (int i = 0; i < 50 && !lines.contains("0::/rbee.slice/rbee-hive.slice/rbee-hive.scope/pk/1"); i++) {
            Thread.sleep(100);
            lines = HiveScopeVmTest.sh("journalctl", "--no-pager", "-t", "rbee-pk-1", "-o", "cat");
        }
        assertTrue(lines.contains("packaged-line") && lines.contains("0::/rbee.slice/rbee-hive.slice/rbee-hive.scope/pk/1"),
                "rbee-mon run --output journal:\n" + run + "\njournal:\n" + lines);
        assertEquals("active", HiveScopeVmTest.sh("systemctl", "is-active", "rbee-hive.scope"));
        HiveScopeVmTest.sh("systemctl", "stop", "rbee-hive.service");
        assertEquals("active", HiveScopeVmTest.sh("systemctl", "is-active", "rbee-hive.scope"),
                "the scope (and any worker in it) outlives the service");
    }
}
