package dev.rbee.examples.minihive;

import java.time.Duration;

/**
 * When to start a worker again after it ended: after {@code firstBackoff},
 * doubled at each restart up to {@code maxBackoff}; never more than
 * {@code maxRestarts} times in a row.  A worker that ran at least
 * {@code resetAfter} was healthy: its count starts again from zero.
 */
public record RestartPolicy(Duration firstBackoff, Duration maxBackoff, int maxRestarts, Duration resetAfter) {
    public RestartPolicy {
        if (firstBackoff.isNegative() || maxBackoff.compareTo(firstBackoff) < 0)
            throw new IllegalArgumentException("backoff: need 0 <= first <= max, got " + firstBackoff + " and " + maxBackoff);
        if (maxRestarts < 0) throw new IllegalArgumentException("max restarts must not be negative: " + maxRestarts);
    }

    /** The wait before restart number {@code n} (1 for the first). */
    public Duration backoff(int n) {
        Duration d = firstBackoff;
        for (int i = 1; i < n && d.compareTo(maxBackoff) < 0; i++) d = d.multipliedBy(2);
        return d.compareTo(maxBackoff) > 0 ? maxBackoff : d;
    }
}
