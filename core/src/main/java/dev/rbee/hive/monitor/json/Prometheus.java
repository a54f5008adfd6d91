package dev.rbee.hive.monitor.json;

import dev.rbee.hive.monitor.model.ProcessStats;
import dev.rbee.hive.monitor.model.Snapshot;
import dev.rbee.hive.monitor.model.GpuDevice;
import dev.rbee.hive.monitor.model.Counters.Field;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * A {@link Snapshot} in the Prometheus text exposition format 0.0.4, or in
 * OpenMetrics 1.0 when the scraper asks for it ({@link Format#negotiate}).
 *
 * <p>Names follow the Prometheus rules: base units (seconds, bytes, ratios
 * 0..1), counters end in {@code _total}, each family has its HELP and TYPE
 * lines before its samples, and workers are told apart by the labels
 * {@code group} and {@code worker} (never {@code instance} or {@code job}:
 * Prometheus sets those to the scrape target and would rename ours to
 * {@code exported_instance}).  A value the kernel did not give is not
 * emitted (never a made-up 0); a family without any sample is left out.
 * Raw counters only: rates are for PromQL's {@code rate()}.
 *
 * <p>Hand-written rather than Prometheus client_java 1.x: every value comes
 * from one immutable {@link Snapshot} per scrape (nothing to register or
 * update), the two formats differ in three details (counter and info family
 * names, {@code # EOF}, HELP escaping), and this writer is what
 * {@code promtool check metrics} and a real Prometheus are tested against.
 *
 * <p>Stateless: thread-safe; every call returns a new string.
 */
public final class Prometheus {
    /** The Content-Type of the text format 0.0.4. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    /** The Content-Type of OpenMetrics 1.0. */
    public static final String OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    private static final double MIB = 1024.0 * 1024.0;

    private Prometheus() {}

    /** The two exposition formats. */
    public enum Format {
        /** The Prometheus text format 0.0.4. */
        TEXT(CONTENT_TYPE),
        /** OpenMetrics 1.0. */
        OPENMETRICS(OPENMETRICS_CONTENT_TYPE);

        private final String contentType;

        Format(String contentType) {
            this.contentType = contentType;
        }

        /**
         * The Content-Type to answer with.
         *
         * @return the media type with its version and charset
         */
        public String contentType() {
            return contentType;
        }

        /**
         * OpenMetrics when the Accept header ranks it at least as high as the
         * text format (Prometheus sends {@code application/openmetrics-text;version=1.0.0,...,text/plain;version=0.0.4;q=0.5}),
         * else the text format 0.0.4 (also for no header, or a garbled one).
         *
         * @param accept the request's Accept header, or null
         * @return the format to answer in
         */
        public static Format negotiate(String accept) {
            if (accept == null) return TEXT;
            double om = -1, text = -1;
            for (String range : accept.split(",")) {
                String[] parts = range.split(";");
                String type = parts[0].strip().toLowerCase(java.util.Locale.ROOT);
                double q = 1;
                for (int i = 1; i < parts.length; i++) {
                    String p = parts[i].strip();
                    if (p.regionMatches(true, 0, "q=", 0, 2)) {
                        try {
                            q = Double.parseDouble(p.substring(2).strip());
                        } catch (NumberFormatException e) {
                            q = 0;
                        }
                    }
                }
                if (type.equals("application/openmetrics-text")) om = Math.max(om, q);
                else if (type.equals("text/plain") || type.equals("text/*") || type.equals("*/*")) text = Math.max(text, q);
            }
            return om > 0 && om >= text ? OPENMETRICS : TEXT;
        }
    }

    /**
     * What a scrape adds to the snapshot: the format, this program's version
     * (for {@code rbee_build_info}) and when the scrape began ({@link System#nanoTime},
     * for {@code rbee_scrape_duration_seconds}).
     *
     * @param format     the exposition format
     * @param version    this program's version
     * @param startNanos {@link System#nanoTime} when the scrape began
     */
    public record Scrape(Format format, String version, long startNanos) {
        /** Checks that format and version are there. */
        public Scrape {
            java.util.Objects.requireNonNull(format, "format");
            java.util.Objects.requireNonNull(version, "version");
        }

        /**
         * The text format, version "unknown", starting now.
         *
         * @return the scrape
         */
        public static Scrape text() {
            return new Scrape(Format.TEXT, "unknown", System.nanoTime());
        }
    }

    /**
     * {@link #metrics(Snapshot, Scrape)} in the text format 0.0.4.
     *
     * @param s the sampling round
     * @return the exposition
     */
    public static String metrics(Snapshot s) {
        return metrics(s, Scrape.text());
    }

    /**
     * The exposition of one sampling round: every family of the README's table.
     *
     * @param s      the sampling round
     * @param scrape the format, version and start of this scrape
     * @return the exposition, ending as the format requires
     */
    public static String metrics(Snapshot s, Scrape scrape) {
        Exposition families = new Exposition();
        List<ProcessStats> ws = s.workers();
        boolean om = scrape.format() == Format.OPENMETRICS;

        Family f = family(families, "rbee_worker_info", "info",
                "One series per worker, value 1: its pid, model (when known) and the monitor's backend.");
        String backend = escapeLabel(s.backend().kind().name().toLowerCase(java.util.Locale.ROOT));
        for (ProcessStats w : ws)
            f.sample(families.labels(w) + ",pid=\"" + w.pid() + "\"" + w.model().map(m -> ",model=\"" + escapeLabel(m) + "\"").orElse("")
                    + ",backend=\"" + backend + "\"", "1");

        f = family(families, "rbee_worker_cpu_usage_seconds_total", "counter",
                "CPU time used by the worker's cgroup (cpu.stat usage_usec).");
        for (ProcessStats w : ws) f.usec(w, w.counters().get(Field.CPU_USAGE_USEC));
        f = family(families, "rbee_worker_cpu_user_seconds_total", "counter", "User CPU time (cpu.stat user_usec).");
        for (ProcessStats w : ws) f.usec(w, w.counters().get(Field.CPU_USER_USEC));
        f = family(families, "rbee_worker_cpu_system_seconds_total", "counter", "System CPU time (cpu.stat system_usec).");
        for (ProcessStats w : ws) f.usec(w, w.counters().get(Field.CPU_SYSTEM_USEC));
        f = family(families, "rbee_worker_cpu_throttled_periods_total", "counter",
                "Enforcement periods in which the worker was throttled (cpu.stat nr_throttled).");
        for (ProcessStats w : ws) f.count(w, w.counters().get(Field.CPU_NR_THROTTLED));
        f = family(families, "rbee_worker_cpu_throttled_seconds_total", "counter",
                "Time the worker was throttled by its CPU limit (cpu.stat throttled_usec).");
        for (ProcessStats w : ws) f.usec(w, w.counters().get(Field.CPU_THROTTLED_USEC));

        f = family(families, "rbee_worker_memory_bytes", "gauge",
                "Memory charged to the worker's cgroup, page cache included (memory.current).");
        for (ProcessStats w : ws) f.count(w, w.counters().get(Field.MEMORY_CURRENT));
        f = family(families, "rbee_worker_memory_anon_bytes", "gauge",
                "Anonymous memory of the worker (memory.stat anon), the closest the kernel has to RSS.");
        for (ProcessStats w : ws) f.count(w, w.counters().get(Field.MEMORY_ANON));
        f = family(families, "rbee_worker_memory_peak_bytes", "gauge", "Highest memory.current seen (memory.peak).");
        for (ProcessStats w : ws) f.count(w, w.counters().get(Field.MEMORY_PEAK));
        f = family(families, "rbee_worker_memory_limit_bytes", "gauge",
                "The worker's memory limit (memory.max); absent when unlimited.");
        for (ProcessStats w : ws) f.count(w, w.memoryMaxBytes());
        f = family(families, "rbee_worker_oom_kills_total", "counter",
                "Processes of the worker killed by the OOM killer (memory.events oom_kill).");
        for (ProcessStats w : ws) f.count(w, w.counters().get(Field.MEMORY_EVENTS_OOM_KILL));

        f = family(families, "rbee_worker_io_read_bytes_total", "counter", "Bytes read, all devices (io.stat rbytes).");
        for (ProcessStats w : ws) f.count(w, w.counters().get(Field.IO_RBYTES));
        f = family(families, "rbee_worker_io_write_bytes_total", "counter", "Bytes written, all devices (io.stat wbytes).");
        for (ProcessStats w : ws) f.count(w, w.counters().get(Field.IO_WBYTES));
        f = family(families, "rbee_worker_io_read_operations_total", "counter", "Read operations (io.stat rios).");
        for (ProcessStats w : ws) f.count(w, w.counters().get(Field.IO_RIOS));
        f = family(families, "rbee_worker_io_write_operations_total", "counter", "Write operations (io.stat wios).");
        for (ProcessStats w : ws) f.count(w, w.counters().get(Field.IO_WIOS));

        f = family(families, "rbee_worker_pids", "gauge", "Tasks (threads included) in the worker's cgroup (pids.current).");
        for (ProcessStats w : ws) f.count(w, w.counters().get(Field.PIDS_CURRENT));
        f = family(families, "rbee_worker_processes", "gauge", "Processes in the worker's cgroup (cgroup.procs).");
        for (ProcessStats w : ws) f.sample(families.labels(w), Integer.toString(w.pids().size()));

        f = family(families, "rbee_worker_pressure_waiting_seconds_total", "counter",
                "Time some of the worker's tasks stalled waiting for a resource (PSI \"some\" total).");
        for (ProcessStats w : ws) {
            f.usec(w, "cpu", w.counters().get(Field.PSI_CPU_SOME_TOTAL_USEC));
            f.usec(w, "memory", w.counters().get(Field.PSI_MEMORY_SOME_TOTAL_USEC));
            f.usec(w, "io", w.counters().get(Field.PSI_IO_SOME_TOTAL_USEC));
        }
        f = family(families, "rbee_worker_pressure_stalled_seconds_total", "counter",
                "Time all of the worker's non-idle tasks stalled at once on a resource (PSI \"full\" total).");
        for (ProcessStats w : ws) {
            f.usec(w, "cpu", w.counters().get(Field.PSI_CPU_FULL_TOTAL_USEC));
            f.usec(w, "memory", w.counters().get(Field.PSI_MEMORY_FULL_TOTAL_USEC));
            f.usec(w, "io", w.counters().get(Field.PSI_IO_FULL_TOTAL_USEC));
        }

        f = family(families, "rbee_worker_start_time_seconds", "gauge",
                "When the worker's main process started, seconds since the Unix epoch.");
        double now = s.timestamp().getEpochSecond() + s.timestamp().getNano() / 1e9;
        for (ProcessStats w : ws)
            if (w.uptimeS().isPresent()) f.sample(families.labels(w), number(Math.round((now - w.uptimeS().getAsDouble()) * 1000) / 1000.0));
        f = family(families, "rbee_worker_gpu_memory_bytes", "gauge", "GPU memory used by the worker's processes (NVML).");
        for (ProcessStats w : ws) f.mib(w, w.vramMb());
        f = family(families, "rbee_worker_gpu_utilization_ratio", "gauge",
                "Share of a GPU's time that a kernel of the worker's processes ran, 0..1, per GPU (NVML).");
        for (ProcessStats w : ws)
            for (var g : w.gpuUtilPctByGpu().entrySet())
                f.ratio(families.labels(w) + ",gpu=\"" + g.getKey() + "\"", OptionalDouble.of(g.getValue()));

        f = family(families, "rbee_workers", "gauge", "Workers in the tree in the last sampling round.");
        f.sample("", Integer.toString(ws.size()));
        f = family(families, "rbee_sampling_errors", "gauge", "Workers that could not be sampled in the last round.");
        f.sample("", Integer.toString(s.errors().size()));
        f = family(families, "rbee_sample_timestamp_seconds", "gauge",
                "When the last sampling round was taken, seconds since the Unix epoch.");
        f.sample("", number(s.timestamp().toEpochMilli() / 1000.0));

        f = family(families, "rbee_build_info", "info", "The rbee-mon build, value 1.");
        f.sample("version=\"" + escapeLabel(scrape.version()) + "\",java_version=\"" + escapeLabel(Runtime.version().toString())
                + "\"", "1");

        f = family(families, "rbee_node_cpu_ratio", "gauge", "Busy share of all the node's CPUs, 0..1 (/proc/stat).");
        f.ratio("", s.node().cpuPct());
        f = family(families, "rbee_node_memory_used_bytes", "gauge", "MemTotal - MemAvailable (/proc/meminfo).");
        f.mib("", s.node().ramUsedMb());
        f = family(families, "rbee_node_memory_total_bytes", "gauge", "MemTotal (/proc/meminfo).");
        f.mib("", s.node().ramTotalMb());
        f = family(families, "rbee_node_gpu_memory_used_bytes", "gauge", "GPU memory used, all processes (NVML).");
        for (GpuDevice d : s.node().gpus()) f.sample(gpuLabels(d), Long.toString(d.memoryUsedBytes()));
        f = family(families, "rbee_node_gpu_memory_total_bytes", "gauge", "GPU memory in total (NVML).");
        for (GpuDevice d : s.node().gpus()) f.sample(gpuLabels(d), Long.toString(d.memoryTotalBytes()));
        f = family(families, "rbee_node_gpu_utilization_ratio", "gauge", "Share of time a kernel ran on the GPU, 0..1 (NVML).");
        for (GpuDevice d : s.node().gpus())
            if (d.utilizationPct().isPresent()) f.sample(gpuLabels(d), number(d.utilizationPct().getAsInt() / 100.0));
        f = family(families, "rbee_node_gpu_temperature_celsius", "gauge", "GPU temperature (NVML).");
        for (GpuDevice d : s.node().gpus())
            if (d.temperatureC().isPresent()) f.sample(gpuLabels(d), Integer.toString(d.temperatureC().getAsInt()));

        StringBuilder out = new StringBuilder(256 + ws.size() * 2048);
        for (Family fam : families.all) fam.appendTo(out, om);
        // Last, so that it covers the writing of everything above.
        f = new Family(families, "rbee_scrape_duration_seconds", "gauge",
                "Time this exposition took to build, up to this line (the sampling itself runs on its own interval).");
        f.sample("", number((System.nanoTime() - scrape.startNanos()) / 1e9));
        f.appendTo(out, om);
        if (om) out.append("# EOF\n");
        return out.toString();
    }

    private static Family family(Exposition x, String name, String type, String help) {
        Family f = new Family(x, name, type, help);
        x.all.add(f);
        return f;
    }

    /** One exposition's families, and each worker's label string made once (not once per family). */
    private static final class Exposition {
        final List<Family> all = new ArrayList<>();
        private final java.util.IdentityHashMap<ProcessStats, String> labels = new java.util.IdentityHashMap<>();

        String labels(ProcessStats w) {
            return labels.computeIfAbsent(w, Prometheus::labels);
        }
    }

    private static String labels(ProcessStats w) {
        return "group=\"" + escapeLabel(w.group()) + "\",worker=\"" + escapeLabel(w.instance()) + "\"";
    }

    private static String gpuLabels(GpuDevice d) {
        return "gpu=\"" + d.index() + "\",uuid=\"" + escapeLabel(d.uuid()) + "\",name=\"" + escapeLabel(d.name()) + "\"";
    }

    /**
     * A label value: backslash, double quote and line feed escaped, as the format requires.
     *
     * @param v the value
     * @return the escaped value
     */
    public static String escapeLabel(String v) {
        StringBuilder b = new StringBuilder(v.length() + 8);
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            switch (c) {
                case '\\' -> b.append("\\\\");
                case '"' -> b.append("\\\"");
                case '\n' -> b.append("\\n");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    /** HELP text: backslash and line feed escaped; in OpenMetrics the double quote too. */
    static String escapeHelp(String v, boolean om) {
        String e = v.replace("\\", "\\\\").replace("\n", "\\n");
        return om ? e.replace("\"", "\\\"") : e;
    }

    /** Microseconds as exact decimal seconds ("12.000345"). */
    static String seconds(long usec) {
        String frac = Long.toString(1_000_000 + Math.floorMod(usec, 1_000_000L)).substring(1);
        return Math.floorDiv(usec, 1_000_000L) + "." + frac;
    }

    /** A float the way Go's strconv.ParseFloat reads it: plain decimal (no exponent), whole numbers without a fraction. */
    static String number(double v) {
        if (Double.isNaN(v)) return "NaN";
        if (Double.isInfinite(v)) return v > 0 ? "+Inf" : "-Inf";
        if (v == Math.rint(v) && Math.abs(v) < 1e15) return Long.toString((long) v);
        return java.math.BigDecimal.valueOf(v).toPlainString();
    }

    private static final class Family {
        final Exposition x;
        final String name, type, help;
        final StringBuilder samples = new StringBuilder();

        Family(Exposition x, String name, String type, String help) {
            this.x = x;
            this.name = name;
            this.type = type;
            this.help = help;
        }

        void sample(String labels, String value) {
            samples.append(name);
            if (!labels.isEmpty()) samples.append('{').append(labels).append('}');
            samples.append(' ').append(value).append('\n');
        }

        void usec(ProcessStats w, OptionalLong usec) {
            if (usec.isPresent()) sample(x.labels(w), seconds(usec.getAsLong()));
        }

        void usec(ProcessStats w, String resource, OptionalLong usec) {
            if (usec.isPresent()) sample(x.labels(w) + ",resource=\"" + resource + "\"", seconds(usec.getAsLong()));
        }

        void count(ProcessStats w, OptionalLong v) {
            if (v.isPresent()) sample(x.labels(w), Long.toString(v.getAsLong()));
        }

        void mib(ProcessStats w, OptionalDouble mib) {
            mib(x.labels(w), mib);
        }

        void mib(String labels, OptionalDouble mib) {
            if (mib.isPresent()) sample(labels, number(Math.round(mib.getAsDouble() * MIB)));
        }

        void ratio(String labels, OptionalDouble pct) {
            if (pct.isPresent()) sample(labels, number(pct.getAsDouble() / 100.0));
        }

        /**
         * OpenMetrics names a family without the suffix its samples carry
         * ({@code _total} of a counter, {@code _info} of an info) and knows the
         * type info; the text format 0.0.4 has an info series as a gauge.
         */
        void appendTo(StringBuilder out, boolean om) {
            if (samples.isEmpty()) return;
            String family = name, t = type;
            if (om && type.equals("counter")) family = name.substring(0, name.length() - "_total".length());
            else if (om && type.equals("info")) family = name.substring(0, name.length() - "_info".length());
            else if (!om && type.equals("info")) t = "gauge";
            out.append("# HELP ").append(family).append(' ').append(escapeHelp(help, om)).append('\n');
            out.append("# TYPE ").append(family).append(' ').append(t).append('\n');
            out.append(samples);
        }
    }
}
