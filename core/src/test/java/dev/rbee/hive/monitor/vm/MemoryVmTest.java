package dev.rbee.hive.monitor.vm;

import dev.rbee.hive.monitor.model.ExitReport;
import dev.rbee.hive.monitor.model.Limits;
import dev.rbee.hive.monitor.model.Output;
import dev.rbee.hive.monitor.model.ProcessStats;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static dev.rbee.hive.monitor.vm.VmEnv.MIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** memory.max is enforced by the kernel's OOM killer, and the report and the stats say what happened. */
@Tag("vm")
class MemoryVmTest extends VmTestBase {
    MemoryVmTest() {
        super("mem");
    }

    @Test
    void allocationBeyondMemoryMaxIsOomKilledAndReported() throws Exception {
        Worker w = monitor.spawn(WorkerSpec.command(VmEnv.helper(), "alloc", "256")
                .withMonitoring("mem", "oom").limits(Limits.builder().memoryMax("64M").build())
                .output(Output.pipe()).build());
        // The spawn succeeded: the program runs, in its leaf, under the limit.
        Path leaf = w.cgroup().orElseThrow();
        assertEquals(root.resolve("mem").resolve("oom"), leaf);

        ExitReport r = w.onExit().get(120, TimeUnit.SECONDS);
        String out = new String(w.process().orElseThrow().getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        System.out.println("oom: " + r.summary());
        assertFalse(out.contains("touched"), "the 256 MiB allocation must not complete under memory.max 64M: " + out);
        assertTrue(r.oomKilled(), "exit report says OOM: " + r);
        assertTrue(r.oomKills().orElseThrow() >= 1, "memory.events oom_kill >= 1: " + r);
        assertEquals(9, r.status().orElseThrow().signal().orElse(-1), "killed by SIGKILL: " + r);
        assertFalse(r.killedByStop(), "the kernel killed it, not stop/kill");
        long peak = r.memoryPeakBytes().orElseThrow();
        assertTrue(peak <= 64 * MIB && peak >= 32 * MIB, "memory.peak within the 64 MiB limit: " + peak);
        assertTrue(r.cgroupRemoved(), "cgroup removed: " + r);
        assertFalse(Files.exists(leaf), "leaf left behind");
        assertFalse(Files.exists(leaf.getParent()), "empty group left behind");
    }

    @Test
    void touchedMemoryIsReportedAsAnon() throws Exception {
        Worker w = monitor.spawn(WorkerSpec.command(VmEnv.helper(), "alloc", "100", "hold")
                .withMonitoring("mem", "anon").output(Output.pipe()).build());
        BufferedReader out = VmEnv.stdout(w);
        assertEquals("touched 100", VmEnv.line(out, Duration.ofSeconds(60)));

        ProcessStats s = monitor.collectInstance("mem", "anon").orElseThrow();
        double rss = s.rssMb().orElseThrow();
        System.out.printf("anon: rss_mb %.1f, memory.anon %d, memory.current %d%n", rss,
                s.memoryAnonBytes().orElseThrow(), s.memoryCurrentBytes().orElseThrow());
        assertTrue(rss >= 90 && rss <= 130, "rss_mb (memory.stat anon) of a worker that touched 100 MiB: " + rss);
        assertEquals(s.memoryAnonBytes().orElseThrow() / (double) MIB, rss, 1e-9);
        assertEquals(w.pid(), s.pid());

        ExitReport r = w.stop(Duration.ofSeconds(5));
        System.out.println("anon: " + r.summary());
        assertEquals(15, r.status().orElseThrow().signal().orElse(-1), "SIGTERM ended it: " + r);
        assertTrue(r.memoryPeakBytes().orElseThrow() >= 100 * MIB, "memory.peak >= 100 MiB: " + r);
        assertFalse(r.oomKilled());
        assertTrue(r.cgroupRemoved());
    }
}
