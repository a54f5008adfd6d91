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
import java.nio.file.Path;
import java.time.Duration;

import static dev.rbee.hive.monitor.vm.VmEnv.MIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** io.max is enforced by blk-throttle on the scratch disk, and the read rate and io.stat report it. */
@Tag("vm")
class IoVmTest extends VmTestBase {
    static final long BYTES = 4 * MIB;
    IoVmTest() {
        super("io");
    }

    @Test
    void directReadsUnderOneMiBPerSecond() throws Exception {
        String dev = VmEnv.read(Path.of("/sys/block/vda/dev")); // the scratch disk, e.g. 254:0
        Worker w = monitor.spawn(WorkerSpec.command(VmEnv.helper(), "dread", "/dev/vda", Long.toString(BYTES), "hold")
                .withMonitoring("io", "reader").limits(Limits.builder().io(dev + " rbps=1M").build())
                .output(Output.pipe()).build());
        Path leaf = w.cgroup().orElseThrow();
        assertTrue(VmEnv.read(leaf.resolve("io.max")).startsWith(dev + " rbps=1048576 "), VmEnv.read(leaf.resolve("io.max")));

        Thread.sleep(200);
        ProcessStats first = monitor.collectInstance("io", "reader").orElseThrow();
        Thread.sleep(3_000);
        ProcessStats s = monitor.collectInstance("io", "reader").orElseThrow();
        double rate = s.ioReadMbS().orElseThrow();
        System.out.printf("io: io_r_mb_s %.3f over %d ms (%d -> %d bytes)%n", rate,
                Duration.between(first.timestamp(), s.timestamp()).toMillis(),
                first.ioReadBytes().orElseThrow(), s.ioReadBytes().orElseThrow());
        assertTrue(rate >= 0.7 && rate <= 1.3, "read rate under io.max rbps=1M, MiB/s: " + rate);

        BufferedReader out = VmEnv.stdout(w);
        assertEquals("read " + BYTES, VmEnv.line(out, Duration.ofSeconds(30)), "the reader finished");
        ProcessStats end = monitor.collectInstance("io", "reader").orElseThrow();
        assertEquals(BYTES, end.ioReadBytes().orElseThrow(), "io.stat rbytes equals the bytes read");

        ExitReport r = w.stop(Duration.ofSeconds(5));
        System.out.println("io: " + r.summary());
        assertEquals(BYTES, r.ioReadBytes().orElseThrow(), "exit report: io.stat rbytes equals the bytes read");
        assertTrue(r.cgroupRemoved());
    }
}
