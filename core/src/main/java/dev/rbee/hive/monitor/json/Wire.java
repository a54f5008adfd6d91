package dev.rbee.hive.monitor.json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rbee.hive.monitor.ExitReport;
import dev.rbee.hive.monitor.ExitStatus;

import dev.rbee.hive.monitor.ProcessStats;
import dev.rbee.hive.monitor.Snapshot;
import dev.rbee.hive.monitor.gpu.GpuDevice;
import dev.rbee.hive.monitor.proc.NodeStats;
import dev.rbee.hive.monitor.stats.CgroupCounters.Field;
import dev.rbee.hive.monitor.stats.Counters;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * JSON with the wire names the queen expects (snake_case, units in the
 * names).  An absent value is an absent field, never 0 or null; where the
 * reason matters it is given under "absent".
 */
public final class Wire {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private Wire() {}

    public static String json(Object tree) {
        try {
            return MAPPER.writeValueAsString(tree);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not serializable as JSON: " + e.getMessage(), e);
        }
    }

    public static Map<String, Object> exitReport(ExitReport r) {
        Map<String, Object> m = new LinkedHashMap<>();
        r.worker().ifPresent(w -> {
            m.put("service", w.group());
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

    public static void put(Map<String, Object> m, String name, OptionalLong v) {
        if (v.isPresent()) m.put(name, v.getAsLong());
    }

    public static void put(Map<String, Object> m, String name, OptionalDouble v) {
        if (v.isPresent()) m.put(name, round(v.getAsDouble()));
    }

    /** Three decimals: enough for MiB and percentages, and stable output. */
    static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    private static final double MIB = 1024.0 * 1024.0;

    /**
     * A worker with the queen's WorkerTelemetry names (service, instance,
     * cgroup, pids, port, model, gpu, cpu_pct, rss_mb, vram_mb, io_r_mb_s,
     * io_w_mb_s, uptime_s, state) and more fields beside them.
     */
    public static Map<String, Object> worker(ProcessStats s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("worker_id", s.group() + "-" + s.instance());
        m.put("service", s.group());
        m.put("instance", s.instance());
        s.cgroup().ifPresent(c -> m.put("cgroup", c.toString()));
        m.put("pid", s.pid());
        m.put("pids", s.pids());
        port(s.instance()).ifPresent(p -> m.put("port", p));
        s.model().ifPresent(x -> m.put("model", x));
        if (!s.gpus().isEmpty()) m.put("gpu", s.gpus());
        put(m, "cpu_pct", s.cpuPct());
        put(m, "rss_mb", s.rssMb());
        put(m, "vram_mb", s.vramMb());
        put(m, "total_vram_mb", s.totalVramMb());
        put(m, "gpu_util_pct", s.gpuUtilPct());
        put(m, "io_r_mb_s", s.ioReadMbS());
        put(m, "io_w_mb_s", s.ioWriteMbS());
        put(m, "uptime_s", s.uptimeS());
        m.put("state", "running");
        Counters c = s.counters();
        put(m, "cpu_usage_usec", c.get(Field.CPU_USAGE_USEC));
        put(m, "cpu_user_usec", c.get(Field.CPU_USER_USEC));
        put(m, "cpu_system_usec", c.get(Field.CPU_SYSTEM_USEC));
        put(m, "cpu_nr_periods", c.get(Field.CPU_NR_PERIODS));
        put(m, "cpu_nr_throttled", c.get(Field.CPU_NR_THROTTLED));
        put(m, "cpu_throttled_usec", c.get(Field.CPU_THROTTLED_USEC));
        mib(m, "memory_current_mb", c.get(Field.MEMORY_CURRENT));
        mib(m, "memory_peak_mb", c.get(Field.MEMORY_PEAK));
        mib(m, "memory_max_mb", s.memoryMaxBytes());
        mib(m, "memory_file_mb", c.get(Field.MEMORY_FILE));
        put(m, "oom_kills", c.get(Field.MEMORY_EVENTS_OOM_KILL));
        put(m, "memory_events_max", c.get(Field.MEMORY_EVENTS_MAX));
        put(m, "memory_events_high", c.get(Field.MEMORY_EVENTS_HIGH));
        put(m, "io_read_bytes", c.get(Field.IO_RBYTES));
        put(m, "io_write_bytes", c.get(Field.IO_WBYTES));
        put(m, "io_read_ops", c.get(Field.IO_RIOS));
        put(m, "io_write_ops", c.get(Field.IO_WIOS));
        put(m, "pids_current", c.get(Field.PIDS_CURRENT));
        OptionalLong pm = c.get(Field.PIDS_MAX);
        if (pm.isPresent() && pm.getAsLong() != Long.MAX_VALUE) m.put("pids_max", pm.getAsLong());
        Map<String, Object> psi = new LinkedHashMap<>();
        pressure(psi, "cpu", c, Field.PSI_CPU_SOME_AVG10);
        pressure(psi, "memory", c, Field.PSI_MEMORY_SOME_AVG10);
        pressure(psi, "io", c, Field.PSI_IO_SOME_AVG10);
        if (!psi.isEmpty()) m.put("pressure", psi);
        Map<String, String> absent = new LinkedHashMap<>(s.absent());
        for (Field f : new Field[] {Field.MEMORY_CURRENT, Field.PIDS_CURRENT, Field.IO_RBYTES, Field.CPU_NR_THROTTLED,
                Field.PSI_CPU_SOME_AVG10}) c.absentReason(f).ifPresent(r -> absent.putIfAbsent(f.name().toLowerCase(), r));
        if (!absent.isEmpty()) m.put("absent", absent);
        return m;
    }

    /** The 8 fields of one pressure file, from its "some avg10" field on, as {some: {avg10, ...}, full: {...}}. */
    private static void pressure(Map<String, Object> psi, String name, Counters c, Field first) {
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
    }

    private static void mib(Map<String, Object> m, String name, OptionalLong bytes) {
        if (bytes.isPresent()) m.put(name, round(bytes.getAsLong() / MIB));
    }

    private static Optional<Integer> port(String instance) {
        try {
            int p = Integer.parseInt(instance);
            return p > 0 && p < 65536 ? Optional.of(p) : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

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
            d.utilizationPct().ifPresent(u -> g.put("util_pct", u));
            g.put("vram_used_mb", round(d.memoryUsedBytes() / MIB));
            g.put("vram_total_mb", round(d.memoryTotalBytes() / MIB));
            d.temperatureC().ifPresent(t -> g.put("temp_c", t));
            gpus.add(g);
        }
        m.put("gpus", gpus);
        if (!n.absent().isEmpty()) m.put("absent", new LinkedHashMap<>(n.absent()));
        return m;
    }

    /** The hive's heartbeat: HiveTelemetry {hive_id, ts, node, workers}, plus the backend. */
    public static Map<String, Object> hiveTelemetry(String hiveId, Snapshot s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("hive_id", hiveId);
        m.put("ts", s.timestamp().toString());
        m.put("backend", Map.of("kind", s.backend().kind().name().toLowerCase(), "reason", s.backend().reason()));
        m.put("node", node(s.node()));
        m.put("workers", s.workers().stream().map(Wire::worker).toList());
        if (!s.errors().isEmpty()) m.put("errors", s.errors());
        return m;
    }
}
