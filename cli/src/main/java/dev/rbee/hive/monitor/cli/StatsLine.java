package dev.rbee.hive.monitor.cli;

import dev.rbee.hive.monitor.model.ProcessStats;

import java.util.OptionalDouble;

/** One human line per worker: absent values print as "-", never as 0. */
final class StatsLine {
    private StatsLine() {}

    static String of(ProcessStats s) {
        return String.format("%s pid %d (%d procs) cpu %s%% rss %s MiB mem %s MiB io r/w %s/%s MiB/s oom %s up %s s",
                s.id(), s.pid(), s.pids().size(), num(s.cpuPct(), 1), num(s.rssMb(), 1),
                s.memoryCurrentBytes().isPresent() ? String.format("%.1f", s.memoryCurrentBytes().getAsLong() / 1048576.0) : "-",
                num(s.ioReadMbS(), 2), num(s.ioWriteMbS(), 2),
                s.oomKills().isPresent() ? Long.toString(s.oomKills().getAsLong()) : "-", num(s.uptimeS(), 0));
    }

    static String num(OptionalDouble v, int decimals) {
        return v.isPresent() ? String.format("%." + decimals + "f", v.getAsDouble()) : "-";
    }
}
