package dev.rbee.hive.monitor.model;

/**
 * A byte count for a limit, or "max" (no limit).  Parsed from plain bytes,
 * the suffixes {@code K M G T} and {@code Ki Mi Gi Ti} (both powers of 1024,
 * as the kernel and systemd read them: "512M" is 512 MiB, never 512 000 000),
 * or {@code max}.
 *
 * <p>Immutable: thread-safe, to share between threads as it is.
 *
 * @param bytes the count; {@link Long#MAX_VALUE} is "max"
 */
public record Size(long bytes) {
    /** No limit: written to the kernel as "max". */
    /** No limit: "max". */
    public static final Size MAX = new Size(Long.MAX_VALUE);

    /** Checks that it is not negative. */
    public Size {
        if (bytes < 0) throw new IllegalArgumentException("size must not be negative: " + bytes);
    }

    /**
     * A size in bytes.
     *
     * @param bytes the count, at least 0
     * @return the size
     */
    public static Size ofBytes(long bytes) {
        return new Size(bytes);
    }

    /**
     * Whether this is "max" (no limit).
     *
     * @return true for {@link #MAX}
     */
    public boolean isMax() {
        return bytes == Long.MAX_VALUE;
    }

    /**
     * The value as cgroup files take it.
     *
     * @return bytes, or "max"
     */
    public String kernelValue() {
        return isMax() ? "max" : Long.toString(bytes);
    }

    /**
     * Parses "512M", "1Gi", "4096", "max".  K/M/G/T and Ki/Mi/Gi/Ti both mean
     * powers of 1024 (as in systemd's MemoryMax=).
     *
     * @param text the text
     * @return the size
     * @throws IllegalArgumentException naming the text, if it is not a size
     */
    public static Size parse(String text) {
        if (text == null) throw new IllegalArgumentException("size must not be null");
        String t = text.strip();
        if (t.equals("max")) return MAX;
        int end = t.length();
        if (end > 0 && t.charAt(end - 1) == 'i') end--;
        int shift = 0;
        if (end > 0) {
            switch (t.charAt(end - 1)) {
                case 'K', 'k' -> shift = 10;
                case 'M', 'm' -> shift = 20;
                case 'G', 'g' -> shift = 30;
                case 'T', 't' -> shift = 40;
                default -> { }
            }
        }
        if (shift == 0 && end != t.length()) throw bad(text, "unknown suffix");
        String digits = shift == 0 ? t : t.substring(0, end - 1);
        if (digits.isEmpty() || !digits.chars().allMatch(c -> c >= '0' && c <= '9'))
            throw bad(text, "expected a number with an optional K, M, G, T (or Ki..Ti) suffix, or \"max\"");
        long n;
        try {
            n = Long.parseLong(digits);
        } catch (NumberFormatException e) {
            throw bad(text, "too large");
        }
        if (shift > 0 && n > (Long.MAX_VALUE - 1) >> shift) throw bad(text, "too large");
        return new Size(n << shift);
    }

    private static IllegalArgumentException bad(String text, String why) {
        return new IllegalArgumentException("invalid size " + Names.quote(text) + ": " + why);
    }

    @Override
    public String toString() {
        return kernelValue();
    }
}
