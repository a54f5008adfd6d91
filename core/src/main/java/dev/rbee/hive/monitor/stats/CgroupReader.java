package dev.rbee.hive.monitor.stats;

import dev.rbee.hive.monitor.read.AsciiBuffer;
import dev.rbee.hive.monitor.read.CgroupCounters;
import dev.rbee.hive.monitor.read.CounterSource;
import dev.rbee.hive.monitor.read.KeptOpenFile;
import dev.rbee.hive.monitor.read.StatFile;
import dev.rbee.hive.monitor.model.CgroupException;
import dev.rbee.hive.monitor.cgroup.CpuController;
import dev.rbee.hive.monitor.cgroup.IoController;
import dev.rbee.hive.monitor.cgroup.MemoryController;
import dev.rbee.hive.monitor.cgroup.PidsController;
import dev.rbee.hive.monitor.cgroup.PressureController;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the stats of one cgroup directory, again and again, allocating nothing.
 *
 * <p>Each stats file is opened once, here; a file that does not exist
 * (controller not enabled, PSI off) is not retried on every sample: its fields
 * are absent with the controller's reason until {@link #refresh} finds it (the
 * collector calls it every {@code StatsCollector.REFRESH_EVERY} rounds).
 * Each {@link #read} re-reads every open file into one shared buffer and lets
 * the file's controller parse it into a reused {@link CgroupCounters}.
 *
 * <p>cgroup.procs is read last and decides whether the cgroup still exists: if
 * the cgroup was removed, even in the middle of a sample, it is gone (ENODEV),
 * {@code read} returns false and the reader closes its files: the series ends
 * without an exception.  A stats file that goes away while cgroup.procs stays
 * (a controller disabled in the parent) only makes its fields absent.
 *
 * <p>Sub-cgroups that the worker made itself (a nested supervisor, a container
 * runtime) are part of the worker: the kernel's counters already include them,
 * and their cgroup.procs files, found by {@link #refresh}, add their pids.
 *
 * <p>Not thread-safe: one sampling thread per reader.
 */
public final class CgroupReader implements CounterSource {
    private final Path dir;
    private final AsciiBuffer buffer = new AsciiBuffer();
    private final StatFile[] stats;
    private final KeptOpenFile[] files;
    private final KeptOpenFile procs;
    /** cgroup.procs of the worker's own sub-cgroups, as the last {@link #refresh} found them. */
    private KeptOpenFile[] subProcs = new KeptOpenFile[0];
    private boolean gone;

    /**
     * Opens the files of {@code cgroupDir}.
     *
     * @throws CgroupException if it is not a cgroup (no cgroup.procs: removed, or never was one)
     */
    public CgroupReader(Path cgroupDir) throws IOException {
        this.dir = cgroupDir;
        stats = statFiles().toArray(StatFile[]::new);
        files = new KeptOpenFile[stats.length];
        // cgroup.procs comes a page per read(2) when long: read it to the end
        procs = new KeptOpenFile(cgroupDir.resolve("cgroup.procs"), buffer, false);
        try {
            if (!procs.open())
                throw new CgroupException(cgroupDir, "ENOENT", "not a cgroup (no cgroup.procs): " + cgroupDir);
            for (int i = 0; i < stats.length; i++) {
                files[i] = new KeptOpenFile(cgroupDir.resolve(stats[i].name()), buffer, true);
                files[i].open();
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Every stats file a sample reads, in order: each controller's, then the pressure files (cgroup.procs last, apart). */
    public static List<StatFile> statFiles() {
        List<StatFile> all = new ArrayList<>();
        all.addAll(CpuController.INSTANCE.statFiles());
        all.addAll(MemoryController.INSTANCE.statFiles());
        all.addAll(IoController.INSTANCE.statFiles());
        all.addAll(PidsController.INSTANCE.statFiles());
        all.addAll(PressureController.INSTANCE.statFiles());
        return all;
    }

    @Override
    public java.util.Optional<Path> cgroup() {
        return java.util.Optional.of(dir);
    }

    public Path dir() {
        return dir;
    }

    /** Whether a read found the cgroup removed (then every read returns false). */
    public boolean isGone() {
        return gone;
    }

    /**
     * Reads every open file into {@code into}: each field present, or absent
     * with its reason; the pids of cgroup.procs in the kernel's order.
     *
     * @return false if the cgroup is gone ({@code into} then holds nothing valid)
     * @throws CgroupException if a file cannot be read for another reason than
     *                         its disappearance (it names the file and the error)
     */
    public boolean read(CgroupCounters into) throws IOException {
        if (gone) return false;
        for (int i = 0; i < stats.length; i++) {
            if (files[i].read() >= 0) stats[i].parse(buffer, into);
            else stats[i].absent(into);
        }
        into.clearPids();
        if (procs.read() < 0) {
            gone = true;
            close();
            return false;
        }
        addPids(into);
        for (KeptOpenFile sub : subProcs)
            if (sub.read() >= 0) addPids(into); // a sub-cgroup removed meanwhile just has no pids
        return true;
    }

    private void addPids(CgroupCounters into) {
        while (buffer.nextLine()) {
            long pid = buffer.unsigned();
            if (pid > 0) into.addPid(pid);
        }
    }

    /**
     * Opens files that were missing (a controller enabled later, PSI turned on)
     * and finds the sub-cgroups the worker made since the last call; allocates,
     * so call it occasionally, not every sample.  Returns how many files it opened.
     */
    @Override
    public int refresh() throws IOException {
        int opened = reopenMissing();
        if (gone) return opened;
        List<Path> subs = dev.rbee.hive.monitor.cgroup.CgroupFiles.subtree(dir);
        subs.remove(0); // the leaf itself: read by procs
        for (KeptOpenFile f : subProcs) f.close();
        List<KeptOpenFile> now = new ArrayList<>();
        for (Path sub : subs) {
            KeptOpenFile f = new KeptOpenFile(sub.resolve("cgroup.procs"), buffer, false);
            if (f.open()) now.add(f);
        }
        subProcs = now.toArray(KeptOpenFile[]::new);
        return opened + subProcs.length;
    }



    /**
     * Tries again to open the files that were missing or went away (a
     * controller enabled later, PSI turned on); allocates, so call it
     * occasionally, not every sample.
     *
     * @return how many files it opened
     */
    public int reopenMissing() throws IOException {
        if (gone) return 0;
        int opened = 0;
        for (KeptOpenFile f : files)
            if (!f.isOpen() && f.open()) opened++;
        return opened;
    }

    /** The names of the stats files that are not open (for diagnostics; allocates). */
    public List<String> missingFiles() {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < files.length; i++)
            if (files[i] == null || !files[i].isOpen()) out.add(stats[i].name());
        return out;
    }

    /** Releases every fd. */
    @Override
    public void close() {
        procs.close();
        for (KeptOpenFile f : subProcs) f.close();
        for (KeptOpenFile f : files)
            if (f != null) f.close();
    }
}
