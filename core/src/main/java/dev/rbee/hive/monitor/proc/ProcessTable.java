package dev.rbee.hive.monitor.proc;

import dev.rbee.hive.monitor.read.AsciiBuffer;
import dev.rbee.hive.monitor.read.KeptOpenFile;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Every process of the machine, for the process-tree backend: one pass over
 * /proc per round, each process's stat file opened once and re-read while the
 * process lives (the same kept-open reading as the cgroup files).
 */
public final class ProcessTable implements AutoCloseable {
    /** What the process-tree backend needs of one process. */
    public static final class Entry {
        final KeptOpenFile stat;
        public long ppid, session, startTicks, cpuTicks, reapedChildCpuTicks;
        public byte state;
        boolean seen;

        Entry(Path dir, AsciiBuffer buf) {
            stat = new KeptOpenFile(dir.resolve("stat"), buf, true);
        }
    }

    private final Path proc;
    private final AsciiBuffer buf = new AsciiBuffer();
    private final Map<Long, Entry> entries = new HashMap<>();
    private final Map<Long, List<Long>> children = new HashMap<>();

    public ProcessTable() {
        this(Path.of("/proc"));
    }

    ProcessTable(Path proc) {
        this.proc = proc;
    }

    /** Re-reads every process; new ones are opened, gone ones closed. */
    public synchronized void refresh() throws IOException {
        for (Entry e : entries.values()) e.seen = false;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(proc)) {
            for (Path d : ds) {
                String name = d.getFileName().toString();
                if (name.isEmpty() || name.charAt(0) < '1' || name.charAt(0) > '9') continue;
                long pid;
                try {
                    pid = Long.parseLong(name);
                } catch (NumberFormatException e) {
                    continue;
                }
                Entry e = entries.get(pid);
                if (e == null) {
                    e = new Entry(d, buf);
                    if (!e.stat.open()) continue;
                    entries.put(pid, e);
                }
                if (read(e)) e.seen = true;
            }
        }
        children.clear();
        for (Iterator<Map.Entry<Long, Entry>> it = entries.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Long, Entry> me = it.next();
            if (!me.getValue().seen) {
                me.getValue().stat.close();
                it.remove();
            } else {
                children.computeIfAbsent(me.getValue().ppid, k -> new ArrayList<>()).add(me.getKey());
            }
        }
    }

    /** Fields after the command name's last ')': state ppid pgrp session ... utime(14) stime cutime cstime ... starttime(22). */
    private boolean read(Entry e) throws IOException {
        if (e.stat.read() <= 0 || !buf.nextLine() || !buf.skipPastLast((byte) ')')) return false;
        e.state = buf.letter();
        e.ppid = buf.unsigned();
        buf.unsigned(); // pgrp
        e.session = buf.unsigned();
        for (int f = 7; f <= 13; f++) buf.skipWord(); // tty_nr .. majflt... up to cmajflt
        long utime = buf.unsigned(), stime = buf.unsigned(), cutime = buf.unsigned(), cstime = buf.unsigned();
        for (int f = 18; f <= 21; f++) buf.skipWord(); // priority nice num_threads itrealvalue
        e.startTicks = buf.unsigned();
        e.cpuTicks = utime + stime;
        e.reapedChildCpuTicks = cutime + cstime;
        return true;
    }

    public synchronized Entry get(long pid) {
        return entries.get(pid);
    }

    /**
     * The worker's tree: {@code main} and its descendants, plus every process of
     * its session (a child that double-forked and was re-parented stays in the
     * session the launcher made with setsid).
     */
    public synchronized Set<Long> tree(long main) {
        Set<Long> out = new LinkedHashSet<>();
        ArrayDeque<Long> todo = new ArrayDeque<>();
        if (entries.containsKey(main)) todo.add(main);
        // Session members too: they stay after the main process is gone, until they are killed.
        for (Map.Entry<Long, Entry> me : entries.entrySet())
            if (me.getValue().session == main) todo.add(me.getKey());
        while (!todo.isEmpty()) {
            long p = todo.pop();
            if (out.add(p)) todo.addAll(children.getOrDefault(p, List.of()));
        }
        return out;
    }

    /** The members of {@link #tree} that have not exited (zombies are dead, only not yet reaped). */
    public synchronized Set<Long> liveTree(long main) {
        Set<Long> t = tree(main);
        t.removeIf(p -> entries.get(p).state == 'Z' || entries.get(p).state == 'X');
        return t;
    }

    @Override
    public synchronized void close() {
        entries.values().forEach(e -> e.stat.close());
        entries.clear();
    }
}
