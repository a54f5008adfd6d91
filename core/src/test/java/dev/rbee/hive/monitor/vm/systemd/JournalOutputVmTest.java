package dev.rbee.hive.monitor.vm.systemd;

import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.ExitReport;
import dev.rbee.hive.monitor.model.Output;
import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Output.journal() against the real journald: a worker's stdout and stderr lines
 * are found by its identifier rbee-G-I, filed under its own leaf's cgroup and
 * the hive's scope.
 */
@Tag("systemd")
class JournalOutputVmTest {
    static final String UNIT = "rbee-journal.scope";

    @BeforeAll
    static void guest() {
        if (!"1".equals(System.getenv("VM_GUEST")) || !Files.exists(Path.of("/run/systemd/journal/stdout")))
            fail("tests tagged \"systemd\" run only in the systemd guest (with journald): make vm-test-systemd");
    }

    @AfterAll
    static void stopScope() throws Exception {
        HiveScopeVmTest.sh("systemctl", "stop", UNIT);
    }

    @Test
    void workerLinesAreInTheJournalUnderItsGroupAndInstance() throws Exception {
        try (ProcessMonitor m = ProcessMonitor.builder().unit(UNIT).launcher(TestEnv.launcher()).build()) {
            Worker w = m.spawn(WorkerSpec.command("/bin/sh", "-c", "echo line-on-stdout; echo line-on-stderr >&2; sleep 1")
                    .withMonitoring("jg", "ji").output(Output.journal()).build());
            ExitReport r = w.onExit().get(60, TimeUnit.SECONDS);
            assertEquals(0, r.status().orElseThrow().code().orElse(-1), r.summary());
            String lines = "";
            for (int i = 0; i < 50 && !(lines.contains("line-on-stdout") && lines.contains("line-on-stderr")); i++) {
                Thread.sleep(100);
                lines = HiveScopeVmTest.sh("journalctl", "--no-pager", "-t", "rbee-jg-ji", "-o", "cat");
            }
            assertTrue(lines.contains("line-on-stdout") && lines.contains("line-on-stderr"), "journalctl -t rbee-jg-ji:\n" + lines);
            String verbose = HiveScopeVmTest.sh("journalctl", "--no-pager", "-t", "rbee-jg-ji", "-o", "verbose");
            System.out.println(verbose);
            assertTrue(verbose.contains("_SYSTEMD_CGROUP=/rbee.slice/rbee-hive.slice/" + UNIT + "/jg/ji"), verbose);
            assertTrue(verbose.contains("_SYSTEMD_UNIT=" + UNIT), verbose);
        }
    }
}
