package dev.rbee.hive.monitor.bench;

import dev.rbee.hive.monitor.model.ProcessStats;
import dev.rbee.hive.monitor.read.CgroupCounters;
import dev.rbee.hive.monitor.stats.WorkerSeries;
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
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One full sample of one worker: every stats file of its cgroup plus
 * cgroup.procs (the files {@link dev.rbee.hive.monitor.stats.CgroupReader}
 * opens that exist there), on the live cgroup and on the tmpfs fixture.
 *
 * <p>{@code ours} is {@link WorkerSeries#read} then {@link WorkerSeries#stats}:
 * the complete {@link ProcessStats} a heartbeat carries, rates included.
 * {@code readAllLines} is the usual Java code (each file read with
 * Files.readAllLines, split and parsed into a map).  The FileChannel and FFM
 * rows only read the same files, without parsing.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class SampleBench {
    @Param({Fixture.LIVE, Fixture.TMPFS})
    public String source;

    private Fixture fixture;
    private WorkerSeries series;
    private List<Path> files;
    private Pread pread;
    private final ByteBuffer direct = ByteBuffer.allocateDirect(4096);

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        fixture = Fixture.open(source);
        series = new WorkerSeries("llm", "8080", fixture.dir, 1.0);
        files = Fixture.sampleFiles(fixture.dir);
        pread = new Pread(files);
        // two samples so that the measured ones have rates, and the main process is known
        ours();
        if (ours() == null) throw new IllegalStateException("cannot sample " + fixture.dir);
        System.out.println("# sample of " + source + " " + fixture.dir + " reads " + files.size() + " files: "
                + files.stream().map(p -> p.getFileName().toString()).toList());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        series.close();
        pread.close();
        fixture.close();
    }

    /** The library: read every kept-open file into reused counters, then build the ProcessStats. */
    @Benchmark
    public ProcessStats ours() throws IOException {
        if (!series.read(System.nanoTime())) return null;
        return series.stats(Instant.now(), Optional.empty());
    }

    /** The read half alone (WorkerSeries.read): every file re-read and parsed, no result built. */
    @Benchmark
    public CgroupCounters oursReadOnly() throws IOException {
        series.read(System.nanoTime());
        return series.counters();
    }

    /** Usual Java: Files.readAllLines for each file, lines split and parsed into a map. */
    @Benchmark
    public Map<String, Long> readAllLines() throws IOException {
        Map<String, Long> out = new HashMap<>();
        for (Path f : files) {
            String name = f.getFileName().toString();
            for (String line : Files.readAllLines(f)) NaiveParse.line(name, line, out);
        }
        return out;
    }

    /** open + read + close of each file through a FileChannel (no parsing). */
    @Benchmark
    public long channelOpenReadClose() throws IOException {
        long total = 0;
        for (Path f : files) {
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                direct.clear();
                total += ch.read(direct, 0);
            }
        }
        return total;
    }

    /** pread(2) via FFM of each kept-open file (no parsing). */
    @Benchmark
    public long ffmPread() {
        return pread.readAll();
    }
}
