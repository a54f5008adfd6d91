package dev.rbee.hive.monitor.cli;

import dev.rbee.hive.monitor.Backend;
import dev.rbee.hive.monitor.ProcessStats;
import dev.rbee.hive.monitor.Snapshot;
import dev.rbee.hive.monitor.gpu.GpuDevice;
import dev.rbee.hive.monitor.json.Prometheus;
import dev.rbee.hive.monitor.proc.NodeStats;
import dev.rbee.hive.monitor.stats.CgroupCounters;
import dev.rbee.hive.monitor.stats.CgroupCounters.Field;
import dev.rbee.hive.monitor.stats.Counters;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every family the writer has, filled in, through the strict reader; and absent values left out. */
class PrometheusTest {
    static final Instant TS = Instant.parse("2026-01-01T00:00:10Z");

    static ProcessStats worker(String instance, boolean full) {
        CgroupCounters c = new CgroupCounters();
        for (Field f : Field.values()) {
            if (full) c.set(f, 1_500_000 + f.ordinal());
            else c.absent(f, "controller not enabled");
        }
        if (full) c.set(Field.MEMORY_MAX, Long.MAX_VALUE); // unlimited: no limit sample
        c.set(Field.CPU_USAGE_USEC, 1_234_567);
        OptionalDouble some = full ? OptionalDouble.of(1.5) : OptionalDouble.empty();
        return new ProcessStats("llm", instance, Optional.of(Path.of("/x")), 1, List.of(1L, 2L), some, some, some, some,
                OptionalDouble.of(10), some, full ? OptionalDouble.of(512) : OptionalDouble.empty(), some,
                List.of(), Optional.empty(), new Counters(c), Map.of(), TS);
    }

    @Test
    void everyFamilyPassesTheStrictCheck() {
        GpuDevice gpu = new GpuDevice(0, "GPU-1234", "NVIDIA \"H100\" 80GB\\PCIe", 80L << 30, 1L << 30,
                OptionalInt.of(42), OptionalInt.of(55));
        Snapshot s = new Snapshot(TS, new Backend(Backend.Kind.CGROUP2, "test", Optional.empty()),
                new NodeStats(OptionalDouble.of(12.5), OptionalDouble.of(1024), OptionalDouble.of(2048), List.of(gpu), Map.of()),
                List.of(worker("8080", true), worker("8081", false)), List.of());
        String text = Prometheus.metrics(s);
        Map<String, PromText.Family> f = PromText.parse(text);
        Map<String, String> a = Map.of("group", "llm", "instance", "8080"), b = Map.of("group", "llm", "instance", "8081");

        assertEquals(1.234567, value(f, "rbee_worker_cpu_usage_seconds_total", a));
        assertEquals(1.234567, value(f, "rbee_worker_cpu_usage_seconds_total", b));
        assertTrue(text.contains("rbee_worker_cpu_usage_seconds_total{group=\"llm\",instance=\"8080\"} 1.234567\n"), text);
        assertEquals(1_500_000 + Field.MEMORY_CURRENT.ordinal(), value(f, "rbee_worker_memory_bytes", a));
        assertNull(value(f, "rbee_worker_memory_bytes", b), "absent: not emitted");
        assertNull(f.get("rbee_worker_memory_limit_bytes"), "unlimited (max) and absent: no family at all");
        assertEquals(512.0 * 1024 * 1024, value(f, "rbee_worker_gpu_memory_bytes", a));
        assertEquals(0.015, value(f, "rbee_worker_gpu_utilization_ratio", a));
        assertEquals(2.0, value(f, "rbee_worker_processes", b));
        assertEquals(TS.getEpochSecond() - 10.0, value(f, "rbee_worker_start_time_seconds", a));
        assertEquals(3, f.get("rbee_worker_pressure_waiting_seconds_total").samples().stream()
                .filter(x -> x.labels().get("instance").equals("8080")).count());
        assertEquals(0.125, f.get("rbee_node_cpu_ratio").samples().get(0).value());
        assertEquals(2048.0 * 1024 * 1024, f.get("rbee_node_memory_total_bytes").samples().get(0).value());
        PromText.Sample g = f.get("rbee_node_gpu_memory_total_bytes").samples().get(0);
        assertEquals("NVIDIA \"H100\" 80GB\\PCIe", g.labels().get("name"), "escaped and read back");
        assertEquals(0.42, f.get("rbee_node_gpu_utilization_ratio").samples().get(0).value());
        assertEquals(2.0, f.get("rbee_workers").samples().get(0).value());
        List<String> exponents = text.lines().filter(l -> !l.startsWith("#"))
                .filter(l -> l.substring(l.lastIndexOf(' ') + 1).matches(".*[eE].*")).toList();
        assertTrue(exponents.isEmpty(), "no exponent notation: " + exponents);
    }

    private static Double value(Map<String, PromText.Family> f, String family, Map<String, String> labels) {
        PromText.Family fam = f.get(family);
        if (fam == null) return null;
        return fam.samples().stream().filter(x -> x.labels().equals(labels)).map(PromText.Sample::value).findFirst().orElse(null);
    }
}
