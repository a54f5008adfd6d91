package dev.rbee.hive.monitor.model;

import java.util.Arrays;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * An immutable copy of one cgroup sample: every counter the kernel gave, and
 * for each one it did not, the reason.
 *
 * <p>Immutable: thread-safe.  (A {@link Source}, the sampler's mutable holder it copies from, is used by one thread.)
 */
public final class Counters {
    public enum Unit {
        USEC,
        BYTES,
        COUNT,
        /** Hundredths of a percent: 1234 is 12.34 % (PSI averages). */
        PERCENT_X100
    }

    /** The fields, with the file each comes from and its unit. */
    public enum Field {
        CPU_USAGE_USEC("cpu.stat", Unit.USEC),
        CPU_USER_USEC("cpu.stat", Unit.USEC),
        CPU_SYSTEM_USEC("cpu.stat", Unit.USEC),
        CPU_NR_PERIODS("cpu.stat", Unit.COUNT),
        CPU_NR_THROTTLED("cpu.stat", Unit.COUNT),
        CPU_THROTTLED_USEC("cpu.stat", Unit.USEC),
        MEMORY_CURRENT("memory.current", Unit.BYTES),
        MEMORY_PEAK("memory.peak", Unit.BYTES),
        MEMORY_MAX("memory.max", Unit.BYTES),
        MEMORY_HIGH("memory.high", Unit.BYTES),
        MEMORY_ANON("memory.stat", Unit.BYTES),
        MEMORY_FILE("memory.stat", Unit.BYTES),
        MEMORY_KERNEL("memory.stat", Unit.BYTES),
        MEMORY_SHMEM("memory.stat", Unit.BYTES),
        MEMORY_SOCK("memory.stat", Unit.BYTES),
        MEMORY_EVENTS_HIGH("memory.events", Unit.COUNT),
        MEMORY_EVENTS_MAX("memory.events", Unit.COUNT),
        MEMORY_EVENTS_OOM("memory.events", Unit.COUNT),
        MEMORY_EVENTS_OOM_KILL("memory.events", Unit.COUNT),
        IO_RBYTES("io.stat", Unit.BYTES),
        IO_WBYTES("io.stat", Unit.BYTES),
        IO_RIOS("io.stat", Unit.COUNT),
        IO_WIOS("io.stat", Unit.COUNT),
        PIDS_CURRENT("pids.current", Unit.COUNT),
        PIDS_MAX("pids.max", Unit.COUNT),
        PSI_CPU_SOME_AVG10("cpu.pressure", Unit.PERCENT_X100),
        PSI_CPU_SOME_AVG60("cpu.pressure", Unit.PERCENT_X100),
        PSI_CPU_SOME_AVG300("cpu.pressure", Unit.PERCENT_X100),
        PSI_CPU_SOME_TOTAL_USEC("cpu.pressure", Unit.USEC),
        PSI_CPU_FULL_AVG10("cpu.pressure", Unit.PERCENT_X100),
        PSI_CPU_FULL_AVG60("cpu.pressure", Unit.PERCENT_X100),
        PSI_CPU_FULL_AVG300("cpu.pressure", Unit.PERCENT_X100),
        PSI_CPU_FULL_TOTAL_USEC("cpu.pressure", Unit.USEC),
        PSI_MEMORY_SOME_AVG10("memory.pressure", Unit.PERCENT_X100),
        PSI_MEMORY_SOME_AVG60("memory.pressure", Unit.PERCENT_X100),
        PSI_MEMORY_SOME_AVG300("memory.pressure", Unit.PERCENT_X100),
        PSI_MEMORY_SOME_TOTAL_USEC("memory.pressure", Unit.USEC),
        PSI_MEMORY_FULL_AVG10("memory.pressure", Unit.PERCENT_X100),
        PSI_MEMORY_FULL_AVG60("memory.pressure", Unit.PERCENT_X100),
        PSI_MEMORY_FULL_AVG300("memory.pressure", Unit.PERCENT_X100),
        PSI_MEMORY_FULL_TOTAL_USEC("memory.pressure", Unit.USEC),
        PSI_IO_SOME_AVG10("io.pressure", Unit.PERCENT_X100),
        PSI_IO_SOME_AVG60("io.pressure", Unit.PERCENT_X100),
        PSI_IO_SOME_AVG300("io.pressure", Unit.PERCENT_X100),
        PSI_IO_SOME_TOTAL_USEC("io.pressure", Unit.USEC),
        PSI_IO_FULL_AVG10("io.pressure", Unit.PERCENT_X100),
        PSI_IO_FULL_AVG60("io.pressure", Unit.PERCENT_X100),
        PSI_IO_FULL_AVG300("io.pressure", Unit.PERCENT_X100),
        PSI_IO_FULL_TOTAL_USEC("io.pressure", Unit.USEC);

        private final String file;
        private final Unit unit;

        Field(String file, Unit unit) {
            this.file = file;
            this.unit = unit;
        }

        /** The cgroup file this field is read from. */
        public String file() {
            return file;
        }

        public Unit unit() {
            return unit;
        }
    }

    /**
     * What a copy is made from: a sampler's mutable holder of one read.  An
     * interface here, so that this value type depends on no reading code.
     */
    public interface Source {
        /** Whether the kernel gave {@code f}. */
        boolean isPresent(Field f);

        /** The value of {@code f}; only meaningful when it is present. */
        long get(Field f);

        /** Why {@code f} is absent; meaningful only when it is. */
        String reason(Field f);
    }

    private static final Field[] FIELDS = Field.values();

    private final long[] values = new long[FIELDS.length];
    private final String[] reasons;

    /** Copies the present values and absent reasons of {@code c}. */
    public Counters(Source c) {
        this(c, null);
    }

    /**
     * As {@link #Counters(Source)}, sharing {@code previous}'s reasons
     * (immutable) when they are the same: they seldom change between samples.
     */
    public Counters(Source c, Counters previous) {
        boolean same = previous != null;
        for (Field f : FIELDS) {
            if (c.isPresent(f)) values[f.ordinal()] = c.get(f);
            same = same && java.util.Objects.equals(previous.reasons[f.ordinal()], c.isPresent(f) ? null : c.reason(f));
        }
        if (same) {
            reasons = previous.reasons;
        } else {
            reasons = new String[FIELDS.length];
            for (Field f : FIELDS) if (!c.isPresent(f)) reasons[f.ordinal()] = c.reason(f);
        }
    }

    public OptionalLong get(Field f) {
        return reasons[f.ordinal()] == null ? OptionalLong.of(values[f.ordinal()]) : OptionalLong.empty();
    }

    /** Why {@code f} is absent; empty when it is present. */
    public Optional<String> absentReason(Field f) {
        return Optional.ofNullable(reasons[f.ordinal()]);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Counters c && Arrays.equals(values, c.values) && Arrays.equals(reasons, c.reasons);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(values) * 31 + Arrays.hashCode(reasons);
    }
}
