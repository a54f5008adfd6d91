package dev.rbee.hive.monitor.json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rbee.hive.monitor.ExitReport;
import dev.rbee.hive.monitor.ExitStatus;

import java.util.LinkedHashMap;
import java.util.Map;
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
        m.put("cgroup_removed", r.cgroupRemoved());
        if (!r.absent().isEmpty()) m.put("absent", new LinkedHashMap<>(r.absent()));
        return m;
    }

    public static void put(Map<String, Object> m, String name, OptionalLong v) {
        if (v.isPresent()) m.put(name, v.getAsLong());
    }
}
