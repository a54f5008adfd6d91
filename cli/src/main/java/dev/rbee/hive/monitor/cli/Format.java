package dev.rbee.hive.monitor.cli;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;

/** Small text helpers shared by top and serve. */
final class Format {
    private Format() {}

    /** "1s", "250ms", "10m": the way Durations reads them. */
    static String duration(Duration d) {
        long ms = d.toMillis();
        if (ms % 60_000 == 0 && ms > 0) return ms / 60_000 + "m";
        if (ms % 1000 == 0) return ms / 1000 + "s";
        return ms + "ms";
    }

    /** This host's name (the default hive id); "localhost" if it has none. */
    static String hostName() {
        try {
            String h = InetAddress.getLocalHost().getHostName();
            if (h != null && !h.isBlank()) return h;
        } catch (IOException e) {
            // fall through
        }
        return "localhost";
    }
}
