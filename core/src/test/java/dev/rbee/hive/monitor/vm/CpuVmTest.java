package dev.rbee.hive.monitor.vm;

import dev.rbee.hive.monitor.model.ExitReport;
import dev.rbee.hive.monitor.model.Limits;
import dev.rbee.hive.monitor.model.ProcessStats;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** cpu.max is enforced by the CFS bandwidth controller, and cpu_pct reports it. */
@Tag("vm")
class CpuVmTest extends VmTestBase {
    CpuVmTest() {
        super("cpu");
    }

    @Test
    void busyLoopUnderHalfACoreReportsAboutFiftyPercent() throws Exception {
        Worker w = monitor.spawn(WorkerSpec.command(VmEnv.helper(), "spin")
                .withMonitoring("cpu", "spin").limits(Limits.builder().cpuPercent(50).build()).build());
        Path leaf = w.cgroup().orElseThrow();
        assertEquals("50000 100000", VmEnv.read(leaf.resolve("cpu.max")));

        Thread.sleep(300); // past the first period, so the window below is steady state
        ProcessStats first = monitor.collectInstance("cpu", "spin").orElseThrow();
        assertTrue(first.cpuPct().isEmpty(), "no rate on the first sample");
        Thread.sleep(3_000);
        ProcessStats s = monitor.collectInstance("cpu", "spin").orElseThrow();
        double pct = s.cpuPct().orElseThrow();
        long throttled = s.nrThrottled().orElseThrow();
        System.out.printf("cpu: cpu_pct %.1f over %d ms, nr_throttled %d%n", pct,
                Duration.between(first.timestamp(), s.timestamp()).toMillis(), throttled);
        assertTrue(pct >= 40 && pct <= 60, "cpu_pct of a busy loop under cpu.max 50%: " + pct);
        assertTrue(throttled > 0, "nr_throttled > 0: " + s.counters());

        ExitReport r = w.stop(Duration.ofSeconds(5));
        System.out.println("cpu: " + r.summary());
        assertTrue(r.cgroupRemoved());
    }
}
