package dev.rbee.hive.monitor.gpu;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The stand-in NVML built by native-launcher/Makefile (test/fake-nvml), found
 * through the system property rbee.fakenvml that core/pom.xml sets.
 */
final class FakeNvml {
    private FakeNvml() {}

    /** "" for the full library, else "v2only", "v1only" or "ccv3". */
    static Path library(String variant) {
        String p = System.getProperty("rbee.fakenvml");
        assertTrue(p != null, "system property rbee.fakenvml is not set (surefire sets it; see core/pom.xml)");
        Path full = Path.of(p);
        Path lib = variant.isEmpty() ? full : full.resolveSibling("libnvidia-ml-" + variant + ".so.1");
        assertTrue(Files.isRegularFile(lib), lib + " is missing: build it with make -C native-launcher");
        return lib;
    }

    /**
     * Writes the script and points RBEE_FAKE_NVML at it.  The stand-in reads the
     * variable with getenv at each nvmlInit_v2, so it must be set in the C
     * environment (setenv), which System.getenv neither shows nor changes.
     */
    static Path script(Path dir, String... lines) throws IOException {
        Path f = Files.createTempFile(dir, "nvml", ".script");
        Files.write(f, List.of(lines));
        try (Arena a = Arena.ofConfined()) {
            int rc = (int) SETENV.invokeExact(a.allocateFrom("RBEE_FAKE_NVML"), a.allocateFrom(f.toString()), 1);
            assertEquals(0, rc, "setenv");
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        return f;
    }

    private static final MethodHandle SETENV = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("setenv").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
}
