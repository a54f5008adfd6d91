package dev.rbee.hive.monitor.proc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

/** The boot time ("btime" in /proc/stat), read once. */
final class BootTime {
    private static volatile Instant boot;

    private BootTime() {}

    static Instant get() {
        Instant b = boot;
        if (b == null) {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/stat")))
                    if (line.startsWith("btime ")) b = Instant.ofEpochSecond(Long.parseLong(line.substring(6).strip()));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            if (b == null) throw new IllegalStateException("no btime in /proc/stat");
            boot = b;
        }
        return b;
    }
}
