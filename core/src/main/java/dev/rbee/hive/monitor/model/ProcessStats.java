package dev.rbee.hive.monitor.model;

import dev.rbee.hive.monitor.model.Counters.Field;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * One worker's stats at one moment.  Sizes in MiB ("_mb" on the wire) are
 * 2^20 bytes; rates are per second over the time since the previous sample of
 * the same worker, so the first sample has none.  Every value the kernel did
 * not give is absent, and {@link #absent()} (or {@link Counters#absentReason})
 * says why; nothing is ever reported as 0 for want of data.
 *
 * <p>Tiers: a sampler reads the fast tier (cpu.stat, memory.current,
 * pids.current, cgroup.procs) every round and the slow tier (memory.stat,
 * memory.events, memory.peak/max/high, io.stat, pids.max, the pressure files)
 * every Nth round (10 by default, {@code Sampler.Builder#slowTierEvery}), on a
 * worker's first sample and on {@code collectInstance}.  Between slow rounds the
 * slow tier's fields carry the values of its last read, and
 * {@link Counters#slowTierAgeMillis()} says how old they are (empty when every
 * field was read with this sample); so do {@code rssMb} (memory.stat anon) and
 * the io rates, which are rates over the slow reads.  A carried value is a value
 * the kernel gave; a field the kernel does not give stays absent with its reason.
 *
 * <p>Immutable: thread-safe, to share between threads as it is.
 *
 * @param group      the worker's group
 * @param instance   the worker's instance
 * @param cgroup     the worker's cgroup (empty on the process-tree backend)
 * @param pid        the main process (the oldest in the cgroup)
 * @param pids       every process in the cgroup
 * @param cpuPct     100 = one core busy
 * @param rssMb      memory.stat anon (the closest the kernel has to RSS; memory.current includes page cache);
 *                   slow tier: see {@link Counters#slowTierAgeMillis()}
 * @param ioReadMbS  bytes read from block devices per second, in MiB, over the last two io.stat reads (slow tier)
 * @param ioWriteMbS bytes written to block devices per second, in MiB
 * @param uptimeS    seconds since the main process started
 * @param gpuUtilPct SM utilisation of the worker's processes (NVML's per-process samples): the mean over the
 *                   GPUs it has a sample on (each 0..100), never a sum over GPUs
 * @param vramMb     GPU memory the worker's processes use, in MiB
 * @param totalVramMb total memory of the GPUs the worker uses, in MiB
 * @param gpus       the NVML indexes of the GPUs the worker uses
 * @param gpuUtilPctByGpu per GPU index, the SM utilisation of the worker's processes on that GPU (0..100)
 * @param model      the value after {@code --model} in the main process's command line
 * @param counters   every raw counter: cpu.stat, memory.*, io.stat, pids.*, pressure
 * @param absent     why each absent derived value (by its wire name) is absent
 * @param timestamp  when the sample was taken
 */
public record ProcessStats(String group, String instance, Optional<Path> cgroup, long pid, List<Long> pids,
                           OptionalDouble cpuPct, OptionalDouble rssMb, OptionalDouble ioReadMbS,
                           OptionalDouble ioWriteMbS, OptionalDouble uptimeS, OptionalDouble gpuUtilPct,
                           OptionalDouble vramMb, OptionalDouble totalVramMb, List<Integer> gpus,
                           Map<Integer, Double> gpuUtilPctByGpu, Optional<String> model, Counters counters, Map<String, String> absent,
                           Instant timestamp) {
    /** Copies the lists (and the map, unless already unmodifiable). */
    public ProcessStats {
        pids = List.copyOf(pids);
        gpus = List.copyOf(gpus);
        // Map.of() when empty (no GPU sampling: the usual case): a sample allocates nothing for it.
        gpuUtilPctByGpu = gpuUtilPctByGpu.isEmpty() ? Map.of()
                : java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(gpuUtilPctByGpu));
        // An unmodifiable map is kept as it is (the sampler shares one between samples); others are copied.
        absent = absent.getClass() == UNMODIFIABLE_MAP ? absent
                : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(absent));
    }

    private static final Class<?> UNMODIFIABLE_MAP = java.util.Collections.unmodifiableMap(Map.of()).getClass();

    /**
     * The worker's id.
     *
     * @return {@code group/instance}
     */
    public String id() {
        return group + "/" + instance;
    }

    /**
     * CPU time used, in microseconds (cpu.stat usage_usec, or the process tree's).
     *
     * @return the total; never goes down while the worker lives
     */
    public OptionalLong cpuUsageUsec() { return counters.get(Field.CPU_USAGE_USEC); }
    /**
     * memory.current.
     *
     * @return bytes, page cache included
     */
    public OptionalLong memoryCurrentBytes() { return counters.get(Field.MEMORY_CURRENT); }
    /**
     * memory.stat anon (the closest the kernel has to RSS).
     *
     * @return bytes
     */
    public OptionalLong memoryAnonBytes() { return counters.get(Field.MEMORY_ANON); }
    /**
     * memory.peak.
     *
     * @return bytes
     */
    public OptionalLong memoryPeakBytes() { return counters.get(Field.MEMORY_PEAK); }
    /**
     * memory.max; empty when unlimited ("max") or when the memory controller is off.
     *
     * @return bytes
     */
    public OptionalLong memoryMaxBytes() { return limit(Field.MEMORY_MAX); }
    /**
     * memory.events oom_kill: processes of the worker the OOM killer killed.
     *
     * @return the count
     */
    public OptionalLong oomKills() { return counters.get(Field.MEMORY_EVENTS_OOM_KILL); }
    /**
     * io.stat rbytes, summed over the devices.
     *
     * @return bytes read
     */
    public OptionalLong ioReadBytes() { return counters.get(Field.IO_RBYTES); }
    /**
     * io.stat wbytes, summed over the devices.
     *
     * @return bytes written
     */
    public OptionalLong ioWriteBytes() { return counters.get(Field.IO_WBYTES); }
    /**
     * cpu.stat nr_throttled: periods in which cpu.max held the worker back.
     *
     * @return the count
     */
    public OptionalLong nrThrottled() { return counters.get(Field.CPU_NR_THROTTLED); }
    /**
     * pids.current: tasks (threads included).
     *
     * @return the count
     */
    public OptionalLong pidsCurrent() { return counters.get(Field.PIDS_CURRENT); }

    private OptionalLong limit(Field f) {
        OptionalLong v = counters.get(f);
        return v.isPresent() && v.getAsLong() == Long.MAX_VALUE ? OptionalLong.empty() : v;
    }
}
