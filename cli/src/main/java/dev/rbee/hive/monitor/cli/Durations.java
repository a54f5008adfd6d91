package dev.rbee.hive.monitor.cli;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as people type them: "10s", "500ms", "1.5s", "2m", "1h", or plain
 * seconds.  Only finite, non-negative decimals in a bounded range: "NaNs",
 * "-1s", "1e400s" and values past {@link #MAX} are refused, never rounded to 0
 * or wrapped around.
 */
final class Durations {
    /** Longer than any grace period or sampling interval anyone means. */
    static final Duration MAX = Duration.ofDays(7);
    private static final Pattern FORM = Pattern.compile("([0-9]{1,12}(?:\\.[0-9]{1,9})?)(ms|s|m|h)?");

    private Durations() {}

    /** A duration in [0, {@link #MAX}]. */
    static Duration parse(String text) {
        return parse("duration", text, Duration.ZERO);
    }

    /** A duration in [{@code min}, {@link #MAX}]; the error names {@code what} (e.g. "--grace"). */
    static Duration parse(String what, String text, Duration min) {
        Matcher m = FORM.matcher(text.strip());
        if (!m.matches())
            throw new IllegalArgumentException(what + ": invalid duration \"" + text + "\": expected a number with "
                    + "ms, s, m or h, e.g. 10s, 500ms, 2m");
        BigDecimal n = new BigDecimal(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        BigDecimal nanos = n.multiply(BigDecimal.valueOf(switch (unit) {
            case "ms" -> 1_000_000L;
            case "s" -> 1_000_000_000L;
            case "m" -> 60_000_000_000L;
            default -> 3_600_000_000_000L;
        }));
        if (nanos.compareTo(BigDecimal.valueOf(MAX.toNanos())) > 0)
            throw new IllegalArgumentException(what + ": duration \"" + text + "\" is longer than " + MAX.toDays() + " days");
        Duration d = Duration.ofNanos(nanos.longValue());
        if (d.compareTo(min) < 0)
            throw new IllegalArgumentException(what + ": duration \"" + text + "\" is shorter than " + format(min));
        return d;
    }

    private static String format(Duration d) {
        return d.toMillis() < 1000 ? d.toMillis() + "ms" : d.toMillis() / 1000.0 + "s";
    }
}
