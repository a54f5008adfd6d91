package dev.rbee.hive.monitor.read;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The bytes of one file read by {@link KeptOpenFile}, and a cursor that parses
 * them in place: no String, no regex, no split, no allocation.
 *
 * <p>Lines are parsed only up to the last newline: the kernel ends every line
 * of a control file with one, so a trailing line without it is a truncated read
 * and is ignored rather than parsed into a wrong value.  Numbers are unsigned
 * decimals that saturate at {@link Long#MAX_VALUE} (the kernel prints u64, and
 * values near 2^64 must not wrap into negatives); {@code max} reads as
 * {@link Long#MAX_VALUE}.  A malformed value reads as {@link #INVALID}.
 *
 * <p>Typical use, for a flat-keyed file ("key value\n" lines):
 * <pre>{@code
 * while (b.nextLine()) {
 *     int k = b.word(KEYS);
 *     if (k >= 0) { long v = b.unsigned(); ... }
 * }
 * }</pre>
 */
public final class AsciiBuffer {
    public static final int INITIAL_CAPACITY = 4096;
    /** {@link #word} found no further word on the line. */
    public static final int END = -2;
    /** {@link #word} found a word that is not among the names. */
    public static final int UNKNOWN = -1;
    /** A value that is not a number (nor "max"). */
    public static final long INVALID = -1;

    private ByteBuffer bytes;
    /** The same memory as {@link #bytes}, for pread(2) through FFM. */
    private MemorySegment segment;
    /**
     * A heap copy of the content, made with one bulk copy after each read: the
     * parser's byte-by-byte loop runs 2-3x faster on an array than through the
     * direct buffer's bounds-checked get(i).
     */
    private byte[] a;
    private int length;
    private int pos;
    private int lineEnd = -1;

    public AsciiBuffer() {
        this(INITIAL_CAPACITY);
    }

    public AsciiBuffer(int capacity) {
        bytes = ByteBuffer.allocateDirect(capacity);
        segment = MemorySegment.ofBuffer(bytes);
        a = new byte[capacity];
    }

    /** Names as ASCII bytes, for {@link #word}; made once, at class initialisation. */
    public static byte[][] names(String... names) {
        byte[][] out = new byte[names.length][];
        for (int i = 0; i < names.length; i++) out[i] = names[i].getBytes(StandardCharsets.US_ASCII);
        return out;
    }

    public int length() {
        return length;
    }

    public int capacity() {
        return bytes.capacity();
    }

    MemorySegment segment() {
        return segment;
    }

    ByteBuffer bytes() {
        return bytes;
    }

    /** Doubles the capacity, keeping the first {@code keep} bytes (the only allocation, and a rare one). */
    void grow(int keep) {
        ByteBuffer bigger = ByteBuffer.allocateDirect(bytes.capacity() * 2);
        bigger.put(0, bytes, 0, keep);
        bytes = bigger;
        segment = MemorySegment.ofBuffer(bytes);
        a = new byte[bytes.capacity()];
    }

    /** Sets the content length after a read and puts the cursor before the first line. */
    void filled(int length) {
        this.length = length;
        bytes.get(0, a, 0, length);
        rewind();
    }

    /** Replaces the content (tests, and callers that have bytes from elsewhere). */
    public AsciiBuffer set(CharSequence text) {
        while (bytes.capacity() < text.length()) grow(0);
        for (int i = 0; i < text.length(); i++) bytes.put(i, (byte) text.charAt(i));
        filled(text.length());
        return this;
    }

    /** Puts the cursor before the first line. */
    public void rewind() {
        pos = 0;
        lineEnd = -1;
    }

    /**
     * Moves to the next complete line.  False at the end, and for a last line
     * without its newline (a truncated read: ignored, never half-parsed).
     */
    public boolean nextLine() {
        int start = lineEnd + 1;
        for (int i = start; i < length; i++) {
            if (a[i] == '\n') {
                pos = start;
                lineEnd = i;
                return true;
            }
        }
        pos = lineEnd = length;
        return false;
    }

    /** Whether the current line has nothing left but blanks. */
    public boolean atLineEnd() {
        skipBlanks();
        return pos >= lineEnd;
    }

    /**
     * The next word of the current line (up to a blank, '=' or the line's end),
     * as its index in {@code names}; {@link #UNKNOWN} if it is none of them (a
     * following "=value" is skipped too); {@link #END} if the line has no more.
     * After a known word the cursor stands before its value.
     */
    public int word(byte[][] names) {
        return word(names, 0);
    }

    /**
     * As {@link #word(byte[][])}, comparing {@code names[likely]} first: the kernel prints a file's keys in
     * the same order every time, so a parser that passes the index after its last match finds most keys at
     * the first comparison.
     */
    public int word(byte[][] names, int likely) {
        skipBlanks();
        if (pos >= lineEnd) return END;
        int start = pos;
        while (pos < lineEnd && !isBlank(a[pos]) && a[pos] != '=') pos++;
        int len = pos - start;
        if (likely < names.length && names[likely].length == len && equalsAt(start, names[likely])) return likely;
        for (int n = 0; n < names.length; n++)
            if (names[n].length == len && equalsAt(start, names[n])) return n;
        skipToken(); // "=value" of an unknown key
        return UNKNOWN;
    }

    /**
     * Moves the cursor past the last {@code c} of the current line (for
     * /proc/PID/stat, whose command name may hold spaces and parentheses);
     * false if the line has none.
     */
    public boolean skipPastLast(byte c) {
        for (int i = lineEnd - 1; i >= pos; i--) {
            if (a[i] == c) {
                pos = i + 1;
                return true;
            }
        }
        return false;
    }

    /** The first byte of the next word, skipping the word (e.g. /proc/PID/stat's state); 0 if none. */
    public byte letter() {
        skipBlanks();
        if (pos >= lineEnd) return 0;
        byte b = a[pos];
        skipToken();
        return b;
    }

    /** Skips the next word (such as io.stat's "MAJ:MIN"); false if the line had none. */
    public boolean skipWord() {
        skipBlanks();
        if (pos >= lineEnd) return false;
        skipToken();
        return true;
    }

    /**
     * The next value: an unsigned decimal saturating at {@link Long#MAX_VALUE},
     * or "max" as {@link Long#MAX_VALUE}; a leading '=' (nested keys) is skipped.
     * {@link #INVALID} if it is anything else (the token is skipped).
     */
    public long unsigned() {
        startValue();
        if (isMax()) return Long.MAX_VALUE;
        long v = digits();
        if (v < 0 || !atDelimiter()) return invalid();
        return v;
    }

    /**
     * The next value as a decimal with up to two fraction digits, in hundredths
     * ("12.34" is 1234, "5" is 500; the kernel prints PSI averages with two).
     * Further digits are dropped; saturates like {@link #unsigned}.
     */
    public long hundredths() {
        startValue();
        long whole = digits();
        if (whole < 0) return invalid();
        long frac = 0;
        if (pos < lineEnd && a[pos] == '.') {
            pos++;
            int n = 0;
            while (pos < lineEnd && isDigit(a[pos])) {
                if (n < 2) frac = frac * 10 + (a[pos] - '0');
                n++;
                pos++;
            }
            if (n == 0) return invalid();
            if (n == 1) frac *= 10;
        }
        if (!atDelimiter()) return invalid();
        return whole > (Long.MAX_VALUE - frac) / 100 ? Long.MAX_VALUE : whole * 100 + frac;
    }

    /** a + b for counters, saturating instead of wrapping (both non-negative). */
    public static long addSaturated(long a, long b) {
        long s = a + b;
        return s < 0 ? Long.MAX_VALUE : s;
    }

    private void startValue() {
        if (pos < lineEnd && a[pos] == '=') pos++;
        else skipBlanks();
    }

    /** At least one digit, saturating; -1 if there is none. */
    private long digits() {
        int start = pos;
        long v = 0;
        while (pos < lineEnd && isDigit(a[pos])) {
            int d = a[pos] - '0';
            v = v > (Long.MAX_VALUE - d) / 10 ? Long.MAX_VALUE : v * 10 + d;
            pos++;
        }
        return pos == start ? -1 : v;
    }

    private boolean isMax() {
        if (pos + 3 <= lineEnd && a[pos] == 'm' && a[pos + 1] == 'a' && a[pos + 2] == 'x') {
            int save = pos;
            pos += 3;
            if (atDelimiter()) return true;
            pos = save;
        }
        return false;
    }

    private boolean atDelimiter() {
        return pos >= lineEnd || isBlank(a[pos]);
    }

    private long invalid() {
        skipToken();
        return INVALID;
    }

    private void skipToken() {
        while (pos < lineEnd && !isBlank(a[pos])) pos++;
    }

    private void skipBlanks() {
        while (pos < lineEnd && isBlank(a[pos])) pos++;
    }

    private boolean equalsAt(int at, byte[] name) {
        for (int i = 0; i < name.length; i++)
            if (a[at + i] != name[i]) return false;
        return true;
    }

    private static boolean isBlank(byte b) {
        return b == ' ' || b == '\t';
    }

    private static boolean isDigit(byte b) {
        return b >= '0' && b <= '9';
    }
}
