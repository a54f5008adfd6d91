package dev.rbee.hive.monitor.gpu;

import dev.rbee.hive.monitor.model.GpuDevice;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * What NVML said in one sample.  Either {@code absentReason} is set and there is
 * no GPU data (no library, no driver, no GPU, or NVML did not answer in time),
 * or it is empty and {@code devices} lists the GPUs that could be read.
 *
 * @param processesComplete false when some device's process list could not be
 *                          read, so that a pid missing from {@code processes}
 *                          does not prove it uses no GPU memory
 * @param errorCount        NVML errors and timeouts since the sampler started
 * @param lastError         the most recent of them
 */
public record GpuSnapshot(List<GpuDevice> devices, List<GpuProcess> processes, Optional<String> absentReason,
                          boolean processesComplete, long errorCount, Optional<String> lastError) {
    public GpuSnapshot {
        devices = List.copyOf(devices);
        processes = List.copyOf(processes);
        Objects.requireNonNull(absentReason);
        Objects.requireNonNull(lastError);
    }

    static GpuSnapshot absent(String reason, long errorCount, Optional<String> lastError) {
        return new GpuSnapshot(List.of(), List.of(), Optional.of(reason), false, errorCount, lastError);
    }

    public boolean present() {
        return absentReason.isEmpty();
    }

    /** The GPU use of the processes with these host pids (e.g. every pid of one worker's cgroup). */
    public GpuUsage usageOf(Set<Long> pids) {
        return GpuUsage.of(this, pids);
    }
}
