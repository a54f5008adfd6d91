package dev.rbee.hive.monitor.model;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * How a worker ended, with its final figures read from its cgroup before the
 * cgroup was removed.  A figure the kernel did not give is absent, and
 * {@link #absent()} says why (e.g. "memory controller not enabled").
 *
 * <p>Immutable: thread-safe, to share between threads as it is.
 *
 * @param worker          group/instance (empty for a plain spawn)
 * @param pid             the main process
 * @param status          exit code or signal; absent for an adopted worker (not our child)
 * @param runtime         from start to the main process's exit
 * @param killedByStop    whether {@code Worker.stop} or {@code Worker.kill} had to SIGKILL the tree
 * @param oomKills        memory.events oom_kill
 * @param cpuUsageUsec    cpu.stat usage_usec
 * @param memoryPeakBytes memory.peak
 * @param ioReadBytes     io.stat rbytes, summed over devices
 * @param ioWriteBytes    io.stat wbytes, summed over devices
 * @param absent          for each absent figure (by its JSON name), the reason
 * @param cgroup          the worker's cgroup (cgroup2 backend only)
 * @param cgroupRemoved   whether that cgroup directory was removed
 */
public record ExitReport(Optional<MonitorConfig> worker, long pid, Optional<Path> cgroup, Optional<ExitStatus> status, Duration runtime,
                         boolean killedByStop, OptionalLong oomKills, OptionalLong cpuUsageUsec,
                         OptionalLong memoryPeakBytes, OptionalLong ioReadBytes, OptionalLong ioWriteBytes,
                         Map<String, String> absent, boolean cgroupRemoved) {
    /** Copies the map. */
    public ExitReport {
        absent = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(absent));
    }

    /**
     * Whether the kernel counted at least one OOM kill in the worker's cgroup.
     *
     * @return true if it did
     */
    public boolean oomKilled() {
        return oomKills.orElse(0) > 0;
    }

    /**
     * One line for people.
     *
     * @return e.g. "llm/8080 pid 123: exit code 0 after 12.3 s, cpu 1.2 s, peak 512 MiB"
     */
    public String summary() {
        StringBuilder b = new StringBuilder();
        b.append(worker.map(MonitorConfig::id).orElse("worker")).append(" pid ").append(pid).append(": ");
        b.append(status.map(ExitStatus::toString).orElse("exited (status unknown: " + absent.get("exit_code") + ")"));
        if (oomKilled()) b.append(", OOM-killed");
        if (killedByStop) b.append(", tree SIGKILLed by stop/kill");
        b.append(String.format(" after %.1f s", runtime.toMillis() / 1000.0));
        cpuUsageUsec.ifPresent(u -> b.append(String.format(", cpu %.2f s", u / 1e6)));
        memoryPeakBytes.ifPresent(p -> b.append(String.format(", memory peak %.1f MiB", p / 1048576.0)));
        ioReadBytes.ifPresent(r -> b.append(", io read ").append(r).append(" B"));
        ioWriteBytes.ifPresent(w -> b.append(", io write ").append(w).append(" B"));
        cgroup.ifPresent(c -> b.append(cgroupRemoved ? ", cgroup removed" : ", cgroup " + c + " NOT removed"));
        return b.toString();
    }
}
