package dev.rbee.hive.monitor.read;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KeptOpenFileTest {
    @TempDir
    Path dir;

    private static String text(AsciiBuffer b) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < b.length(); i++) s.append((char) b.bytes().get(i));
        return s.toString();
    }

    private static String numbers(int count) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < count; i++) s.append(1_000_000 + i).append('\n');
        return s.toString();
    }

    @Test
    void rereadsFromOffsetZeroThroughOneFd() throws IOException {
        Path f = Files.writeString(dir.resolve("memory.current"), "123\n");
        try (KeptOpenFile k = KeptOpenFile.open(f)) {
            assertEquals(4, k.read());
            assertEquals("123\n", text(k.buffer()));
            Files.writeString(f, "45\n");
            assertEquals(3, k.read());
            assertEquals("45\n", text(k.buffer()));
        }
    }

    @Test
    void growsInsteadOfTruncating() throws IOException {
        String big = numbers(2000); // 16000 bytes
        Path f = Files.writeString(dir.resolve("cgroup.procs"), big);
        for (boolean whole : new boolean[] {true, false}) {
            AsciiBuffer b = new AsciiBuffer();
            KeptOpenFile k = new KeptOpenFile(f, b, whole);
            assertTrue(k.open());
            assertEquals(big.length(), k.read());
            assertEquals(big, text(b));
            int capacity = b.capacity();
            assertEquals(big.length(), k.read());
            assertEquals(capacity, b.capacity(), "no growth once it fits");
            k.close();
        }
        // exactly the capacity: one more read finds the end
        String exact = "x".repeat(4095) + "\n";
        Files.writeString(f, exact);
        AsciiBuffer b = new AsciiBuffer();
        try (KeptOpenFile k = new KeptOpenFile(f, b, true)) {
            k.open();
            assertEquals(4096, k.read());
            assertEquals(exact, text(b));
        }
    }

    @Test
    void missingFile() throws IOException {
        Path f = dir.resolve("memory.peak");
        KeptOpenFile k = new KeptOpenFile(f, new AsciiBuffer(), true);
        assertFalse(k.open());
        assertFalse(k.isOpen());
        assertEquals(-1, k.read());
        assertThrows(NoSuchFileException.class, () -> KeptOpenFile.open(f));
        Files.writeString(f, "7\n");
        assertTrue(k.open(), "opens once it exists");
        assertEquals(2, k.read());
        k.close();
        assertEquals(-1, k.read(), "closed stays closed");
    }

    @Test
    void anInterruptNeitherClosesNorDisturbsTheFile() throws IOException {
        // (A FileChannel would be closed by the interrupt; the raw fd is not.)
        Path f = Files.writeString(dir.resolve("cpu.stat"), "usage_usec 1\n");
        try (KeptOpenFile k = KeptOpenFile.open(f)) {
            Thread.currentThread().interrupt();
            try {
                assertEquals(13, k.read());
                assertTrue(Thread.currentThread().isInterrupted(), "the interrupt is left for the caller");
            } finally {
                Thread.interrupted();
            }
            assertEquals(13, k.read());
        }
    }

    @Test
    void aDroppedFileStillClosesItsFd() throws Exception {
        Path f = Files.writeString(dir.resolve("memory.current"), "4096\n");
        long before = dev.rbee.hive.monitor.testing.TestEnv.settledFdCount();
        for (int i = 0; i < 50; i++) KeptOpenFile.open(f).read(); // never closed
        for (int i = 0; i < 50 && dev.rbee.hive.monitor.testing.TestEnv.fdCount() > before; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertEquals(before, dev.rbee.hive.monitor.testing.TestEnv.fdCount(), "the Cleaner closed them");
    }
}
