package dev.rbee.hive.monitor.read;

import dev.rbee.hive.monitor.model.Counters.Field;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AsciiBufferTest {
    private static final byte[][] KEYS = AsciiBuffer.names("usage_usec", "user_usec", "avg10", "total");

    private static AsciiBuffer line(String text) {
        AsciiBuffer b = new AsciiBuffer(16).set(text);
        assertTrue(b.nextLine());
        return b;
    }

    @Test
    void unsignedSaturatesInsteadOfWrapping() {
        assertEquals(0, line("0\n").unsigned());
        assertEquals(Long.MAX_VALUE, line("9223372036854775807\n").unsigned());
        assertEquals(Long.MAX_VALUE, line("9223372036854775808\n").unsigned());
        assertEquals(Long.MAX_VALUE, line("18446744073709551615\n").unsigned());
        assertEquals(Long.MAX_VALUE, line("99999999999999999999999999\n").unsigned());
        assertEquals(Long.MAX_VALUE, line("max\n").unsigned());
    }

    @Test
    void malformedValuesAreInvalid() {
        assertEquals(AsciiBuffer.INVALID, line("-1\n").unsigned());
        assertEquals(AsciiBuffer.INVALID, line("12x\n").unsigned());
        assertEquals(AsciiBuffer.INVALID, line("maxi\n").unsigned());
        assertEquals(AsciiBuffer.INVALID, line("\n").unsigned());
        assertEquals(AsciiBuffer.INVALID, line("1.5\n").unsigned());
    }

    @Test
    void hundredths() {
        assertEquals(1234, line("12.34\n").hundredths());
        assertEquals(0, line("0.00\n").hundredths());
        assertEquals(10000, line("100.00\n").hundredths());
        assertEquals(150, line("1.5\n").hundredths());
        assertEquals(700, line("7\n").hundredths());
        assertEquals(1234, line("12.3456\n").hundredths());
        assertEquals(Long.MAX_VALUE, line("18446744073709551615.99\n").hundredths());
        assertEquals(AsciiBuffer.INVALID, line("1.\n").hundredths());
        assertEquals(AsciiBuffer.INVALID, line(".5\n").hundredths());
    }

    @Test
    void aWrongGuessOfTheNextKeyStillFindsIt() {
        AsciiBuffer b = new AsciiBuffer().set("total 3\nuser_usec 4\nnope 5\n");
        assertTrue(b.nextLine());
        assertEquals(3, b.word(KEYS, 0)); // guessed usage_usec: it is total
        assertTrue(b.nextLine());
        assertEquals(1, b.word(KEYS, KEYS.length)); // a guess past the last key
        assertEquals(4, b.unsigned());
        assertTrue(b.nextLine());
        assertEquals(AsciiBuffer.UNKNOWN, b.word(KEYS, 2));
    }

    @Test
    void aFlatKeyedFileInAnotherOrderThanTheKernelsParsesEveryKey() {
        var cpu = new FlatKeyedFile("cpu.stat", new String[] {"usage_usec", "user_usec", "system_usec"},
                new Field[] {Field.CPU_USAGE_USEC,
                        Field.CPU_USER_USEC, Field.CPU_SYSTEM_USEC},
                new String[] {"no usage", "no user", "no system"}, "no file");
        CgroupCounters c = new CgroupCounters();
        cpu.parse(new AsciiBuffer().set("system_usec 3\nusage_usec 1\nuser_usec 2\n"), c);
        assertEquals(1, c.get(Field.CPU_USAGE_USEC));
        assertEquals(2, c.get(Field.CPU_USER_USEC));
        assertEquals(3, c.get(Field.CPU_SYSTEM_USEC));
        // a key gone since the last parse is absent again, with its own reason
        cpu.parse(new AsciiBuffer().set("usage_usec 5\nuser_usec x\n"), c);
        assertEquals(5, c.get(Field.CPU_USAGE_USEC));
        assertEquals("no user", c.reason(Field.CPU_USER_USEC));
        assertEquals("no system", c.reason(Field.CPU_SYSTEM_USEC));
    }

    @Test
    void flatKeyedLines() {
        AsciiBuffer b = new AsciiBuffer().set("unknown 5\nuser_usec 7\nusage_usec\t9\n");
        assertTrue(b.nextLine());
        assertEquals(AsciiBuffer.UNKNOWN, b.word(KEYS));
        assertTrue(b.nextLine());
        assertEquals(1, b.word(KEYS));
        assertEquals(7, b.unsigned());
        assertTrue(b.atLineEnd());
        assertTrue(b.nextLine());
        assertEquals(0, b.word(KEYS));
        assertEquals(9, b.unsigned());
        assertFalse(b.nextLine());
    }

    @Test
    void nestedKeysSkipUnknownPairs() {
        AsciiBuffer b = new AsciiBuffer().set("some avg10=1.25 avg900=7.00 total=42\n");
        assertTrue(b.nextLine());
        assertEquals(AsciiBuffer.UNKNOWN, b.word(KEYS)); // "some"
        assertEquals(2, b.word(KEYS));
        assertEquals(125, b.hundredths());
        assertEquals(AsciiBuffer.UNKNOWN, b.word(KEYS)); // avg900=7.00, value skipped with it
        assertEquals(3, b.word(KEYS));
        assertEquals(42, b.unsigned());
        assertEquals(AsciiBuffer.END, b.word(KEYS));
    }

    @Test
    void incompleteLastLineIsIgnored() {
        AsciiBuffer b = new AsciiBuffer().set("usage_usec 1\nuser_usec 12");
        assertTrue(b.nextLine());
        assertEquals(0, b.word(KEYS));
        assertEquals(1, b.unsigned());
        assertFalse(b.nextLine(), "a line without its newline is a truncated read");
        assertFalse(new AsciiBuffer().set("").nextLine());
    }

    @Test
    void addSaturated() {
        assertEquals(3, AsciiBuffer.addSaturated(1, 2));
        assertEquals(Long.MAX_VALUE, AsciiBuffer.addSaturated(Long.MAX_VALUE, 1));
        assertEquals(Long.MAX_VALUE, AsciiBuffer.addSaturated(Long.MAX_VALUE - 5, Long.MAX_VALUE - 5));
    }
}
