package dev.rbee.hive.monitor.read;

import dev.rbee.hive.monitor.model.Counters;
import dev.rbee.hive.monitor.model.Counters.Field;

import java.util.Arrays;

/**
 * One sample of one cgroup, as the kernel gave it: a mutable holder that a
 * {@link CgroupReader} refills on every read, so that sampling allocates
 * nothing.  Copy it ({@link #copyTo}) before building an immutable snapshot.
 *
 * <p>Every field is either present with a value, or absent with a reason (a
 * constant string such as {@code "memory controller not enabled"}): a stat the
 * kernel does not provide is never reported as 0.  Values are the kernel's,
 * unscaled: see {@link Unit}.  u64 values beyond {@link Long#MAX_VALUE}
 * saturate there, and {@code max} (no limit) is {@link Long#MAX_VALUE}.
 * Not thread-safe.
 */
public final class CgroupCounters implements Counters.Source {
    /** Before the first read, and after {@link #clear}. */
    public static final String NOT_READ = "not read yet";

    private static final Field[] FIELDS = Field.values();
    static {
        // presence is one bit per field in a long
        if (FIELDS.length > Long.SIZE) throw new AssertionError("too many fields for the presence bitset");
    }

    private final long[] values = new long[FIELDS.length];
    private final String[] reasons = new String[FIELDS.length];
    private long present;
    private long[] pids = new long[16];
    private int pidCount;
    /** How old the slow tier's fields are, in ns; -1 when every field comes from the last read. */
    private long slowTierAgeNanos = -1;

    public CgroupCounters() {
        clear();
    }

    @Override
    public boolean isPresent(Field f) {
        return (present & (1L << f.ordinal())) != 0;
    }

    /** The value of a present field. @throws IllegalStateException if it is absent (with the reason) */
    @Override
    public long get(Field f) {
        if (!isPresent(f)) throw new IllegalStateException(f + " is absent: " + reasons[f.ordinal()]);
        return values[f.ordinal()];
    }

    /** The value, or {@code otherwise} if the field is absent. */
    public long getOr(Field f, long otherwise) {
        return isPresent(f) ? values[f.ordinal()] : otherwise;
    }

    /** Why the field is absent; null when it is present. */
    @Override
    public String reason(Field f) {
        return reasons[f.ordinal()];
    }

    public void set(Field f, long value) {
        int i = f.ordinal();
        values[i] = value;
        if (reasons[i] != null) reasons[i] = null; // a field present last time too (the usual case) needs no store
        present |= 1L << i;
    }

    public void absent(Field f, String reason) {
        values[f.ordinal()] = 0;
        reasons[f.ordinal()] = reason;
        present &= ~(1L << f.ordinal());
    }

    /** Sets how old the slow tier's fields are (-1: read with the rest). */
    public void slowTierAgeNanos(long nanos) {
        slowTierAgeNanos = nanos;
    }

    @Override
    public long slowTierAgeNanos() {
        return slowTierAgeNanos;
    }

    /** Every field absent with {@link #NOT_READ}, no pids. */
    public void clear() {
        for (Field f : FIELDS) absent(f, NOT_READ);
        pidCount = 0;
    }

    /** The number of pids in the cgroup (cgroup.procs), in the kernel's order. */
    public int pidCount() {
        return pidCount;
    }

    public long pid(int i) {
        if (i >= pidCount) throw new IndexOutOfBoundsException(i + " >= " + pidCount);
        return pids[i];
    }

    /** A new array of the pids (allocates: for snapshots, not for the sampling loop). */
    public long[] pidsCopy() {
        return Arrays.copyOf(pids, pidCount);
    }

    public void clearPids() {
        pidCount = 0;
    }

    /** Appends a pid; the array grows (allocates) only past its largest size so far. */
    public void addPid(long pid) {
        if (pidCount == pids.length) pids = Arrays.copyOf(pids, pids.length * 2);
        pids[pidCount++] = pid;
    }

    /** Makes {@code other} an exact copy of this sample (allocates only if its pid array must grow). */
    public void copyTo(CgroupCounters other) {
        System.arraycopy(values, 0, other.values, 0, values.length);
        System.arraycopy(reasons, 0, other.reasons, 0, reasons.length);
        other.present = present;
        if (other.pids.length < pidCount) other.pids = new long[pids.length];
        System.arraycopy(pids, 0, other.pids, 0, pidCount);
        other.pidCount = pidCount;
        other.slowTierAgeNanos = slowTierAgeNanos;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("CgroupCounters{");
        for (Field f : FIELDS) {
            b.append(f.name().toLowerCase()).append('=');
            if (isPresent(f)) b.append(values[f.ordinal()]);
            else b.append("absent (").append(reasons[f.ordinal()]).append(')');
            b.append(", ");
        }
        return b.append("pids=").append(Arrays.toString(pidsCopy())).append('}').toString();
    }
}
