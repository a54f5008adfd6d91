package dev.rbee.hive.monitor.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import oshi.SystemInfo;
import oshi.software.os.OSProcess;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * The price a Java user pays today for per-process stats: OSHI's
 * {@code OSProcess.updateAttributes()} for the same worker process (the sleeper
 * in the live cgroup).  OSHI reads /proc/PID/{stat,status,io,...}: one process,
 * not the cgroup (children are not included).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class OshiBench {
    private Fixture fixture;
    private OSProcess process;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        fixture = Fixture.open(Fixture.LIVE);
        process = new SystemInfo().getOperatingSystem().getProcess((int) fixture.pid);
        if (process == null || !process.updateAttributes())
            throw new IllegalStateException("OSHI cannot see process " + fixture.pid);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        fixture.close();
    }

    @Benchmark
    public boolean updateAttributes() {
        return process.updateAttributes();
    }
}
