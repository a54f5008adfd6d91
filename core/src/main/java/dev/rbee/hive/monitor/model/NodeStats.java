package dev.rbee.hive.monitor.model;


import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * The machine as a whole.
 *
 * <p>Immutable: thread-safe, to share between threads as it is.
 *
 * @param cpuPct     busy share of all CPUs, 0..100 (from /proc/stat deltas; absent on the first sample)
 * @param ramUsedMb  MemTotal - MemAvailable, MiB
 * @param ramTotalMb MemTotal, MiB
 * @param gpus       the GPUs NVML reports (empty without NVML or GPU)
 * @param absent     why an absent value is absent
 */
public record NodeStats(OptionalDouble cpuPct, OptionalDouble ramUsedMb, OptionalDouble ramTotalMb,
                        List<GpuDevice> gpus, Map<String, String> absent) {
    /** Copies the list and the map. */
    public NodeStats {
        gpus = List.copyOf(gpus);
        absent = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(absent));
    }
}
