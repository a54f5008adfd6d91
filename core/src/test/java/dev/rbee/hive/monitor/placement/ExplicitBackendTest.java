package dev.rbee.hive.monitor.placement;

import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.model.Backend;
import dev.rbee.hive.monitor.testing.AsUser;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A backend asked for by name that cannot work fails with the reason; only
 * the automatic choice falls back (issue 14: --backend cgroup2 used to fall
 * back to the process tree silently).
 */
class ExplicitBackendTest {
    @Test
    void cgroup2AskedForOnAMissingRootFailsNamingIt() throws Exception {
        Path tmp = Files.createTempDirectory("rbee-explicit-");
        try {
            Path root = tmp.resolve("no-such-parent").resolve("rbee.slice");
            IOException e = assertThrows(IOException.class,
                    () -> ProcessMonitor.builder().root(root).backend(Backend.Kind.CGROUP2).build());
            assertTrue(e.getMessage().contains("cgroup2 backend was asked for"), e.getMessage());
            assertTrue(e.getMessage().contains(root.toString()), e.getMessage());
            // The same root, backend not asked for: the automatic choice still falls back, and says why.
            try (ProcessMonitor m = ProcessMonitor.builder().root(root).build()) {
                assertEquals(Backend.Kind.PROCTREE, m.backend().kind(), m.backend().toString());
            }
        } finally {
            Files.delete(tmp);
        }
    }

    /** As nobody, the default root is not writable: cgroup2 asked for fails; auto falls back. */
    @Test
    void cgroup2AskedForAsAnUnprivilegedUserFails() throws Exception {
        try (AsUser nobody = new AsUser(65534)) {
            AsUser.Result asked = nobody.run(Optional.empty(), BuildMain.class, "CGROUP2");
            assertNotEquals(0, asked.exit(), asked.out());
            assertTrue(asked.out().contains("cgroup2 backend was asked for but cannot work"), asked.out());
            assertTrue(asked.out().contains("not writable by uid 65534"), asked.out());
            AsUser.Result auto = nobody.run(Optional.empty(), BuildMain.class, "auto");
            assertEquals(0, auto.exit(), auto.out());
            assertTrue(auto.out().contains("backend: proctree"), auto.out());
        }
    }

    /** Builds a monitor with the backend named in args[0] ("auto": none asked) and prints it. */
    public static final class BuildMain {
        public static void main(String[] args) throws Exception {
            ProcessMonitor.Builder b = ProcessMonitor.builder();
            if (!args[0].equals("auto")) b.backend(Backend.Kind.valueOf(args[0]));
            try (ProcessMonitor m = b.build()) {
                System.out.println("backend: " + m.backend());
            } catch (IOException e) {
                System.out.println("failed: " + e.getMessage());
                System.exit(3);
            }
        }
    }
}
