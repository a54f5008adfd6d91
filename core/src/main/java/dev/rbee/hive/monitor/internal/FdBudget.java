package dev.rbee.hive.monitor.internal;

import static dev.rbee.hive.monitor.internal.Log.LOG;

/**
 * The monitor's open-files budget.  Each worker costs {@link #PER_WORKER} fds
 * while it is sampled (the fast tier's kept-open files: cpu.stat,
 * memory.current, pids.current, cgroup.procs; the slow tier opens, reads and
 * closes its files every Nth round and keeps none), plus its pidfd while this
 * JVM spawned or adopted it.  10 000 workers therefore need more than the
 * usual soft limit of 1024: {@link #raise} lifts the soft limit to the hard
 * one at start, as the JDK's {@code -XX:+MaxFDLimit} and systemd services do;
 * when even the hard limit is too low, {@link #tooLow} says so with both
 * limits and the worker count.
 *
 * <p>Thread-safe: any thread.
 */
public final class FdBudget {
    /** Kept-open fds per sampled worker (the fast tier and cgroup.procs). */
    public static final int PER_WORKER = 4;
    /** Left for everything else the JVM opens (jars, sockets, the monitor's own files). */
    public static final int RESERVE = 256;

    private FdBudget() {}

    /**
     * Raises the soft RLIMIT_NOFILE to the hard limit (the JDK does it at start
     * unless -XX:-MaxFDLimit; an embedding launcher may not); logs and keeps the
     * old limit if the kernel refuses.  Two system calls: each monitor calls it.
     *
     * @return the limits now in force
     */
    public static synchronized Libc.FdLimit raise() {
        Libc.FdLimit l = Libc.fdLimit();
        if (l.soft() < l.hard()) {
            int r = Libc.setFdLimit(l.hard(), l.hard());
            if (r == 0) l = Libc.fdLimit();
            else LOG.log(System.Logger.Level.WARNING, "cannot raise the open-files limit from " + l.soft()
                    + " to its hard limit " + l.hard() + ": setrlimit(RLIMIT_NOFILE): " + Libc.errnoName(-r));
        }
        return l;
    }

    /** How many workers the hard limit holds: (hard - reserve) / per worker. */
    public static long workersHeld(Libc.FdLimit l) {
        return Math.max(0, (l.hard() - RESERVE) / PER_WORKER);
    }

    /**
     * The message for an open that failed with EMFILE/ENFILE while {@code workers}
     * were sampled: both limits, the count, and what to raise.
     */
    public static String tooLow(String file, String errno, long workers) {
        Libc.FdLimit l = Libc.fdLimit();
        return "cannot open " + file + ": " + errno + ": the open-files limit (soft " + l.soft() + ", hard " + l.hard()
                + ") is too low for " + workers + " sampled workers at " + PER_WORKER + " fds each plus "
                + RESERVE + " spare (" + (workers * PER_WORKER + RESERVE) + "); raise the hard limit (LimitNOFILE=, "
                + "ulimit -Hn, /etc/security/limits.conf) or sample fewer workers";
    }
}
