package dev.rbee.hive.monitor.model;

/**
 * How a spawned worker was started (see {@code Worker.spawnPath()}).  The
 * system property {@code rbee.spawn=native|launcher}, read when a monitor
 * makes its spawner, forces one of the first two (for tests and benchmarks);
 * by default the native path is taken wherever it works.
 */
public enum SpawnPath {
    /**
     * librbee-spawn.so through FFM: clone3 straight into the cgroup, the pidfd from the clone, one exec, no
     * JDK process (no JDK waiting thread).
     */
    NATIVE,
    /**
     * rbee-launch started by the JDK's ProcessBuilder, which joins the cgroup itself before exec: the fallback
     * where clone3 into a cgroup is refused (Linux before 5.7, seccomp), the library does not load, or a spec
     * asks for something only the launcher does.
     */
    LAUNCHER,
    /** The JDK's ProcessBuilder alone (portable backend: no cgroup, no pidfd). */
    JDK
}
