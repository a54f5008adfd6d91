package dev.rbee.hive.monitor.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SizeTest {
    @ParameterizedTest
    @CsvSource({"0,0", "4096,4096", "1K,1024", "1Ki,1024", "512M,536870912", "512Mi,536870912", "2G,2147483648",
            "2Gi,2147483648", "1T,1099511627776", "1Ti,1099511627776", "64m,67108864", "' 8M ',8388608"})
    void parses(String text, long bytes) {
        assertEquals(bytes, Size.parse(text).bytes());
        assertEquals(Long.toString(bytes), Size.parse(text).kernelValue());
    }

    @Test
    void max() {
        assertTrue(Size.parse("max").isMax());
        assertEquals("max", Size.parse("max").kernelValue());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "M", "-1", "1.5G", "12X", "1Gb", "MAX", "99999999999T", "9223372036854775808", "1 G"})
    void refuses(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Size.parse(text));
        assertTrue(e.getMessage().startsWith("invalid size \""), e.getMessage());
    }

    @Test
    void limitsFromText() {
        Limits l = Limits.builder().cpuPercent("250%").memoryMax("512M").pidsMax("max").io("8:0 rbps=1M wiops=100").build();
        assertEquals(250, l.cpuPercent().getAsInt());
        assertEquals(Long.MAX_VALUE, l.pidsMax().getAsLong());
        assertEquals("8:0 rbps=1048576 wiops=100", l.io().get(0).kernelLine());
        assertThrows(IllegalArgumentException.class, () -> Limits.builder().cpuPercent("lots"));
        assertThrows(IllegalArgumentException.class, () -> Limits.builder().cpuPercent(0).build());
        assertThrows(IllegalArgumentException.class, () -> Limits.builder().io("sda rbps=1M"));
        assertThrows(IllegalArgumentException.class, () -> Limits.builder().io("8:0 speed=1M"));
    }
}
