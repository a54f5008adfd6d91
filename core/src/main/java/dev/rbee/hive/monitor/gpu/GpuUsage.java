package dev.rbee.hive.monitor.gpu;

import java.util.List;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The GPU use of a set of pids (one worker's cgroup), summed over its
 * processes and devices.
 *
 * <p>A value is empty when NVML did not give us enough to know it, and zero
 * only when it did: a worker with no process on any GPU uses 0 bytes, but only
 * if every device's process list was read.
 *
 * @param vramBytes     summed per-process used memory; empty when the snapshot is
 *                      absent, a process list is missing, or any matched process's
 *                      memory is "not available" (a partial sum would look exact)
 * @param deviceIndexes the devices the pids have processes on, ascending
 * @param smUtilPct     summed per-process SM utilization (can exceed 100 over several
 *                      devices); processes without a new sample are left out, and it
 *                      is empty when no matched process had one
 */
public record GpuUsage(OptionalLong vramBytes, List<Integer> deviceIndexes, OptionalInt smUtilPct) {
    public GpuUsage {
        deviceIndexes = List.copyOf(deviceIndexes);
    }

    public static GpuUsage of(GpuSnapshot snapshot, Set<Long> pids) {
        if (!snapshot.present()) return new GpuUsage(OptionalLong.empty(), List.of(), OptionalInt.empty());
        List<GpuProcess> mine = snapshot.processes().stream().filter(p -> pids.contains(p.pid())).toList();
        List<Integer> devices = mine.stream().map(GpuProcess::deviceIndex).distinct().sorted().toList();
        if (mine.isEmpty()) {
            return snapshot.processesComplete()
                    ? new GpuUsage(OptionalLong.of(0), List.of(), OptionalInt.of(0))
                    : new GpuUsage(OptionalLong.empty(), List.of(), OptionalInt.empty());
        }
        OptionalLong vram = OptionalLong.empty();
        if (snapshot.processesComplete() && mine.stream().allMatch(p -> p.usedMemoryBytes().isPresent())) {
            vram = OptionalLong.of(mine.stream().mapToLong(p -> p.usedMemoryBytes().getAsLong()).sum());
        }
        OptionalInt sm = OptionalInt.empty();
        if (mine.stream().anyMatch(p -> p.smUtilPct().isPresent())) {
            sm = OptionalInt.of(mine.stream().mapToInt(p -> p.smUtilPct().orElse(0)).sum());
        }
        return new GpuUsage(vram, devices, sm);
    }
}
