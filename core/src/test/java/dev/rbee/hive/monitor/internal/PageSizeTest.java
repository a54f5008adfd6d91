package dev.rbee.hive.monitor.internal;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The page size comes from the running kernel, not from an assumed 4096. */
class PageSizeTest {
    @Test
    void pageSizeIsTheKernelsOwn() throws Exception {
        // The kernel states it independently of libc: "KernelPageSize: 4 kB" per mapping in smaps.
        String kb = Files.readAllLines(Path.of("/proc/self/smaps")).stream()
                .filter(l -> l.startsWith("KernelPageSize:")).findFirst().orElseThrow()
                .replaceAll("[^0-9]", "");
        assertEquals(Long.parseLong(kb) * 1024, Libc.pageSize());
    }
}
