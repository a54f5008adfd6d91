package dev.rbee.hive.monitor.cli;

import dev.rbee.hive.monitor.model.ProcessStats;
import dev.rbee.hive.monitor.model.Snapshot;
import dev.rbee.hive.monitor.model.Counters.Field;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * The table of {@code rbee-mon top}: one row per worker, plain text (the
 * caller adds the escapes).  A value the kernel did not give prints as "-",
 * never as 0; a memory limit that is not set prints as "max".
 */
final class TopTable {
    private static final double MIB = 1024.0 * 1024.0;

    /** Sort orders, each with its key. */
    enum Sort {
        CPU('c', "cpu"), MEMORY('m', "memory"), IO('i', "io"), NAME('n', "name");

        final char key;
        final String label;

        Sort(char key, String label) {
            this.key = key;
            this.label = label;
        }

        static java.util.Optional<Sort> ofKey(int key) {
            for (Sort s : values()) if (s.key == Character.toLowerCase(key)) return java.util.Optional.of(s);
            return java.util.Optional.empty();
        }

        static Sort parse(String text) {
            for (Sort s : values())
                if (s.label.equalsIgnoreCase(text) || (text.length() == 1 && s.key == Character.toLowerCase(text.charAt(0))))
                    return s;
            throw new IllegalArgumentException("invalid sort \"" + text + "\": expected cpu, memory, io or name");
        }
    }

    static final String[] COLUMNS = {"PIDS", "CPU%", "RSS-MiB", "PEAK-MiB", "LIMIT-MiB", "RD-MiB/s", "WR-MiB/s",
            "CPU-PSI%", "OOM", "GPU%", "VRAM-MiB", "UPTIME"};
    private static final int[] WIDTHS = {5, 7, 9, 9, 10, 9, 9, 9, 4, 5, 9, 9};

    private TopTable() {}

    static List<ProcessStats> sorted(List<ProcessStats> workers, Sort sort) {
        Comparator<ProcessStats> byName = Comparator.comparing(ProcessStats::group)
                .thenComparing(ProcessStats::instance, TopTable::compareInstance);
        Comparator<ProcessStats> c = switch (sort) {
            case CPU -> descending(s -> s.cpuPct());
            case MEMORY -> descending(TopTable::memoryMb);
            case IO -> descending(TopTable::ioMbS);
            case NAME -> (a, b) -> 0;
        };
        List<ProcessStats> out = new ArrayList<>(workers);
        out.sort(c.thenComparing(byName));
        return out;
    }

    /** Numeric instances (ports) in numeric order, before the others. */
    static int compareInstance(String a, String b) {
        boolean na = a.chars().allMatch(Character::isDigit), nb = b.chars().allMatch(Character::isDigit);
        if (na && nb) {
            String x = a.replaceFirst("^0+(?=.)", ""), y = b.replaceFirst("^0+(?=.)", "");
            int c = Integer.compare(x.length(), y.length()); // any length, no overflow
            return c != 0 ? c : x.compareTo(y);
        }
        if (na != nb) return na ? -1 : 1;
        return a.compareTo(b);
    }

    /** Largest first, absent last. */
    private static Comparator<ProcessStats> descending(java.util.function.Function<ProcessStats, OptionalDouble> key) {
        return (a, b) -> {
            OptionalDouble x = key.apply(a), y = key.apply(b);
            if (x.isPresent() && y.isPresent()) return Double.compare(y.getAsDouble(), x.getAsDouble());
            return Boolean.compare(x.isEmpty(), y.isEmpty());
        };
    }

    /** RSS (memory.stat anon), else memory.current, in MiB. */
    static OptionalDouble memoryMb(ProcessStats s) {
        if (s.rssMb().isPresent()) return s.rssMb();
        OptionalLong cur = s.memoryCurrentBytes();
        return cur.isPresent() ? OptionalDouble.of(cur.getAsLong() / MIB) : OptionalDouble.empty();
    }

    static OptionalDouble ioMbS(ProcessStats s) {
        if (s.ioReadMbS().isEmpty() && s.ioWriteMbS().isEmpty()) return OptionalDouble.empty();
        return OptionalDouble.of(s.ioReadMbS().orElse(0) + s.ioWriteMbS().orElse(0));
    }

