/**
 * rbee-hive-monitor: spawns workers into their own cgroup v2 leaves, samples
 * their stats, and reports how they exited.
 *
 * <p>API: {@link dev.rbee.hive.monitor} (the facade: {@code ProcessMonitor},
 * {@code Worker}, {@code Sampler}), {@link dev.rbee.hive.monitor.model} (the
 * values) and {@link dev.rbee.hive.monitor.json} (the wire format).  Every other
 * package is implementation and not exported, the backends among them
 * ({@code dev.rbee.hive.monitor.backend} and its {@code cgroup2}, {@code proctree}
 * and {@code portable} packages).  The library calls libc through
 * FFM: run with {@code --enable-native-access=dev.rbee.hive.monitor} (or
 * {@code ALL-UNNAMED} on the class path).
 */
module dev.rbee.hive.monitor {
    exports dev.rbee.hive.monitor;
    exports dev.rbee.hive.monitor.model;
    exports dev.rbee.hive.monitor.json;

    requires com.fasterxml.jackson.databind;
    // jna-platform: only the portable backend's resident-memory readers.  Not
    // "static": requiring this automatic module also resolves the other automatic
    // modules on the module path, rbee-native-launcher's jar (the launchers) among them.
    requires com.sun.jna;
    requires com.sun.jna.platform;
}
