package dev.rbee.hive.monitor.vm;

import dev.rbee.hive.monitor.ProcessMonitor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;

import java.nio.file.Path;

/** A VM test class's own top-level cgroup and a cgroup2 monitor over it, removed after each test. */
@Tag("vm")
abstract class VmTestBase {
    final Path root;
    final ProcessMonitor monitor;

    VmTestBase(String name) {
        root = VmEnv.newRoot(name);
        monitor = VmEnv.monitor(root);
    }

    @BeforeAll
    static void guest() {
        VmEnv.requireGuest();
    }

    @AfterEach
    void cleanup() {
        VmEnv.destroy(root);
    }
}