    static int nameWidth(List<ProcessStats> workers) {
        int w = "WORKER".length();
        for (ProcessStats s : workers) w = Math.max(w, s.id().length());
        return Math.min(w, 40);
    }

    static String header(int nameWidth) {
        StringBuilder b = new StringBuilder(pad("WORKER", nameWidth));
        for (int i = 0; i < COLUMNS.length; i++) b.append(' ').append(left(COLUMNS[i], WIDTHS[i]));
        return b.toString();
    }

    static String row(ProcessStats s, int nameWidth) {
        String id = s.id().length() > nameWidth ? s.id().substring(0, nameWidth - 1) + "~" : s.id();
        String[] cells = {
                Integer.toString(s.pids().size()),
                num(s.cpuPct(), 1),
                num(s.rssMb(), 1),
                mib(s.memoryPeakBytes()),
                limit(s),
                num(s.ioReadMbS(), 2),
                num(s.ioWriteMbS(), 2),
                psi(s.counters().get(Field.PSI_CPU_SOME_AVG10)),
                s.oomKills().isPresent() ? Long.toString(s.oomKills().getAsLong()) : "-",
                num(s.gpuUtilPct(), 0),
                num(s.vramMb(), 1),
                s.uptimeS().isPresent() ? uptime(s.uptimeS().getAsDouble()) : "-",
        };
        StringBuilder b = new StringBuilder(pad(id, nameWidth));
        for (int i = 0; i < cells.length; i++) b.append(' ').append(left(cells[i], WIDTHS[i]));
        return b.toString();
    }

    /** The lines above the table: time, node, workers, sort and keys. */
    static List<String> summary(Snapshot snap, String hive, Sort sort, String interval, boolean keys) {
        List<String> out = new ArrayList<>();
        out.add(String.format(Locale.ROOT, "rbee-mon top - %s - %s - every %s - sort: %s%s", hive,
                snap.timestamp().toString(), interval, sort.label,
                keys ? "   keys: c cpu  m memory  i io  n name  q quit" : ""));
        var n = snap.node();
        String gpus = n.gpus().isEmpty() ? "none" : n.gpus().stream().map(g -> String.format(Locale.ROOT,
                "%d: %.0f/%.0f MiB%s", g.index(), g.memoryUsedBytes() / MIB, g.memoryTotalBytes() / MIB,
                g.utilizationPct().isPresent() ? " " + g.utilizationPct().getAsInt() + "%" : "")).toList().toString();
        out.add(String.format(Locale.ROOT, "node: cpu %s%%  ram %s / %s MiB  gpus %s  |  workers %d%s", num(n.cpuPct(), 1),
                num(n.ramUsedMb(), 0), num(n.ramTotalMb(), 0), gpus, snap.workers().size(),
                snap.errors().isEmpty() ? "" : "  not sampled " + snap.errors().size()));
        return out;
    }

    static String num(OptionalDouble v, int decimals) {
        return v.isPresent() ? String.format(Locale.ROOT, "%." + decimals + "f", v.getAsDouble()) : "-";
    }

    private static String mib(OptionalLong bytes) {
        return bytes.isPresent() ? String.format(Locale.ROOT, "%.1f", bytes.getAsLong() / MIB) : "-";
    }

    /** memory.max: "max" when present but unlimited, "-" when the controller gives none. */
    private static String limit(ProcessStats s) {
        OptionalLong raw = s.counters().get(Field.MEMORY_MAX);
        if (raw.isEmpty()) return "-";
        return raw.getAsLong() == Long.MAX_VALUE ? "max" : mib(raw);
    }

    private static String psi(OptionalLong x100) {
        return x100.isPresent() ? String.format(Locale.ROOT, "%.2f", x100.getAsLong() / 100.0) : "-";
    }

    /** "45s", "12m03s", "5h07m", "3d04h". */
    static String uptime(double seconds) {
        long s = (long) seconds;
        if (s < 60) return s + "s";
        if (s < 3600) return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        if (s < 86400) return String.format(Locale.ROOT, "%dh%02dm", s / 3600, s % 3600 / 60);
        return String.format(Locale.ROOT, "%dd%02dh", s / 86400, s % 86400 / 3600);
    }

    private static String pad(String s, int width) {
        return s.length() >= width ? s : s + " ".repeat(width - s.length());
    }

    private static String left(String s, int width) {
        return s.length() >= width ? s : " ".repeat(width - s.length()) + s;
    }
}
