package dev.rbee.hive.monitor.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NamesTest {
    @ParameterizedTest
    @ValueSource(strings = {"llm", "8080", "a", "A.b_c-d", "x123456789012345678901234567890123456789012345678901234567890123"})
    void valid(String name) {
        assertEquals(name, Names.check("group", name));
        assertEquals(64, "x123456789012345678901234567890123456789012345678901234567890123".length());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "..", ".", "../etc", "a/b", "/", "-x", "_x", ".hidden", "a b", "a\nb", "a\0b", "é",
            "x1234567890123456789012345678901234567890123456789012345678901234"})
    void invalid(String name) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Names.check("instance", name));
        assertTrue(e.getMessage().startsWith("invalid instance \""), e.getMessage());
    }

    @Test
    void messageShowsControlCharacters() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Names.check("group", "a\nb"));
        assertTrue(e.getMessage().contains("\"a\\x0ab\""), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new MonitorConfig("llm", "a\0b"));
        assertTrue(e.getMessage().contains("\"a\\x00b\""), e.getMessage());
    }

    @Test
    void checkedBeforeAnyFileSystemCall() {
        // MonitorConfig refuses at construction, so no spawn/cgroupOf ever sees the value.
        assertThrows(IllegalArgumentException.class, () -> new MonitorConfig("..", "1"));
        assertThrows(IllegalArgumentException.class, () -> WorkerSpec.command("/bin/true").withMonitoring("llm", "../x").build());
    }
}
