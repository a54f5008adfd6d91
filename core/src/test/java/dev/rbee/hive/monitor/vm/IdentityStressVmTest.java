package dev.rbee.hive.monitor.vm;

import dev.rbee.hive.monitor.identity.IdentityStressTest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;

import java.nio.file.Path;

/**
 * The identity stress test on a pure cgroup v2 kernel with every controller
 * (and on the VM's slower CPU, which widens every race window).
 */
@Tag("vm")
class IdentityStressVmTest extends IdentityStressTest {
    private final Path root = VmEnv.newRoot("stress");

    @BeforeAll
    static void guest() {
        VmEnv.requireGuest();
    }

    @Override
    protected Path root() {
        return root;
    }

    @Override
    protected int ops() {
        return 15;
    }

    @Override
    protected void afterwards(Path root) {
        VmEnv.destroy(root);
    }
}
