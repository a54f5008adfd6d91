package dev.rbee.hive.monitor.cli;

import java.time.Duration;

/** "10s", "500ms", "2m", or plain seconds. */
final class Durations {
    private Durations() {}

    static Duration parse(String text) {
        Duration d = parseAny(text);
        if (d.isNegative()) throw new IllegalArgumentException("invalid duration \"" + text + "\": must not be negative");
        return d;
    }

    private static Duration parseAny(String text) {
        String t = text.strip();
        try {
            if (t.endsWith("ms")) return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            if (t.endsWith("s")) return Duration.ofMillis(Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 1000));
            if (t.endsWith("m")) return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)) * 60);
            return Duration.ofMillis(Math.round(Double.parseDouble(t) * 1000));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid duration \"" + text + "\": expected e.g. 10s, 500ms, 2m");
        }
    }
}
