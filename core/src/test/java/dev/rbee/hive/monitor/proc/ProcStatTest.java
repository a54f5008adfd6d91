package dev.rbee.hive.monitor.proc;

import dev.rbee.hive.monitor.read.AsciiBuffer;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** /proc/PID/stat parsed in place (the FFM read) gives what the String parser gives. */
class ProcStatTest {
    /** A command name with spaces and parentheses: fields count from its last ')'. */
    static final String TRICKY = "4242 (a) b (c) ) S 1 4242 4242 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 1 0 987654 "
            + "1000000 200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";

    @Test
    void inPlaceParseMatchesTheStringParse() {
        AsciiBuffer b = new AsciiBuffer();
        assertEquals(ProcStat.parse(TRICKY), ProcStat.parse(b.set(TRICKY)));
        assertEquals(new ProcStat(4242, 'S', 1, 4242, 4242, 987654), ProcStat.parse(b.set(TRICKY)));
    }

    @Test
    void notAStatLineIsNull() {
        AsciiBuffer b = new AsciiBuffer();
        assertNull(ProcStat.parse(b.set("")));
        assertNull(ProcStat.parse(b.set("4242 no parenthesis S 1\n")));
        assertNull(ProcStat.parse(b.set("4242 (cut) S 1 2\n")), "a line without its start time");
        assertNull(ProcStat.parse(b.set(TRICKY.substring(0, TRICKY.length() - 1))), "no newline: a truncated read");
    }

    @Test
    void readsALiveProcessAndNothingForAPidNoOneHolds() throws Exception {
        long self = ProcessHandle.current().pid();
        ProcStat st = ProcStat.read(self).orElseThrow();
        ProcStat viaString = ProcStat.parse(Files.readString(Path.of("/proc/self/stat")));
        assertEquals(self, st.pid());
        assertEquals(viaString.ppid(), st.ppid());
        assertEquals(viaString.session(), st.session());
        assertEquals(viaString.startTimeTicks(), st.startTimeTicks());
        assertTrue(st.startTimeTicks() > 0);
        assertTrue(ProcStat.read(4_194_305).isEmpty(), "above the largest pid_max (2^22): nobody's");
    }
}
