package dev.rbee.hive.monitor.json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rbee.hive.monitor.model.ExitReport;
import dev.rbee.hive.monitor.model.ExitStatus;

import dev.rbee.hive.monitor.model.ProcessStats;
import dev.rbee.hive.monitor.model.Snapshot;
import dev.rbee.hive.monitor.model.GpuDevice;
import dev.rbee.hive.monitor.model.NodeStats;
import dev.rbee.hive.monitor.model.Counters.Field;
import dev.rbee.hive.monitor.model.Counters;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * JSON with the wire names the queen expects (snake_case, units in the
 * names).  An absent value is an absent field, never 0 or null, and every
 * object says why under its own "absent" map, keyed exactly like the field it
 * explains.  A worker's group is "group" everywhere; the heartbeat's workers
 * also carry "service" with the same value, because the queen's spec (DESIGN.md
 * section 1) reads that name.  The shapes are in one JSON Schema, {@link #SCHEMA}
 * ({@link #HIVE_TELEMETRY_SCHEMA}, {@link #WORKERS_SCHEMA}).
 *
 * <p>Stateless: thread-safe; every call returns a new object.
 */
public final class Wire {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** The JSON Schema (draft 2020-12) of the wire format, a class-path resource: one file, two documents. */
    public static final String SCHEMA = "/dev/rbee/hive/monitor/json/wire.schema.json";
    /** Pointers into {@link #SCHEMA}: the heartbeat and the worker list of {@code GET /v1/workers}. */
    public static final String HIVE_TELEMETRY_SCHEMA = SCHEMA + "#/$defs/hiveTelemetry",
            WORKERS_SCHEMA = SCHEMA + "#/$defs/workerList";

    private Wire() {}

    /**
     * The JSON text of a tree of maps, lists and scalars (what the other methods return).
     *
     * @param tree the tree
     * @return compact JSON
     * @throws IllegalArgumentException if something in it cannot be written as JSON
     */
    public static String json(Object tree) {
        try {
            return MAPPER.writeValueAsString(tree);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not serializable as JSON: " + e.getMessage(), e);
        }
    }

    /**
     * An exit report, as {@code rbee-mon stop --json} and the stop endpoint give it.
     *
     * @param r the report
     * @return the JSON tree, with its "absent" map
     */
    public static Map<String, Object> exitReport(ExitReport r) {
        Map<String, Object> m = new LinkedHashMap<>();
        r.worker().ifPresent(w -> {
            m.put("group", w.group());
            m.put("instance", w.instance());
        });
        m.put("pid", r.pid());
        r.status().flatMap(s -> s.code().isPresent() ? java.util.Optional.of(s.code().getAsInt()) : java.util.Optional.empty())
                .ifPresent(c -> m.put("exit_code", c));
        r.status().map(ExitStatus::signal).ifPresent(s -> s.ifPresent(sig -> m.put("signal", sig)));
        m.put("oom_killed", r.oomKilled());
        put(m, "oom_kills", r.oomKills());
        m.put("killed_by_stop", r.killedByStop());
        m.put("runtime_s", r.runtime().toMillis() / 1000.0);
        put(m, "cpu_usage_usec", r.cpuUsageUsec());
        put(m, "memory_peak_bytes", r.memoryPeakBytes());
        put(m, "io_read_bytes", r.ioReadBytes());
        put(m, "io_write_bytes", r.ioWriteBytes());
        r.cgroup().ifPresent(c -> {
            m.put("cgroup", c.toString());
            m.put("cgroup_removed", r.cgroupRemoved());
        });
        if (!r.absent().isEmpty()) m.put("absent", new LinkedHashMap<>(r.absent()));
        return m;
    }

    /**
     * Puts {@code v} under {@code name} when it is present.
     *
     * @param m    the object
     * @param name the field's name
     * @param v    the value
     */
    public static void put(Map<String, Object> m, String name, OptionalLong v) {
        if (v.isPresent()) m.put(name, v.getAsLong());
    }

    /**
     * Puts {@code v}, rounded to three decimals, under {@code name} when it is present.
     *
     * @param m    the object
     * @param name the field's name
     * @param v    the value
     */
    public static void put(Map<String, Object> m, String name, OptionalDouble v) {
        if (v.isPresent()) m.put(name, round(v.getAsDouble()));
    }

    /** Three decimals: enough for MiB and percentages, and stable output. */
    static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    private static final double MIB = 1024.0 * 1024.0;

    /**
     * A worker with the queen's WorkerTelemetry names (group, instance,
     * cgroup, pids, port, model, gpu, cpu_pct, rss_mb, vram_mb, io_r_mb_s,
     * io_w_mb_s, uptime_s, state) and more fields beside them.  Every optional
     * field is either present or explained under "absent" by its own name.
     *
     * @param s the worker's stats
     * @return the JSON tree
     */
    public static Map<String, Object> worker(ProcessStats s) {
        return worker(s, false);
    }

    /** As {@link #worker(ProcessStats)}; {@code queenAlias}: "service" beside "group", as the queen's spec names it. */
    static Map<String, Object> worker(ProcessStats s, boolean queenAlias) {
        Map<String, Object> m = new LinkedHashMap<>();
        Map<String, String> absent = new LinkedHashMap<>(s.absent());
        // "/" cannot occur in a name: "a-b/c" and "a/b-c" stay two ids ("-" joined them into one).
        m.put("worker_id", s.group() + "/" + s.instance());
        m.put("group", s.group());
        if (queenAlias) m.put("service", s.group());
        m.put("instance", s.instance());
        if (s.cgroup().isPresent()) m.put("cgroup", s.cgroup().get().toString());
        else absent.put("cgroup", "this backend puts workers in no cgroup of their own");
        m.put("pid", s.pid());
        m.put("pids", s.pids());
        Optional<Integer> port = port(s.instance());
        if (port.isPresent()) m.put("port", port.get());
        else absent.put("port", "the instance name is not a port number");
        s.model().ifPresent(x -> m.put("model", x));
        // The GPUs are known when the GPU memory is; "gpu": [] is a worker on no GPU.
        if (s.vramMb().isPresent() || !s.gpus().isEmpty()) m.put("gpu", s.gpus());
        else absent.put("gpu", s.absent().getOrDefault("vram_mb", "GPU sampling not enabled"));
        put(m, "cpu_pct", s.cpuPct());
        put(m, "rss_mb", s.rssMb());
        put(m, "vram_mb", s.vramMb());
        put(m, "total_vram_mb", s.totalVramMb());
        put(m, "gpu_util_pct", s.gpuUtilPct());
        if (!s.gpuUtilPctByGpu().isEmpty()) {
            Map<String, Object> byGpu = new LinkedHashMap<>();
            s.gpuUtilPctByGpu().forEach((gpu, pct) -> byGpu.put(Integer.toString(gpu), pct));
            m.put("gpu_util_pct_by_gpu", byGpu);
        } else {
            absent.put("gpu_util_pct_by_gpu", s.absent().getOrDefault("gpu_util_pct", "no per-process utilization sample"));
        }
        put(m, "io_r_mb_s", s.ioReadMbS());
        put(m, "io_w_mb_s", s.ioWriteMbS());
        put(m, "uptime_s", s.uptimeS());
        m.put("state", "running");
        Counters c = s.counters();
        counter(m, absent, "cpu_usage_usec", c, Field.CPU_USAGE_USEC);
        counter(m, absent, "cpu_user_usec", c, Field.CPU_USER_USEC);
        counter(m, absent, "cpu_system_usec", c, Field.CPU_SYSTEM_USEC);
        counter(m, absent, "cpu_nr_periods", c, Field.CPU_NR_PERIODS);
        counter(m, absent, "cpu_nr_throttled", c, Field.CPU_NR_THROTTLED);
        counter(m, absent, "cpu_throttled_usec", c, Field.CPU_THROTTLED_USEC);
        mib(m, absent, "memory_current_mb", c, Field.MEMORY_CURRENT);
        mib(m, absent, "memory_peak_mb", c, Field.MEMORY_PEAK);
        unlimited(m, absent, "memory_max_mb", c, Field.MEMORY_MAX, true);
        mib(m, absent, "memory_file_mb", c, Field.MEMORY_FILE);
        counter(m, absent, "oom_kills", c, Field.MEMORY_EVENTS_OOM_KILL);
        counter(m, absent, "memory_events_max", c, Field.MEMORY_EVENTS_MAX);
        counter(m, absent, "memory_events_high", c, Field.MEMORY_EVENTS_HIGH);
        counter(m, absent, "io_read_bytes", c, Field.IO_RBYTES);
        counter(m, absent, "io_write_bytes", c, Field.IO_WBYTES);
        counter(m, absent, "io_read_ops", c, Field.IO_RIOS);
        counter(m, absent, "io_write_ops", c, Field.IO_WIOS);
        counter(m, absent, "pids_current", c, Field.PIDS_CURRENT);
        unlimited(m, absent, "pids_max", c, Field.PIDS_MAX, false);
        Map<String, Object> psi = new LinkedHashMap<>();
        Map<String, String> psiAbsent = new LinkedHashMap<>();
        pressure(psi, psiAbsent, "cpu", c, Field.PSI_CPU_SOME_AVG10);
        pressure(psi, psiAbsent, "memory", c, Field.PSI_MEMORY_SOME_AVG10);
        pressure(psi, psiAbsent, "io", c, Field.PSI_IO_SOME_AVG10);
        if (psi.isEmpty()) {
            absent.put("pressure", psiAbsent.get("cpu"));
        } else {
            if (!psiAbsent.isEmpty()) psi.put("absent", psiAbsent);
            m.put("pressure", psi);
        }
        if (!absent.isEmpty()) m.put("absent", absent);
        return m;
    }

    private static void counter(Map<String, Object> m, Map<String, String> absent, String name, Counters c, Field f) {
        OptionalLong v = c.get(f);
        if (v.isPresent()) m.put(name, v.getAsLong());
        else absent.put(name, c.absentReason(f).orElseThrow());
    }

    private static void mib(Map<String, Object> m, Map<String, String> absent, String name, Counters c, Field f) {
        OptionalLong v = c.get(f);
        if (v.isPresent()) m.put(name, round(v.getAsLong() / MIB));
        else absent.put(name, c.absentReason(f).orElseThrow());
    }

    /** A limit: absent when unlimited ("max" in the file), and then explained as such. */
    private static void unlimited(Map<String, Object> m, Map<String, String> absent, String name, Counters c, Field f,
                                  boolean inMib) {
        OptionalLong v = c.get(f);
        if (v.isEmpty()) absent.put(name, c.absentReason(f).orElseThrow());
        else if (v.getAsLong() == Long.MAX_VALUE) absent.put(name, "unlimited (" + f.file() + " is \"max\")");
        else if (inMib) m.put(name, round(v.getAsLong() / MIB));
        else m.put(name, v.getAsLong());
    }

    /**
     * The 8 fields of one pressure file, from its "some avg10" field on, as
     * {some: {avg10, ...}, full: {...}}; when the file gave nothing, its reason under {@code absent}.
     */
    private static void pressure(Map<String, Object> psi, Map<String, String> absent, String name, Counters c, Field first) {
        Field[] all = Field.values();
        Map<String, Object> file = new LinkedHashMap<>();
        String[] lines = {"some", "full"}, keys = {"avg10", "avg60", "avg300"};
        for (int l = 0; l < 2; l++) {
            Map<String, Object> line = new LinkedHashMap<>();
            for (int k = 0; k < 3; k++) {
                OptionalLong v = c.get(all[first.ordinal() + l * 4 + k]);
                if (v.isPresent()) line.put(keys[k], v.getAsLong() / 100.0);
            }
            put(line, "total_usec", c.get(all[first.ordinal() + l * 4 + 3]));
            if (!line.isEmpty()) file.put(lines[l], line);
        }
        if (!file.isEmpty()) psi.put(name, file);
        else absent.put(name, c.absentReason(first).orElseThrow());
    }

    private static Optional<Integer> port(String instance) {
        try {
            int p = Integer.parseInt(instance);
            return p > 0 && p < 65536 ? Optional.of(p) : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * The node: CPU, memory and GPUs, with its own "absent" map.
     *
     * @param n the node's stats
     * @return the JSON tree
     */
    public static Map<String, Object> node(NodeStats n) {
        Map<String, Object> m = new LinkedHashMap<>();
        put(m, "cpu_pct", n.cpuPct());
        put(m, "ram_used_mb", n.ramUsedMb());
        put(m, "ram_total_mb", n.ramTotalMb());
        List<Map<String, Object>> gpus = new ArrayList<>();
        for (GpuDevice d : n.gpus()) {
            Map<String, Object> g = new LinkedHashMap<>();
            g.put("id", d.index());
            g.put("uuid", d.uuid());
            g.put("name", d.name());
            Map<String, String> absent = new LinkedHashMap<>();
            if (d.utilizationPct().isPresent()) g.put("util_pct", d.utilizationPct().getAsInt());
            else absent.put("util_pct", "NVML gave no utilization for this device");
            g.put("vram_used_mb", round(d.memoryUsedBytes() / MIB));
            g.put("vram_total_mb", round(d.memoryTotalBytes() / MIB));
            if (d.temperatureC().isPresent()) g.put("temp_c", d.temperatureC().getAsInt());
            else absent.put("temp_c", "NVML gave no temperature for this device");
            if (!absent.isEmpty()) g.put("absent", absent);
            gpus.add(g);
        }
        // Unknown (no NVML) is not "no GPUs": the list is then absent, with the reason.
        if (!(gpus.isEmpty() && n.absent().containsKey("gpus"))) m.put("gpus", gpus);
        if (!n.absent().isEmpty()) m.put("absent", new LinkedHashMap<>(n.absent()));
        return m;
    }

    /**
     * The hive's heartbeat: HiveTelemetry {hive_id, ts, node, workers}, plus the backend and this round's errors.
     *
     * @param hiveId this hive's id
     * @param s      the sampling round
     * @return the JSON tree
     */
    public static Map<String, Object> hiveTelemetry(String hiveId, Snapshot s) {
        return document(hiveId, s, true);
    }

    /**
     * The worker list ({@code GET /v1/workers}): {hive_id, ts, backend, workers, errors}.
     *
     * @param hiveId this hive's id
     * @param s      the sampling round
     * @return the JSON tree
     */
    public static Map<String, Object> workers(String hiveId, Snapshot s) {
        return document(hiveId, s, false);
    }

    /** The heartbeat has the node, and "service" beside each worker's group for the queen; the worker list neither. */
    private static Map<String, Object> document(String hiveId, Snapshot s, boolean heartbeat) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("hive_id", hiveId);
        m.put("ts", s.timestamp().toString());
        m.put("backend", backend(s));
        if (heartbeat) m.put("node", node(s.node()));
        m.put("workers", s.workers().stream().map(w -> worker(w, heartbeat)).toList());
        m.put("errors", s.errors());
        return m;
    }

    private static Map<String, Object> backend(Snapshot s) {
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("kind", s.backend().kind().name().toLowerCase(java.util.Locale.ROOT));
        b.put("reason", s.backend().reason());
        s.backend().placement().ifPresent(p -> {
            Map<String, Object> pl = new LinkedHashMap<>();
            pl.put("kind", p.kind().name().toLowerCase(java.util.Locale.ROOT));
            pl.put("root", p.root().toString());
            p.unit().ifPresent(u -> pl.put("unit", u));
            p.slice().ifPresent(x -> pl.put("slice", x));
            b.put("placement", pl);
        });
        return b;
    }
}
