package dev.rbee.hive.monitor.bench;

import dev.rbee.hive.monitor.read.StatFile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One worker's cgroup directory to read, from one of two sources:
 * <ul>
 *   <li>{@code live}: a real cgroup {@code <cgroup2 mount>/rbee-bench-<pid>/live/w}
 *       with a sleeping process in it (only the files this kernel provides:
 *       on a mount without controllers, cpu.stat, the pressure files and cgroup.procs);</li>
 *   <li>{@code tmpfs}: the pure-v2 fixture copied to /dev/shm, every stats file present.</li>
 * </ul>
 */
public final class Fixture implements AutoCloseable {
    public static final String LIVE = "live", TMPFS = "tmpfs";

    public final String source;
    public final Path dir;
    /** The sleeper in the live cgroup (the worker's process); for tmpfs too, so that OSHI has a process. */
    public final long pid;
    private final BenchCgroups cgroups;

    private Fixture(String source, Path dir, long pid, BenchCgroups cgroups) {
        this.source = source;
        this.dir = dir;
        this.pid = pid;
        this.cgroups = cgroups;
    }

    public static Fixture open(String source) throws IOException {
        BenchCgroups cg = BenchCgroups.create();
        try {
            Path live = cg.cgroup("live/w");
            long pid = cg.sleeperIn(live);
            return switch (source) {
                case LIVE -> new Fixture(source, live, pid, cg);
                case TMPFS -> new Fixture(source, cg.tmpfsFixture("w"), pid, cg);
                default -> throw new IllegalArgumentException("unknown source " + source + " (live, tmpfs)");
            };
        } catch (IOException | RuntimeException e) {
            cg.close();
            throw e;
        }
    }

    /**
     * The files one worker sample reads, in the order {@link dev.rbee.hive.monitor.stats.CgroupReader}
     * opens them: every controller's stats files, then cgroup.procs.
     */
    public static List<String> sampleFileNames() {
        List<String> names = new ArrayList<>();
        for (StatFile f : dev.rbee.hive.monitor.stats.CgroupReader.statFiles()) names.add(f.name());
        names.add("cgroup.procs");
        return names;
    }

    /** The files of one sample that exist in {@code dir} (what every reader actually reads). */
    public static List<Path> sampleFiles(Path dir) {
        List<Path> out = new ArrayList<>();
        for (String n : sampleFileNames()) {
            Path p = dir.resolve(n);
            if (Files.exists(p)) out.add(p);
        }
        return out;
    }

    public BenchCgroups cgroups() {
        return cgroups;
    }

    @Override
    public void close() {
        cgroups.close();
    }
}
