package dev.rbee.hive.monitor.proc;

import dev.rbee.hive.monitor.model.Counters;
import dev.rbee.hive.monitor.internal.Libc;
import dev.rbee.hive.monitor.read.AsciiBuffer;
import dev.rbee.hive.monitor.read.CgroupCounters;
import dev.rbee.hive.monitor.model.Counters.Field;
import dev.rbee.hive.monitor.read.CounterSource;
import dev.rbee.hive.monitor.read.KeptOpenFile;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A worker's counters summed over its process tree, for machines without a
 * writable cgroup2: CPU from /proc/PID/stat, anonymous memory from statm
 * (resident - shared pages), I/O from /proc/PID/io.  Every other field is
 * absent: there is no cgroup.
 *
 * <p>The CPU total is a counter and never goes down.  A process's time does not
 * vanish when it exits: the parent that reaps it adds it to its own reaped
 * children's time (cutime+cstime), so each member counts its own time plus that.
 * A member reaped by a process outside the tree (re-parented to init or a
 * subreaper) takes its time away with it: its last seen time is kept here.  The
 * tree is read one process at a time, so an exit between two reads can still
 * show a lower sum for one round, and a parent that ignores SIGCHLD has its
 * children reaped by the kernel, their time added nowhere: the total reported
 * never falls below the last.
 */
public final class ProcTreeSource implements CounterSource {
    public static final String NO_CGROUP = "process-tree backend: no cgroup";
    /** statm counts pages, whose size depends on the kernel (aarch64: 4, 16 or 64 KiB). */
    private static final long PAGE = Libc.pageSize();
    private static final byte[][] IO_KEYS = AsciiBuffer.names("read_bytes:", "write_bytes:");

    private final ProcessTable table;
    private final long main, mainStartTicks;
    private final AsciiBuffer buf = new AsciiBuffer();
    private final Map<Long, KeptOpenFile[]> files = new HashMap<>(); // statm, io per pid
    /** Each member of the tree as last read (swapped with {@code current} every round). */
    private Map<Long, Seen> seen = new HashMap<>(), current = new HashMap<>();
    /** CPU ticks of members that left the tree without a member reaping them. */
    private long exitedTicks;
    /** The last CPU total reported, in ticks: the floor of the next. */
    private long reportedTicks;

    /** A member as last read: its time and that of the children it reaped, and who its parent was. */
    private record Seen(long startTicks, long ppid, long ticks) {}

    /** @param table refreshed by the caller once per round, before {@link #read} */
    public ProcTreeSource(ProcessTable table, long main, long mainStartTicks) {
        this.table = table;
        this.main = main;
        this.mainStartTicks = mainStartTicks;
    }

    @Override
    public Optional<Path> cgroup() {
        return Optional.empty();
    }

    @Override
    public boolean read(CgroupCounters into) throws IOException {
        ProcessTable.Entry m = table.get(main);
        if (m == null || m.startTicks != mainStartTicks) {
            close();
            return false; // the main process is gone (or its pid reused)
        }
        Set<Long> tree = table.tree(main);
        for (Counters.Field f : Counters.Field.values()) into.absent(f, NO_CGROUP);
        into.clearPids();
        long ticks = 0, anonPages = 0, rbytes = 0, wbytes = 0;
        boolean ioOk = true;
        current.clear();
        for (long pid : tree) {
            ProcessTable.Entry e = table.get(pid);
            if (e == null) continue;
            into.addPid(pid);
            long own = e.cpuTicks + e.reapedChildCpuTicks;
            ticks += own;
            current.put(pid, new Seen(e.startTicks, e.ppid, own));
            KeptOpenFile[] f = files.computeIfAbsent(pid, p -> open(p));
            if (f[0].read() > 0 && buf.nextLine()) {
                buf.unsigned(); // size
                long resident = buf.unsigned(), shared = buf.unsigned();
                if (resident >= shared && shared >= 0) anonPages += resident - shared;
            }
            if (f[1].isOpen() && f[1].read() > 0) {
                while (buf.nextLine()) {
                    int k = buf.word(IO_KEYS);
                    if (k == 0) rbytes += buf.unsigned();
                    else if (k == 1) wbytes += buf.unsigned();
                }
            } else {
                ioOk = false;
            }
        }
        for (Iterator<Long> it = files.keySet().iterator(); it.hasNext(); ) {
            long pid = it.next();
            if (!tree.contains(pid)) {
                for (KeptOpenFile f : files.get(pid)) f.close();
                it.remove();
            }
        }
        for (Map.Entry<Long, Seen> gone : seen.entrySet())
            if (!isSameProcess(current.get(gone.getKey()), gone.getValue()) && !reapedInside(gone.getValue()))
                exitedTicks += gone.getValue().ticks();
        Map<Long, Seen> swap = seen;
        seen = current;
        current = swap;
        reportedTicks = Math.max(reportedTicks, ticks + exitedTicks);
        into.set(Field.CPU_USAGE_USEC, reportedTicks * 1_000_000 / ProcStat.TICKS_PER_SECOND);
        into.set(Field.MEMORY_ANON, anonPages * PAGE);
        into.set(Field.PIDS_CURRENT, into.pidCount());
        if (ioOk) {
            into.set(Field.IO_RBYTES, rbytes);
            into.set(Field.IO_WBYTES, wbytes);
        } else {
            into.absent(Field.IO_RBYTES, "process-tree backend: /proc/PID/io not readable for every process");
            into.absent(Field.IO_WBYTES, "process-tree backend: /proc/PID/io not readable for every process");
        }
        return true;
    }

    private static boolean isSameProcess(Seen now, Seen before) {
        return now != null && now.startTicks() == before.startTicks();
    }

    /**
     * Whether a member that left was reaped by a member, which then holds its
     * time: its parent is still in the tree (only the parent reaps a child), or
     * left too and was itself, up the chain, reaped inside.  Otherwise a process
     * outside the tree reaped it (it had been re-parented) and its time is ours to keep.
     */
    private boolean reapedInside(Seen gone) {
        Seen child = gone;
        for (int depth = 0; depth <= seen.size(); depth++) { // bounded: pids of two rounds can form a loop
            Seen parentNow = current.get(child.ppid()), parentBefore = seen.get(child.ppid());
            if (parentNow != null && (parentBefore == null || isSameProcess(parentNow, parentBefore))) return true;
            if (parentBefore == null) return false;
            child = parentBefore;
        }
        return false;
    }

    private KeptOpenFile[] open(long pid) {
        Path dir = Path.of("/proc", Long.toString(pid));
        KeptOpenFile statm = new KeptOpenFile(dir.resolve("statm"), buf, true);
        KeptOpenFile io = new KeptOpenFile(dir.resolve("io"), buf, true);
        try {
            statm.open();
            io.open();
        } catch (IOException e) {
            // EACCES on another user's io file: its figures are absent, with the reason above
        }
        return new KeptOpenFile[] {statm, io};
    }

    @Override
    public void close() {
        files.values().forEach(f -> {
            f[0].close();
            f[1].close();
        });
        files.clear();
    }
}
