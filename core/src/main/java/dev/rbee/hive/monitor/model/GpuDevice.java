package dev.rbee.hive.monitor.model;

import java.util.Objects;
import java.util.OptionalInt;

/**
 * One GPU as NVML reports it.  Utilization and temperature are empty where the
 * device does not support them or the call failed (the failure is counted in
 * the snapshot); they are never a made-up zero.
 *
 * <p>Immutable: thread-safe, to share between threads as it is.
 *
 * @param index            NVML device index
 * @param uuid             the device's UUID (stable across reboots, unlike the index)
 * @param name             the product name
 * @param memoryTotalBytes nvmlMemory_t.total
 * @param memoryUsedBytes  nvmlMemory_t.used (all processes, plus the driver's own reservation)
 * @param utilizationPct   nvmlUtilization_t.gpu: percent of the last sample period a kernel ran
 * @param temperatureC     the GPU die's temperature in degrees Celsius
 */
public record GpuDevice(int index, String uuid, String name, long memoryTotalBytes, long memoryUsedBytes,
                        OptionalInt utilizationPct, OptionalInt temperatureC) {
    /** Checks that nothing is null. */
    public GpuDevice {
        Objects.requireNonNull(uuid);
        Objects.requireNonNull(name);
        Objects.requireNonNull(utilizationPct);
        Objects.requireNonNull(temperatureC);
    }
}
