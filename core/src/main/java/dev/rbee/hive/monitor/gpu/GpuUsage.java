package dev.rbee.hive.monitor.gpu;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;

/**
 * The GPU use of a set of pids (one worker's cgroup): memory summed over its
 * processes and devices, utilisation per device and their mean (never a sum
 * over devices: two busy GPUs are 100 %, not 200 %).
 *
 * <p>A value is empty when NVML did not give us enough to know it, and zero
 * only when it did: a worker with no process on any GPU uses 0 bytes, but only
 * if every device's process list was read.
 *
 * @param vramBytes     summed per-process used memory; empty when the snapshot is
 *                      absent, a process list is missing, or any matched process's
 *                      memory is "not available" (a partial sum would look exact)
 * @param deviceIndexes the devices the pids have processes on, ascending
 * @param smUtilPctByDevice per device with a new sample: the SM utilization of the pids'
 *                      processes on it, summed and capped at 100; processes without a new
 *                      sample are left out
 * @param smUtilPct     the mean of {@code smUtilPctByDevice} over its devices (0 for pids
 *                      with no process on any GPU, when every list was read); empty when
 *                      no matched process had a sample
 */
public record GpuUsage(OptionalLong vramBytes, List<Integer> deviceIndexes, Map<Integer, Integer> smUtilPctByDevice,
                       OptionalDouble smUtilPct) {
    public GpuUsage {
        deviceIndexes = List.copyOf(deviceIndexes);
        smUtilPctByDevice = Collections.unmodifiableMap(new TreeMap<>(smUtilPctByDevice));
    }

    public static GpuUsage of(GpuSnapshot snapshot, Set<Long> pids) {
        if (!snapshot.present()) return new GpuUsage(OptionalLong.empty(), List.of(), Map.of(), OptionalDouble.empty());
        List<GpuProcess> mine = snapshot.processes().stream().filter(p -> pids.contains(p.pid())).toList();
        List<Integer> devices = mine.stream().map(GpuProcess::deviceIndex).distinct().sorted().toList();
        if (mine.isEmpty()) {
            return snapshot.processesComplete()
                    ? new GpuUsage(OptionalLong.of(0), List.of(), Map.of(), OptionalDouble.of(0))
                    : new GpuUsage(OptionalLong.empty(), List.of(), Map.of(), OptionalDouble.empty());
        }
        OptionalLong vram = OptionalLong.empty();
        if (snapshot.processesComplete() && mine.stream().allMatch(p -> p.usedMemoryBytes().isPresent())) {
            vram = OptionalLong.of(mine.stream().mapToLong(p -> p.usedMemoryBytes().getAsLong()).sum());
        }
        Map<Integer, Integer> byDevice = new TreeMap<>();
        for (GpuProcess p : mine)
            if (p.smUtilPct().isPresent()) byDevice.merge(p.deviceIndex(), p.smUtilPct().getAsInt(), (a, b) -> Math.min(100, a + b));
        OptionalDouble mean = byDevice.isEmpty() ? OptionalDouble.empty()
                : byDevice.values().stream().mapToInt(Integer::intValue).average();
        return new GpuUsage(vram, devices, byDevice, mean);
    }
}
