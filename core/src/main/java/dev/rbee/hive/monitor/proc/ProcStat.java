package dev.rbee.hive.monitor.proc;

import dev.rbee.hive.monitor.internal.Libc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;

/**
 * The fields of /proc/PID/stat this library uses.  The command name (field 2)
 * may hold spaces and parentheses, so fields are counted after its last ')'.
 *
 * @param startTimeTicks field 22: start time after boot, in clock ticks
 */
public record ProcStat(long pid, char state, long ppid, long pgrp, long session, long startTimeTicks) {
    /** sysconf(_SC_CLK_TCK): the real value, not an assumed 100. */
    public static final long TICKS_PER_SECOND = Libc.clockTicksPerSecond();

    public static Optional<ProcStat> read(long pid) {
        try {
            return Optional.of(parse(Files.readString(Path.of("/proc", Long.toString(pid), "stat"))));
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // gone, or not ours to read
        }
    }

    public static ProcStat parse(String stat) {
        int close = stat.lastIndexOf(')');
        if (close < 0) throw new IllegalArgumentException("not a /proc/PID/stat line: " + stat);
        long pid = Long.parseLong(stat.substring(0, stat.indexOf(' ')).strip());
        String[] f = stat.substring(close + 2).strip().split(" ");
        // f[0] is field 3 (state)
        return new ProcStat(pid, f[0].charAt(0), Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3]),
                Long.parseLong(f[19]));
    }

    /** When the process started, from the boot time in /proc/stat. */
    public Instant startedAt() {
        return BootTime.get().plusMillis(startTimeTicks * 1000 / TICKS_PER_SECOND);
    }
}
