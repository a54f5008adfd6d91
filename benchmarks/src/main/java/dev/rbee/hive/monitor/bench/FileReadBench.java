package dev.rbee.hive.monitor.bench;

import dev.rbee.hive.monitor.cgroup.CpuController;
import dev.rbee.hive.monitor.read.AsciiBuffer;
import dev.rbee.hive.monitor.read.CgroupCounters;
import dev.rbee.hive.monitor.model.Counters.Field;
import dev.rbee.hive.monitor.read.KeptOpenFile;
import dev.rbee.hive.monitor.read.StatFile;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One read of one stats file (cpu.stat) of one worker, every way a Java
 * program can do it, on the same files: the live cgroup and the tmpfs fixture.
 *
 * <p>{@code ours} is the library's hot path (kept-open {@link KeptOpenFile},
 * positional read, then the cpu.stat parser into reused counters): it is the
 * only row that also parses.  The other rows only read, which favours them.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class FileReadBench {
    @Param({Fixture.LIVE, Fixture.TMPFS})
    public String source;

    private Fixture fixture;
    private Path cpuStat;
    private KeptOpenFile ours;
    private final CgroupCounters counters = new CgroupCounters();
    private StatFile cpuStatParser;
    private FileChannel kept;
    private final ByteBuffer direct = ByteBuffer.allocateDirect(4096);
    private Pread pread;
    /** A second buffer holding cpu.stat as read in setUp, for {@link #parseOnly}. */
    private AsciiBuffer parsed;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        fixture = Fixture.open(source);
        cpuStat = fixture.dir.resolve("cpu.stat");
        ours = new KeptOpenFile(cpuStat, new AsciiBuffer(), true);
        if (!ours.open()) throw new IOException("no " + cpuStat);
        cpuStatParser = CpuController.INSTANCE.statFiles().get(0);
        kept = FileChannel.open(cpuStat, StandardOpenOption.READ);
        pread = new Pread(List.of(cpuStat));
        try (KeptOpenFile once = new KeptOpenFile(cpuStat, new AsciiBuffer(), true)) {
            once.open();
            once.read();
            parsed = once.buffer();
        }
        // sanity: every way reads the same file
        if (ours() < 0 || parseOnly() < 0 || keptOpenChannel() <= 0 || ffmPread() <= 0 || readAllLines().isEmpty())
            throw new IllegalStateException("cannot read " + cpuStat);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        ours.close();
        kept.close();
        pread.close();
        fixture.close();
    }

    /** The library: KeptOpenFile.read() (pread at 0 into a reused direct buffer) + cpu.stat parsed into reused counters. */
    @Benchmark
    public long ours() throws IOException {
        if (ours.read() < 0) return -1;
        cpuStatParser.parse(ours.buffer(), counters);
        return counters.get(Field.CPU_USAGE_USEC);
    }

    /**
     * The parse half of {@code ours} alone: cpu.stat, already in the buffer,
     * parsed again into the reused counters (no system call).
     */
    @Benchmark
    public long parseOnly() {
        parsed.rewind();
        cpuStatParser.parse(parsed, counters);
        return counters.get(Field.CPU_USAGE_USEC);
    }

    /** FileChannel kept open, read(buf, 0): what KeptOpenFile does underneath, without parsing. */
    @Benchmark
    public int keptOpenChannel() throws IOException {
        direct.clear();
        return kept.read(direct, 0);
    }

    /** pread(2) via FFM on a kept-open fd (no errno capture, no parsing). */
    @Benchmark
    public long ffmPread() {
        return pread.read(0);
    }

    /** The same pread as a critical downcall (Linker.Option.critical: no thread-state transition). */
    @Benchmark
    public long ffmPreadCritical() {
        return pread.readCritical(0);
    }

    /** open + read + close through a FileChannel on every read. */
    @Benchmark
    public int channelOpenReadClose() throws IOException {
        try (FileChannel ch = FileChannel.open(cpuStat, StandardOpenOption.READ)) {
            direct.clear();
            return ch.read(direct, 0);
        }
    }

    /** The JDK's and Elasticsearch's way (OsProbe reads cgroup files with readAllLines). */
    @Benchmark
    public List<String> readAllLines() throws IOException {
        return Files.readAllLines(cpuStat);
    }

    @Benchmark
    public String readString() throws IOException {
        return Files.readString(cpuStat);
    }
}
