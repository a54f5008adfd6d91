package dev.rbee.hive.monitor.portable;

import dev.rbee.hive.monitor.stats.CgroupCounters;
import dev.rbee.hive.monitor.stats.CgroupCounters.Field;
import dev.rbee.hive.monitor.stats.CounterSource;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A worker's counters from {@link ProcessHandle} alone (any OS): CPU time of
 * the main process and its live descendants, resident memory where
 * {@link ResidentMemory} can read it.  Everything else is absent.
 */
public final class PortableSource implements CounterSource {
    public static final String NO_CGROUP = "portable backend: no cgroup";
    private final ProcessHandle main;

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
        for (ProcessHandle p : (Iterable<ProcessHandle>) () -> java.util.stream.Stream.concat(
                java.util.stream.Stream.of(main), main.descendants()).iterator()) {
            into.addPid(p.pid());
            Optional<Duration> cpu = p.info().totalCpuDuration();
            if (cpu.isPresent()) cpuNanos += cpu.get().toNanos();
            else cpuKnown = false;
            if (rssKnown) {
                OptionalLong r = ResidentMemory.of(p.pid());
                if (r.isPresent()) rss += r.getAsLong();
                else rssKnown = false;
            }
        }
        if (cpuKnown) into.set(Field.CPU_USAGE_USEC, cpuNanos / 1000);
        else into.absent(Field.CPU_USAGE_USEC, "portable backend: the OS did not give the CPU time of every process");
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
