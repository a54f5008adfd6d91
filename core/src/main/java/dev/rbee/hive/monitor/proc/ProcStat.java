package dev.rbee.hive.monitor.proc;

import dev.rbee.hive.monitor.internal.Libc;
import dev.rbee.hive.monitor.read.AsciiBuffer;
import dev.rbee.hive.monitor.read.KeptOpenFile;

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

    /** This thread's buffer: adopting N workers reads N files (Files.readString made a channel, a stream and arrays each). */
    private static final ThreadLocal<AsciiBuffer> BUFFER = ThreadLocal.withInitial(() -> new AsciiBuffer(1024));

    /** /proc/PID/stat, read with open, one pread and close into this thread's buffer; empty if gone or unreadable. */
    public static Optional<ProcStat> read(long pid) {
        AsciiBuffer b = BUFFER.get();
        int fd = Libc.open("/proc/" + pid + "/stat", Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        if (fd < 0) return Optional.empty(); // gone, or not ours to read
        int n;
        try {
            n = KeptOpenFile.readFd(fd, b, true); // one show(): the whole line in one read
        } finally {
            Libc.close(fd);
        }
        return n > 0 ? Optional.ofNullable(parse(b)) : Optional.empty();
    }

    /**
     * The fields of the /proc/PID/stat line in {@code b}, parsed in place; null if it is not one.
     * Fields after the command name's last ')': state(3) ppid pgrp session ... starttime(22).
     */
    public static ProcStat parse(AsciiBuffer b) {
        b.rewind();
        if (!b.nextLine()) return null;
        long pid = b.unsigned();
        if (pid == AsciiBuffer.INVALID || !b.skipPastLast((byte) ')')) return null;
        char state = (char) b.letter();
        long ppid = b.unsigned(), pgrp = b.unsigned(), session = b.unsigned();
        for (int f = 7; f <= 21; f++) b.skipWord();
        long start = b.unsigned();
        if (state == 0 || ppid < 0 || pgrp < 0 || session < 0 || start < 0) return null;
        return new ProcStat(pid, state, ppid, pgrp, session, start);
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
