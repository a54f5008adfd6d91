package dev.rbee.hive.monitor.cli;

import dev.rbee.hive.monitor.model.Backend;
import dev.rbee.hive.monitor.model.ProcessStats;
import dev.rbee.hive.monitor.model.Snapshot;
import dev.rbee.hive.monitor.model.GpuDevice;
import dev.rbee.hive.monitor.json.Prometheus;
import dev.rbee.hive.monitor.model.NodeStats;
import dev.rbee.hive.monitor.read.CgroupCounters;
import dev.rbee.hive.monitor.model.Counters.Field;
import dev.rbee.hive.monitor.model.Counters;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
                full ? List.of(0, 1) : List.of(), full ? Map.of(0, 1.5, 1, 99.0) : Map.of(), Optional.empty(), new Counters(c),
                Map.of(), TS);
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
        Map<String, String> a = Map.of("group", "llm", "worker", "8080"), b = Map.of("group", "llm", "worker", "8081");

        assertEquals(1.234567, value(f, "rbee_worker_cpu_usage_seconds_total", a));
        assertEquals(1.234567, value(f, "rbee_worker_cpu_usage_seconds_total", b));
        assertTrue(text.contains("rbee_worker_cpu_usage_seconds_total{group=\"llm\",worker=\"8080\"} 1.234567\n"), text);
        assertEquals(1_500_000 + Field.MEMORY_CURRENT.ordinal(), value(f, "rbee_worker_memory_bytes", a));
        assertNull(value(f, "rbee_worker_memory_bytes", b), "absent: not emitted");
        assertNull(f.get("rbee_worker_memory_limit_bytes"), "unlimited (max) and absent: no family at all");
        assertEquals(512.0 * 1024 * 1024, value(f, "rbee_worker_gpu_memory_bytes", a));
        // One series per GPU, each a share of that GPU: two busy GPUs never read 200 %.
        assertEquals(0.015, value(f, "rbee_worker_gpu_utilization_ratio", Map.of("group", "llm", "worker", "8080", "gpu", "0")));
        assertEquals(0.99, value(f, "rbee_worker_gpu_utilization_ratio", Map.of("group", "llm", "worker", "8080", "gpu", "1")));
        assertTrue(f.get("rbee_worker_gpu_utilization_ratio").samples().stream().noneMatch(x -> x.labels().get("worker").equals("8081")),
                "no GPU sample: no series");
        assertEquals(2.0, value(f, "rbee_worker_processes", b));
        assertEquals(TS.getEpochSecond() - 10.0, value(f, "rbee_worker_start_time_seconds", a));
        assertEquals(3, f.get("rbee_worker_pressure_waiting_seconds_total").samples().stream()
                .filter(x -> x.labels().get("worker").equals("8080")).count());
        assertEquals(0.125, f.get("rbee_node_cpu_ratio").samples().get(0).value());
        assertEquals(2048.0 * 1024 * 1024, f.get("rbee_node_memory_total_bytes").samples().get(0).value());
        PromText.Sample g = f.get("rbee_node_gpu_memory_total_bytes").samples().get(0);
        assertEquals("NVIDIA \"H100\" 80GB\\PCIe", g.labels().get("name"), "escaped and read back");
        assertEquals(0.42, f.get("rbee_node_gpu_utilization_ratio").samples().get(0).value());
        assertEquals(2.0, f.get("rbee_workers").samples().get(0).value());
        PromText.Sample info = f.get("rbee_worker_info").samples().get(0);
        assertEquals(Map.of("group", "llm", "worker", "8080", "pid", "1", "backend", "cgroup2"), info.labels());
        assertEquals(1.0, info.value());
        assertEquals("gauge", f.get("rbee_worker_info").type(), "an info series is a gauge in the text format");
        PromText.Sample build = f.get("rbee_build_info").samples().get(0);
        assertEquals(Runtime.version().toString(), build.labels().get("java_version"));
        assertTrue(f.get("rbee_scrape_duration_seconds").samples().get(0).value() >= 0);
        for (PromText.Family fam : f.values())
            for (PromText.Sample x : fam.samples())
                assertFalse(x.labels().containsKey("instance") || x.labels().containsKey("job"),
                        "instance and job belong to Prometheus: " + x);
        List<String> exponents = text.lines().filter(l -> !l.startsWith("#"))
                .filter(l -> l.substring(l.lastIndexOf(' ') + 1).matches(".*[eE].*")).toList();
        assertTrue(exponents.isEmpty(), "no exponent notation: " + exponents);
    }

    @Test
    void openMetricsHasItsOwnFamilyNamesAndEndsWithEof() {
        Snapshot s = new Snapshot(TS, new Backend(Backend.Kind.CGROUP2, "test", Optional.empty()),
                new NodeStats(OptionalDouble.of(12.5), OptionalDouble.empty(), OptionalDouble.empty(), List.of(), Map.of()),
                List.of(worker("8080", true)), List.of());
        String text = Prometheus.metrics(s, new Prometheus.Scrape(Prometheus.Format.OPENMETRICS, "1.2.3", System.nanoTime()));
        assertTrue(text.contains("# TYPE rbee_worker_cpu_usage_seconds counter\n"), text);
        assertTrue(text.contains("# TYPE rbee_worker info\n"), text);
        assertTrue(text.contains("# HELP rbee_worker_pressure_waiting_seconds Time some of the worker's tasks stalled waiting "
                + "for a resource (PSI \\\"some\\\" total).\n"), "the double quote escaped in OpenMetrics HELP");
        Map<String, PromText.Family> f = PromText.parseOpenMetrics(text);
        assertEquals(1.234567, value(f, "rbee_worker_cpu_usage_seconds_total", Map.of("group", "llm", "worker", "8080")));
        assertEquals("1.2.3", f.get("rbee_build_info").samples().get(0).labels().get("version"));
        assertThrows(IllegalArgumentException.class, () -> PromText.parseOpenMetrics(text.replace("# EOF\n", "")));
        // The same snapshot in the text format passes the 0.0.4 reader; the OpenMetrics one does not.
        assertThrows(IllegalArgumentException.class, () -> PromText.parse(text));
    }

    @Test
    void theAcceptHeaderChoosesTheFormat() {
        assertEquals(Prometheus.Format.TEXT, Prometheus.Format.negotiate(null));
        assertEquals(Prometheus.Format.TEXT, Prometheus.Format.negotiate("*/*"));
        assertEquals(Prometheus.Format.TEXT, Prometheus.Format.negotiate("text/plain;version=0.0.4"));
        // What Prometheus 2.x sends.
        assertEquals(Prometheus.Format.OPENMETRICS, Prometheus.Format.negotiate(
                "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
                        + "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
        assertEquals(Prometheus.Format.TEXT, Prometheus.Format.negotiate("application/openmetrics-text;q=0.2, text/plain"));
        assertEquals(Prometheus.Format.TEXT, Prometheus.Format.negotiate("application/openmetrics-text;q=0"));
        assertEquals(Prometheus.Format.TEXT, Prometheus.Format.negotiate("garbage;;q=x,,"));
    }

    /** Before: worker_id joined group and instance with "-", so a-b/c and a/b-c were one id. */
    @Test
    void workerIdsOfDifferentWorkersNeverCollide() {
        var c = new dev.rbee.hive.monitor.read.CgroupCounters();
        Object one = dev.rbee.hive.monitor.json.Wire.worker(TopTableTest.stats("a-b", "c", OptionalDouble.empty(), OptionalDouble.empty(), c))
                .get("worker_id");
        Object two = dev.rbee.hive.monitor.json.Wire.worker(TopTableTest.stats("a", "b-c", OptionalDouble.empty(), OptionalDouble.empty(), c))
                .get("worker_id");
        assertEquals("a-b/c", one);
        assertEquals("a/b-c", two);
    }

    private static Double value(Map<String, PromText.Family> f, String family, Map<String, String> labels) {
        PromText.Family fam = f.get(family);
        if (fam == null) return null;
        return fam.samples().stream().filter(x -> x.labels().equals(labels)).map(PromText.Sample::value).findFirst().orElse(null);
    }
}
