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
import dev.rbee.hive.monitor.internal.Errno;
import dev.rbee.hive.monitor.internal.FdBudget;
import dev.rbee.hive.monitor.internal.Libc;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads the stats of one cgroup directory, again and again, allocating nothing.
 *
 * <p>Two tiers.  The <b>fast tier</b> (cpu.stat, memory.current, pids.current)
 * and cgroup.procs are opened once and kept open: at most {@value
 * FdBudget#PER_WORKER} fds per worker, re-read with pread every round.  The
 * <b>slow tier</b> (memory.stat, memory.events, memory.peak/max/high, io.stat,
 * pids.max, the pressure files) is read only by a full read ({@link
 * #read(CgroupCounters, boolean)} with {@code full}): the directory is opened,
 * each file opened relative to it, read and closed, and the directory closed
 * again, so the slow tier holds no fd between reads (the files are named by
 * constant native strings and the directory by one made here: no allocation).
 *
 * <p>A file that does not exist (controller not enabled, PSI off) is not
 * retried on every read: its fields are absent with the controller's reason
 * until {@link #refresh} finds it (the collector calls it every {@code
 * StatsCollector.REFRESH_EVERY} rounds).
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
 * <p><b>One set of files per leaf in the JVM.</b> {@link #shared} hands out
 * handles on one reader per leaf path, counted: the monitor's collector, every
 * {@code Sampler}, and {@code serve} read the same fds.  Rates stay per reader:
 * a handle reads into the caller's own counters (each {@link WorkerSeries} keeps
 * its own previous sample), so a handle only lends the files.
 *
 * <p>Threading: a reader made with the constructor is used by one thread at a
 * time.  A shared reader may be read from any thread through its handles: reads
 * of one leaf are serialised on the reader (its files' state), reads of
 * different leaves run in parallel, each thread into its own buffer; the registry is guarded by its own lock,
 * taken only to hand out and return handles.
 */
public final class CgroupReader implements CounterSource {
    /** Kept open and read every round, with cgroup.procs. */
    static final Set<String> FAST = Set.of("cpu.stat", "memory.current", "pids.current");
    private static final StatFile[] ALL = statFiles().toArray(StatFile[]::new);
    private static final StatFile[] FAST_FILES = java.util.Arrays.stream(ALL).filter(f -> FAST.contains(f.name())).toArray(StatFile[]::new);
    private static final StatFile[] SLOW_FILES = java.util.Arrays.stream(ALL).filter(f -> !FAST.contains(f.name())).toArray(StatFile[]::new);
    /** The slow tier's names as NUL-terminated native strings, for openat without allocating. */
    private static final MemorySegment[] SLOW_NAMES = java.util.Arrays.stream(SLOW_FILES)
            .map(f -> Arena.global().allocateFrom(f.name())).toArray(MemorySegment[]::new);
    private static final int O_READ = Libc.O_RDONLY | Libc.O_CLOEXEC;
    private static final int O_DIR = Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC;

    private final Path dir;
    /** The directory's path, NUL-terminated, freed with this reader. */
    private final MemorySegment dirName;
    /** statx's answer, reused: {@link #refresh} lists the directory only when its link count says it has subdirectories. */
    private final MemorySegment statx;
    /**
     * One buffer per reading thread, not per reader: 8 KiB (direct + heap copy)
     * per worker would be most of a worker's memory at 10 000 workers.  Reads of
     * one leaf are serialised, and a thread reads one file at a time.
     */
    private static final ThreadLocal<AsciiBuffer> BUFFERS = ThreadLocal.withInitial(AsciiBuffer::new);
    private final KeptOpenFile[] files;
    private final KeptOpenFile procs;
    /** Bit i: slow file i was missing at the last look; not opened again until {@link #refresh}. */
    private long slowMissing;
    /** cgroup.procs of the worker's own sub-cgroups, as the last {@link #refresh} found them. */
    private KeptOpenFile[] subProcs = new KeptOpenFile[0];
    private boolean gone;
    /** Handles out on this reader (guarded by {@link #SHARED}); 0 for an unshared reader. */
    private int users;

    /**
     * Opens the fast tier's files of {@code cgroupDir} and looks for the slow tier's.
     *
     * @throws CgroupException if it is not a cgroup (no cgroup.procs: removed, or never was one)
     */
    public CgroupReader(Path cgroupDir) throws IOException {
        this.dir = cgroupDir;
        Arena arena = Arena.ofAuto(); // freed with this reader
        this.dirName = arena.allocateFrom(cgroupDir.toString());
        this.statx = arena.allocate(Libc.STATX_SIZE, 8);
        files = new KeptOpenFile[FAST_FILES.length];
        // cgroup.procs comes a page per read(2) when long: read it to the end
        procs = new KeptOpenFile(cgroupDir.resolve("cgroup.procs"), null, false);
        try {
            if (!procs.open())
                throw new CgroupException(cgroupDir, "ENOENT", "not a cgroup (no cgroup.procs): " + cgroupDir);
            for (int i = 0; i < FAST_FILES.length; i++) {
                files[i] = new KeptOpenFile(cgroupDir.resolve(FAST_FILES[i].name()), null, true);
                files[i].open();
            }
            probeSlow();
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

    /** The stats files read every round (kept open), in {@link #statFiles} order. */
    public static List<String> fastFileNames() {
        return java.util.Arrays.stream(FAST_FILES).map(StatFile::name).toList();
    }

    /** The stats files read only by a full read (opened, read, closed), in {@link #statFiles} order. */
    public static List<String> slowFileNames() {
        return java.util.Arrays.stream(SLOW_FILES).map(StatFile::name).toList();
    }

    @Override
    public Optional<Path> cgroup() {
        return Optional.of(dir);
    }

    public Path dir() {
        return dir;
    }

    /** Whether a read found the cgroup removed (then every read returns false). */
    public boolean isGone() {
        return gone;
    }

    /** A full read: both tiers.  See {@link #read(CgroupCounters, boolean)}. */
    @Override
    public boolean read(CgroupCounters into) throws IOException {
        return read(into, true);
    }

    /**
     * Reads the fast tier (and with {@code full} the slow tier) into {@code into}:
     * each field read present, or absent with its reason; the pids of
     * cgroup.procs in the kernel's order.  Without {@code full} the slow tier's
     * fields of {@code into} are left as they are (the caller's last values).
     *
     * @return false if the cgroup is gone ({@code into} then holds nothing valid)
     * @throws CgroupException if a file cannot be read for another reason than
     *                         its disappearance (it names the file and the error)
     */
    @Override
    public boolean read(CgroupCounters into, boolean full) throws IOException {
        if (gone) return false;
        AsciiBuffer buffer = BUFFERS.get();
        for (int i = 0; i < FAST_FILES.length; i++) {
            if (files[i].read(buffer) >= 0) FAST_FILES[i].parse(buffer, into);
            else FAST_FILES[i].absent(into);
        }
        if (full) readSlow(into, buffer);
        into.clearPids();
        if (procs.read(buffer) < 0) {
            gone = true;
            close();
            return false;
        }
        addPids(buffer, into);
        for (KeptOpenFile sub : subProcs)
            if (sub.read(buffer) >= 0) addPids(buffer, into); // a sub-cgroup removed meanwhile just has no pids
        return true;
    }

    /** The slow tier: opened relative to the directory, read, closed; a missing directory leaves cgroup.procs to say gone. */
    private void readSlow(CgroupCounters into, AsciiBuffer buffer) throws IOException {
        int dfd = Libc.openatRaw(Libc.AT_FDCWD, dirName, O_DIR);
        if (dfd < 0) {
            for (StatFile f : SLOW_FILES) f.absent(into);
            return;
        }
        try {
            for (int i = 0; i < SLOW_FILES.length; i++) {
                StatFile f = SLOW_FILES[i];
                if ((slowMissing & (1L << i)) != 0) {
                    f.absent(into);
                    continue;
                }
                int fd = Libc.openatRaw(dfd, SLOW_NAMES[i], O_READ);
                if (fd < 0) fd = Libc.openat(dfd, f.name(), O_READ); // rare: learn the errno (allocates)
                if (fd < 0) {
                    if (!KeptOpenFile.gone(-fd)) throw failure("open", f, -fd);
                    slowMissing |= 1L << i;
                    f.absent(into);
                    continue;
                }
                int n;
                try {
                    n = KeptOpenFile.readFd(fd, buffer, true);
                } finally {
                    Libc.closeRaw(fd);
                }
                if (n >= 0) {
                    f.parse(buffer, into);
                } else {
                    if (!KeptOpenFile.gone(-n)) throw failure("read", f, -n);
                    if (n != -Errno.ENODEV) slowMissing |= 1L << i; // EOPNOTSUPP: PSI off; ENODEV: the cgroup went
                    f.absent(into);
                }
            }
        } finally {
            Libc.closeRaw(dfd);
        }
    }

    private CgroupException failure(String op, StatFile f, int errno) {
        String name = Libc.errnoName(errno);
        Path file = dir.resolve(f.name());
        return new CgroupException(file, name, "cannot " + op + " " + file + ": " + name);
    }

    /** Marks the slow files that do not exist now (allocates: at open and in refresh only); returns how many came back. */
    private int probeSlow() throws IOException {
        int back = 0;
        for (int i = 0; i < SLOW_FILES.length; i++) {
            Path file = dir.resolve(SLOW_FILES[i].name());
            int fd = Libc.open(file.toString(), O_READ, 0);
            if (fd >= 0) {
                Libc.closeRaw(fd);
                if ((slowMissing & (1L << i)) != 0) back++;
                slowMissing &= ~(1L << i);
            } else if (KeptOpenFile.gone(-fd)) {
                slowMissing |= 1L << i;
            } else {
                throw failure("open", SLOW_FILES[i], -fd);
            }
        }
        return back;
    }

    private static void addPids(AsciiBuffer buffer, CgroupCounters into) {
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
        // 2 links: no subdirectory, no sub-cgroup (the usual case: no listing, no allocation)
        if (Libc.linkCount(dirName, statx) == 2) {
            for (KeptOpenFile f : subProcs) f.close();
            if (subProcs.length > 0) subProcs = new KeptOpenFile[0];
            return opened;
        }
        List<Path> subs = dev.rbee.hive.monitor.cgroup.CgroupFiles.subtree(dir);
        subs.remove(0); // the leaf itself: read by procs
        for (KeptOpenFile f : subProcs) f.close();
        List<KeptOpenFile> now = new ArrayList<>();
        for (Path sub : subs) {
            KeptOpenFile f = new KeptOpenFile(sub.resolve("cgroup.procs"), null, false);
            if (f.open()) now.add(f);
        }
        subProcs = now.toArray(KeptOpenFile[]::new);
        return opened + subProcs.length;
    }

    /**
     * Tries again the files that were missing or went away (a controller
     * enabled later, PSI turned on); allocates, so call it occasionally, not
     * every sample.
     *
     * @return how many files it found again
     */
    public int reopenMissing() throws IOException {
        if (gone) return 0;
        int opened = 0;
        for (KeptOpenFile f : files)
            if (!f.isOpen() && f.open()) opened++;
        return slowMissing == 0 ? opened : opened + probeSlow();
    }

    /** The names of the stats files that are not there (for diagnostics; allocates), in {@link #statFiles} order. */
    public List<String> missingFiles() {
        List<String> missing = new ArrayList<>();
        for (int i = 0; i < files.length; i++)
            if (files[i] == null || !files[i].isOpen()) missing.add(FAST_FILES[i].name());
        for (int i = 0; i < SLOW_FILES.length; i++)
            if ((slowMissing & (1L << i)) != 0) missing.add(SLOW_FILES[i].name());
        List<String> out = new ArrayList<>();
        for (StatFile f : ALL) if (missing.contains(f.name())) out.add(f.name());
        return out;
    }

    /** Fds this reader holds open now (the fast tier's files and cgroup.procs, and sub-cgroups' cgroup.procs). */
    public int openFds() {
        int n = procs.isOpen() ? 1 : 0;
        for (KeptOpenFile f : files) if (f != null && f.isOpen()) n++;
        for (KeptOpenFile f : subProcs) if (f.isOpen()) n++;
        return n;
    }

    /** Releases every fd. */
    @Override
    public void close() {
        procs.close();
        for (KeptOpenFile f : subProcs) f.close();
        for (KeptOpenFile f : files)
            if (f != null) f.close();
    }

    // ---- one reader per leaf in the JVM ----

    /** The shared readers by leaf path; guarded by itself. */
    private static final Map<Path, CgroupReader> SHARED = new HashMap<>();

    /**
     * A handle on the JVM's one reader of {@code leaf}, opened by the first
     * caller and closed when its last handle closes.  A reader that found its
     * cgroup gone is replaced by a new one (a new cgroup under the same path).
     *
     * @throws CgroupException if it is not a cgroup, or (EMFILE/ENFILE) if the
     *                         open-files limit is too low, naming both limits and the worker count
     */
    public static CounterSource shared(Path leaf) throws IOException {
        synchronized (SHARED) {
            CgroupReader r = SHARED.get(leaf);
            if (r == null || r.gone) {
                try {
                    r = new CgroupReader(leaf);
                } catch (CgroupException e) {
                    String errno = e.errno().orElse("");
                    if (!errno.equals("EMFILE") && !errno.equals("ENFILE")) throw e;
                    throw new CgroupException(e.file(), errno, FdBudget.tooLow(e.file().toString(), errno, SHARED.size() + 1));
                }
                SHARED.put(leaf, r);
            }
            r.users++;
            return new Handle(r);
        }
    }

    /** How many leaves have a shared reader now (for the fd counts of tests and benchmarks). */
    public static int sharedCount() {
        synchronized (SHARED) {
            return SHARED.size();
        }
    }

    /** One user's view of a shared reader; closing it returns it (idempotent). */
    private static final class Handle implements CounterSource {
        private final CgroupReader r;
        private boolean closed;

        Handle(CgroupReader r) {
            this.r = r;
        }

        @Override
        public boolean read(CgroupCounters into) throws IOException {
            return read(into, true);
        }

        @Override
        public boolean read(CgroupCounters into, boolean full) throws IOException {
            synchronized (r) {
                return r.read(into, full);
            }
        }

        @Override
        public Optional<Path> cgroup() {
            return r.cgroup();
        }

        @Override
        public int refresh() throws IOException {
            synchronized (r) {
                return r.refresh();
            }
        }

        @Override
        public void close() {
            synchronized (SHARED) {
                if (closed) return;
                closed = true;
                if (--r.users > 0) return;
                if (SHARED.get(r.dir) == r) SHARED.remove(r.dir);
            }
            synchronized (r) {
                r.close();
            }
        }
    }
}
