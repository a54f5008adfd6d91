package dev.rbee.hive.monitor.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * Resource limits for one worker's cgroup.  Every limit is optional; one that
 * is set and cannot be applied fails the spawn (never silently dropped).
 *
 * <p>Immutable: thread-safe.  Its {@link Builder} is not: one thread builds.
 *
 * @param cpuPercent  cpu.max as a percentage of one core (250 = 2.5 cores)
 * @param cpuWeight   cpu.weight, 1..10000
 * @param memoryMax   memory.max
 * @param memoryHigh  memory.high
 * @param swapMax     memory.swap.max
 * @param pidsMax     pids.max; {@code Long.MAX_VALUE} means "max"
 * @param io          io.max lines, one per device
 */
public record Limits(OptionalInt cpuPercent, OptionalInt cpuWeight, Optional<Size> memoryMax,
                     Optional<Size> memoryHigh, Optional<Size> swapMax, OptionalLong pidsMax,
                     List<IoLimit> io) {
    /** No limit at all. */
    public static final Limits NONE = builder().build();

    /** Checks the ranges and copies the list. */
    public Limits {
        io = List.copyOf(io);
        cpuPercent.ifPresent(p -> {
            if (p < 1 || p > 100_000)
                throw new IllegalArgumentException("invalid cpu limit " + p + "%: expected 1..100000 (percent of one core)");
        });
        cpuWeight.ifPresent(w -> {
            if (w < 1 || w > 10_000)
                throw new IllegalArgumentException("invalid cpu weight " + w + ": expected 1..10000");
        });
        pidsMax.ifPresent(p -> {
            if (p < 1) throw new IllegalArgumentException("invalid pids limit " + p + ": expected >= 1 or max");
        });
    }

    /**
     * Whether no limit is set.
     *
     * @return true for {@link #NONE}
     */
    public boolean isEmpty() {
        return cpuPercent.isEmpty() && cpuWeight.isEmpty() && memoryMax.isEmpty() && memoryHigh.isEmpty()
                && swapMax.isEmpty() && pidsMax.isEmpty() && io.isEmpty();
    }

    /**
     * Limits set one by one.
     *
     * @return a builder with none set
     */
    public static Builder builder() {
        return new Builder();
    }

    /** Collects the limits; {@link Limits#builder()} makes one.  Not thread-safe: one thread builds. */
    public static final class Builder {
        private OptionalInt cpuPercent = OptionalInt.empty(), cpuWeight = OptionalInt.empty();
        private Optional<Size> memoryMax = Optional.empty(), memoryHigh = Optional.empty(), swapMax = Optional.empty();
        private OptionalLong pidsMax = OptionalLong.empty();
        private final List<IoLimit> io = new ArrayList<>();

        private Builder() {}

        /**
         * cpu.max as a percentage of one core (250 = 2.5 cores).
         *
         * @param percentOfOneCore 1..100000
         * @return this builder
         */
        public Builder cpuPercent(int percentOfOneCore) { cpuPercent = OptionalInt.of(percentOfOneCore); return this; }

        /**
         * As {@link #cpuPercent(int)}, parsed.
         *
         * @param text "250%" or "250"
         * @return this builder
         */
        public Builder cpuPercent(String text) {
            String t = text.strip();
            if (t.endsWith("%")) t = t.substring(0, t.length() - 1);
            try {
                return cpuPercent(Integer.parseInt(t));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("invalid cpu limit " + Names.quote(text) + ": expected a percentage of one core, e.g. 250%");
            }
        }

        /**
         * cpu.weight.
         *
         * @param weight 1..10000
         * @return this builder
         */
        public Builder cpuWeight(int weight) { cpuWeight = OptionalInt.of(weight); return this; }

        /**
         * memory.max: the hard limit (the OOM killer acts beyond it).
         *
         * @param s the size
         * @return this builder
         */
        public Builder memoryMax(Size s) { memoryMax = Optional.of(s); return this; }

        /**
         * As {@link #memoryMax(Size)}, parsed by {@link Size#parse}.
         *
         * @param s e.g. "8G" or "max"
         * @return this builder
         */
        public Builder memoryMax(String s) { return memoryMax(Size.parse(s)); }

        /**
         * memory.high: the throttling limit.
         *
         * @param s the size
         * @return this builder
         */
        public Builder memoryHigh(Size s) { memoryHigh = Optional.of(s); return this; }

        /**
         * As {@link #memoryHigh(Size)}, parsed by {@link Size#parse}.
         *
         * @param s e.g. "6G" or "max"
         * @return this builder
         */
        public Builder memoryHigh(String s) { return memoryHigh(Size.parse(s)); }

        /**
         * memory.swap.max.
         *
         * @param s the size
         * @return this builder
         */
        public Builder swapMax(Size s) { swapMax = Optional.of(s); return this; }

        /**
         * As {@link #swapMax(Size)}, parsed by {@link Size#parse}.
         *
         * @param s e.g. "0" or "max"
         * @return this builder
         */
        public Builder swapMax(String s) { return swapMax(Size.parse(s)); }

        /**
         * pids.max: tasks (threads included).
         *
         * @param n the count; {@code Long.MAX_VALUE} is "max"
         * @return this builder
         */
        public Builder pidsMax(long n) { pidsMax = OptionalLong.of(n); return this; }

        /**
         * As {@link #pidsMax(long)}, parsed.
         *
         * @param text a count or "max"
         * @return this builder
         */
        public Builder pidsMax(String text) {
            if (text.strip().equals("max")) return pidsMax(Long.MAX_VALUE);
            try {
                return pidsMax(Long.parseLong(text.strip()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("invalid pids limit " + Names.quote(text) + ": expected a count or max");
            }
        }

        /**
         * One device's io.max line (add one per device).
         *
         * @param limit the line
         * @return this builder
         */
        public Builder io(IoLimit limit) { io.add(limit); return this; }

        /**
         * As {@link #io(IoLimit)}, parsed by {@link IoLimit#parse}.
         *
         * @param spec e.g. "254:0 rbps=1M"
         * @return this builder
         */
        public Builder io(String spec) { return io(IoLimit.parse(spec)); }

        /**
         * The limits.
         *
         * @return the immutable limits
         * @throws IllegalArgumentException if a value is out of range
         */
        public Limits build() {
            return new Limits(cpuPercent, cpuWeight, memoryMax, memoryHigh, swapMax, pidsMax, io);
        }
    }
}
