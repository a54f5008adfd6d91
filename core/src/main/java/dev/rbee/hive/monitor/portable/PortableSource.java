package dev.rbee.hive.monitor.portable;

import dev.rbee.hive.monitor.read.CgroupCounters;
import dev.rbee.hive.monitor.model.Counters.Field;
import dev.rbee.hive.monitor.read.CounterSource;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A worker's counters from {@link ProcessHandle} alone (any OS): CPU time of
 * the main process and its live descendants, resident memory where
 * {@link ResidentMemory} can read it.  Everything else is absent.
 *
 * <p>The CPU total is a counter and never goes down: a descendant's time leaves
 * the sum when it exits ({@link ProcessHandle.Info#totalCpuDuration} is a
 * process's own time, without its reaped children's), so the last time seen of
 * each descendant that is gone is kept; and the total reported never falls below
 * the last (the descendants are read one at a time while they come and go).
 */
public final class PortableSource implements CounterSource {
    public static final String NO_CGROUP = "portable backend: no cgroup";
    private final ProcessHandle main;
    /** CPU nanoseconds of each process of the tree as last read (a handle is pid + start time). */
    private Map<ProcessHandle, Long> seen = new HashMap<>(), current = new HashMap<>();
    /** CPU nanoseconds of the processes that left the tree, and the last total reported. */
    private long exitedNanos, reportedNanos;

    public PortableSource(ProcessHandle main) {
        this.main = main;
    }

    @Override
    public boolean read(CgroupCounters into) {
        if (!main.isAlive()) return false;
        for (Field f : Field.values()) into.absent(f, NO_CGROUP);
        into.clearPids();
        long cpuNanos = 0, rss = 0;
        boolean cpuKnown = true, rssKnown = ResidentMemory.unsupportedReason() == null;
        current.clear();
        for (ProcessHandle p : (Iterable<ProcessHandle>) () -> java.util.stream.Stream.concat(
                java.util.stream.Stream.of(main), main.descendants()).iterator()) {
            into.addPid(p.pid());
            Optional<Duration> cpu = p.info().totalCpuDuration();
            if (cpu.isPresent()) {
                cpuNanos += cpu.get().toNanos();
                current.put(p, cpu.get().toNanos());
            } else {
                cpuKnown = false;
                Long before = seen.get(p);
                if (before != null) current.put(p, before); // still here: not to be counted as gone
            }
            if (rssKnown) {
                OptionalLong r = ResidentMemory.of(p.pid());
                if (r.isPresent()) rss += r.getAsLong();
                else rssKnown = false;
            }
        }
        for (Map.Entry<ProcessHandle, Long> e : seen.entrySet())
            if (!current.containsKey(e.getKey())) exitedNanos += e.getValue();
        Map<ProcessHandle, Long> swap = seen;
        seen = current;
        current = swap;
        if (cpuKnown) {
            reportedNanos = Math.max(reportedNanos, cpuNanos + exitedNanos);
            into.set(Field.CPU_USAGE_USEC, reportedNanos / 1000);
        } else {
            into.absent(Field.CPU_USAGE_USEC, "portable backend: the OS did not give the CPU time of every process");
        }
        if (rssKnown) into.set(Field.MEMORY_ANON, rss);
        else into.absent(Field.MEMORY_ANON, ResidentMemory.unsupportedReason() != null ? ResidentMemory.unsupportedReason()
                : "portable backend: resident memory not readable for every process");
        into.set(Field.PIDS_CURRENT, into.pidCount());
        return true;
    }

    @Override
    public Optional<Path> cgroup() {
        return Optional.empty();
    }

    @Override
    public OptionalLong mainPid() {
        return OptionalLong.of(main.pid());
    }

    @Override
    public Optional<Instant> mainStart() {
        return main.info().startInstant();
    }

    @Override
    public void close() {
        // nothing kept open
    }
}
