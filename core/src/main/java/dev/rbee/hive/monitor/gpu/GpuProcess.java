package dev.rbee.hive.monitor.gpu;

import java.util.Objects;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * A compute process on one GPU.  The pid is a host pid: the driver does not
 * see pid namespaces.
 *
 * @param usedMemoryBytes empty where NVML says "not available" (MIG, Windows WDDM)
 * @param smUtilPct       SM utilization from the newest sample since the previous
 *                        snapshot; empty when NVML had no new sample for the process
 *                        or does not support per-process utilization
 */
public record GpuProcess(int deviceIndex, long pid, OptionalLong usedMemoryBytes, OptionalInt smUtilPct) {
    public GpuProcess {
        Objects.requireNonNull(usedMemoryBytes);
        Objects.requireNonNull(smUtilPct);
    }
}
