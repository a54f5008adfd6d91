package dev.rbee.hive.monitor.systemd;

/** For the spawn-cost figures of the systemd VM suite: one transient scope per worker, as a per-worker design would ask. */
public final class ScopeBench {
    private ScopeBench() {}

    /** StartTransientUnit of a delegated scope holding {@code pid}, and the wait for its job. */
    public static void startScope(SdBus bus, String unit, String slice, long pid) throws SdBusException {
        HiveScope.startScope(bus, unit, slice, pid);
    }
}
