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
    /** What a field's value counts. */
    public enum Unit {
        /** Microseconds. */
        USEC,
        /** Bytes. */
        BYTES,
        /** Events, pages, processes or periods: a plain count. */
        COUNT,
        /** Hundredths of a percent: 1234 is 12.34 % (PSI averages). */
        PERCENT_X100
    }

    /**
     * The fields, with the cgroup file each comes from and its unit.  The other
     * backends fill what they can in the same units (the CPU times of the process
     * tree, for one) and leave the rest absent with the reason.
     */
    public enum Field {
        /** cpu.stat usage_usec. */
        CPU_USAGE_USEC("cpu.stat", Unit.USEC),
        /** cpu.stat user_usec. */
        CPU_USER_USEC("cpu.stat", Unit.USEC),
        /** cpu.stat system_usec. */
        CPU_SYSTEM_USEC("cpu.stat", Unit.USEC),
        /** cpu.stat nr_periods. */
        CPU_NR_PERIODS("cpu.stat", Unit.COUNT),
        /** cpu.stat nr_throttled. */
        CPU_NR_THROTTLED("cpu.stat", Unit.COUNT),
        /** cpu.stat throttled_usec. */
        CPU_THROTTLED_USEC("cpu.stat", Unit.USEC),
        /** memory.current. */
        MEMORY_CURRENT("memory.current", Unit.BYTES),
        /** memory.peak. */
        MEMORY_PEAK("memory.peak", Unit.BYTES),
        /** memory.max ({@link Long#MAX_VALUE} for "max"). */
        MEMORY_MAX("memory.max", Unit.BYTES),
        /** memory.high ({@link Long#MAX_VALUE} for "max"). */
        MEMORY_HIGH("memory.high", Unit.BYTES),
        /** memory.stat anon. */
        MEMORY_ANON("memory.stat", Unit.BYTES),
        /** memory.stat file. */
        MEMORY_FILE("memory.stat", Unit.BYTES),
        /** memory.stat kernel. */
        MEMORY_KERNEL("memory.stat", Unit.BYTES),
        /** memory.stat shmem. */
        MEMORY_SHMEM("memory.stat", Unit.BYTES),
        /** memory.stat sock. */
        MEMORY_SOCK("memory.stat", Unit.BYTES),
        /** memory.events high. */
        MEMORY_EVENTS_HIGH("memory.events", Unit.COUNT),
        /** memory.events max. */
        MEMORY_EVENTS_MAX("memory.events", Unit.COUNT),
        /** memory.events oom. */
        MEMORY_EVENTS_OOM("memory.events", Unit.COUNT),
        /** memory.events oom_kill. */
        MEMORY_EVENTS_OOM_KILL("memory.events", Unit.COUNT),
        /** io.stat rbytes, summed over the devices. */
        IO_RBYTES("io.stat", Unit.BYTES),
        /** io.stat wbytes, summed over the devices. */
        IO_WBYTES("io.stat", Unit.BYTES),
        /** io.stat rios, summed over the devices. */
        IO_RIOS("io.stat", Unit.COUNT),
        /** io.stat wios, summed over the devices. */
        IO_WIOS("io.stat", Unit.COUNT),
        /** pids.current. */
        PIDS_CURRENT("pids.current", Unit.COUNT),
        /** pids.max ({@link Long#MAX_VALUE} for "max"). */
        PIDS_MAX("pids.max", Unit.COUNT),
        /** cpu.pressure some avg10: share of time stalled, in hundredths of a percent. */
        PSI_CPU_SOME_AVG10("cpu.pressure", Unit.PERCENT_X100),
        /** cpu.pressure some avg60: share of time stalled, in hundredths of a percent. */
        PSI_CPU_SOME_AVG60("cpu.pressure", Unit.PERCENT_X100),
        /** cpu.pressure some avg300: share of time stalled, in hundredths of a percent. */
        PSI_CPU_SOME_AVG300("cpu.pressure", Unit.PERCENT_X100),
        /** cpu.pressure some total: microseconds stalled. */
        PSI_CPU_SOME_TOTAL_USEC("cpu.pressure", Unit.USEC),
        /** cpu.pressure full avg10: share of time stalled, in hundredths of a percent. */
        PSI_CPU_FULL_AVG10("cpu.pressure", Unit.PERCENT_X100),
        /** cpu.pressure full avg60: share of time stalled, in hundredths of a percent. */
        PSI_CPU_FULL_AVG60("cpu.pressure", Unit.PERCENT_X100),
        /** cpu.pressure full avg300: share of time stalled, in hundredths of a percent. */
        PSI_CPU_FULL_AVG300("cpu.pressure", Unit.PERCENT_X100),
        /** cpu.pressure full total: microseconds stalled. */
        PSI_CPU_FULL_TOTAL_USEC("cpu.pressure", Unit.USEC),
        /** memory.pressure some avg10: share of time stalled, in hundredths of a percent. */
        PSI_MEMORY_SOME_AVG10("memory.pressure", Unit.PERCENT_X100),
        /** memory.pressure some avg60: share of time stalled, in hundredths of a percent. */
        PSI_MEMORY_SOME_AVG60("memory.pressure", Unit.PERCENT_X100),
        /** memory.pressure some avg300: share of time stalled, in hundredths of a percent. */
        PSI_MEMORY_SOME_AVG300("memory.pressure", Unit.PERCENT_X100),
        /** memory.pressure some total: microseconds stalled. */
        PSI_MEMORY_SOME_TOTAL_USEC("memory.pressure", Unit.USEC),
        /** memory.pressure full avg10: share of time stalled, in hundredths of a percent. */
        PSI_MEMORY_FULL_AVG10("memory.pressure", Unit.PERCENT_X100),
        /** memory.pressure full avg60: share of time stalled, in hundredths of a percent. */
        PSI_MEMORY_FULL_AVG60("memory.pressure", Unit.PERCENT_X100),
        /** memory.pressure full avg300: share of time stalled, in hundredths of a percent. */
        PSI_MEMORY_FULL_AVG300("memory.pressure", Unit.PERCENT_X100),
        /** memory.pressure full total: microseconds stalled. */
        PSI_MEMORY_FULL_TOTAL_USEC("memory.pressure", Unit.USEC),
        /** io.pressure some avg10: share of time stalled, in hundredths of a percent. */
        PSI_IO_SOME_AVG10("io.pressure", Unit.PERCENT_X100),
        /** io.pressure some avg60: share of time stalled, in hundredths of a percent. */
        PSI_IO_SOME_AVG60("io.pressure", Unit.PERCENT_X100),
        /** io.pressure some avg300: share of time stalled, in hundredths of a percent. */
        PSI_IO_SOME_AVG300("io.pressure", Unit.PERCENT_X100),
        /** io.pressure some total: microseconds stalled. */
        PSI_IO_SOME_TOTAL_USEC("io.pressure", Unit.USEC),
        /** io.pressure full avg10: share of time stalled, in hundredths of a percent. */
        PSI_IO_FULL_AVG10("io.pressure", Unit.PERCENT_X100),
        /** io.pressure full avg60: share of time stalled, in hundredths of a percent. */
        PSI_IO_FULL_AVG60("io.pressure", Unit.PERCENT_X100),
        /** io.pressure full avg300: share of time stalled, in hundredths of a percent. */
        PSI_IO_FULL_AVG300("io.pressure", Unit.PERCENT_X100),
        /** io.pressure full total: microseconds stalled. */
        PSI_IO_FULL_TOTAL_USEC("io.pressure", Unit.USEC);

        private final String file;
        private final Unit unit;

        Field(String file, Unit unit) {
            this.file = file;
            this.unit = unit;
        }

        /**
         * The cgroup file this field is read from.
         *
         * @return its name, e.g. {@code cpu.stat}
         */
        public String file() {
            return file;
        }

        /**
         * What the value counts.
         *
         * @return the unit
         */
        public Unit unit() {
            return unit;
        }
    }

    /**
     * What a copy is made from: a sampler's mutable holder of one read.  An
     * interface here, so that this value type depends on no reading code.
     */
    public interface Source {
        /**
         * Whether the kernel gave {@code f}.
         *
         * @param f the field
         * @return true when it has a value
         */
        boolean isPresent(Field f);

        /**
         * The value of {@code f}; only asked for when it is present.
         *
         * @param f the field
         * @return its value, in its {@link Field#unit()}
         */
        long get(Field f);

        /**
         * Why {@code f} is absent; only asked for when it is.
         *
         * @param f the field
         * @return the reason, e.g. "memory controller not enabled"
         */
        String reason(Field f);

        /**
         * How old the values of the slow tier (memory.stat, memory.events,
         * memory.peak/max/high, io.stat, pids.max, the pressure files) are, when
         * they were carried from an earlier read rather than read now.
         *
         * @return nanoseconds; -1 when every field was read now
         */
        default long slowTierAgeNanos() {
            return -1;
        }
    }

    private static final Field[] FIELDS = Field.values();

    private final long[] values = new long[FIELDS.length];
    private final String[] reasons;
    private final long slowTierAgeMillis;

    /**
     * Copies the present values and absent reasons of {@code c}.
     *
     * @param c one read
     */
    public Counters(Source c) {
        this(c, null);
    }

    /**
     * As {@link #Counters(Source)}, sharing {@code previous}'s reasons
     * (immutable) when they are the same: they seldom change between samples.
     *
     * @param c        one read
     * @param previous the copy of the previous read, or null
     */
    public Counters(Source c, Counters previous) {
        long age = c.slowTierAgeNanos();
        slowTierAgeMillis = age < 0 ? -1 : age / 1_000_000;
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

    /**
     * The value of {@code f}.
     *
     * @param f the field
     * @return its value in its {@link Field#unit()}; empty when absent (see {@link #absentReason})
     */
    public OptionalLong get(Field f) {
        return reasons[f.ordinal()] == null ? OptionalLong.of(values[f.ordinal()]) : OptionalLong.empty();
    }

    /**
     * How old the slow tier's values are.  A sampler reads cpu.stat,
     * memory.current, pids.current and cgroup.procs every round and the slow tier
     * (memory.stat, memory.events, memory.peak/max/high, io.stat, pids.max, the
     * pressure files) every Nth round ({@code Sampler.Builder#slowTierEvery});
     * between, the slow tier's fields hold the values of its last read, this old.
     *
     * @return milliseconds since the slow tier was read; empty when every field was read with this sample
     */
    public OptionalLong slowTierAgeMillis() {
        return slowTierAgeMillis < 0 ? OptionalLong.empty() : OptionalLong.of(slowTierAgeMillis);
    }

    /**
     * Why {@code f} is absent.
     *
     * @param f the field
     * @return the reason; empty when it is present
     */
    public Optional<String> absentReason(Field f) {
        return Optional.ofNullable(reasons[f.ordinal()]);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Counters c && Arrays.equals(values, c.values) && Arrays.equals(reasons, c.reasons)
                && slowTierAgeMillis == c.slowTierAgeMillis;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(values) * 31 + Arrays.hashCode(reasons);
    }
}
