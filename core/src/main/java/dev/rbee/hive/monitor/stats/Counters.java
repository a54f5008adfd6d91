package dev.rbee.hive.monitor.stats;

import dev.rbee.hive.monitor.stats.CgroupCounters.Field;

import java.util.Arrays;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * An immutable copy of one cgroup sample: every counter the kernel gave, and
 * for each one it did not, the reason.
 */
public final class Counters {
    private static final Field[] FIELDS = Field.values();

    private final long[] values = new long[FIELDS.length];
    private final String[] reasons;

    /** Copies the present values and absent reasons of {@code c}. */
    public Counters(CgroupCounters c) {
        this(c, null);
    }

    /**
     * As {@link #Counters(CgroupCounters)}, sharing {@code previous}'s reasons
     * (immutable) when they are the same: they seldom change between samples.
     */
    public Counters(CgroupCounters c, Counters previous) {
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
