package dev.rbee.hive.monitor.internal;

import java.io.IOException;

/**
 * Waits for a condition the kernel settles within milliseconds (a killed tree
 * gone, a cgroup frozen): checks with sleeps of 1 ms doubling to 20 ms.  Not
 * for exit detection, which uses pidfds.
 */
public final class Backoff {
    /** A check that may read files. */
    public interface Condition {
        boolean holds() throws IOException;
    }

    private Backoff() {}

    /** True once {@code c} holds; false after {@code timeoutMillis}, or when interrupted (the flag is kept). */
    public static boolean await(Condition c, long timeoutMillis) throws IOException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        long delay = 1;
        while (!c.holds()) {
            if (System.nanoTime() > deadline) return false;
            try {
                Thread.sleep(delay);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
            delay = Math.min(delay * 2, 20);
        }
        return true;
    }
}
