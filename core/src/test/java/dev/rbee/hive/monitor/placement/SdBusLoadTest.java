package dev.rbee.hive.monitor.placement;

import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.model.Placement;
import dev.rbee.hive.monitor.systemd.SdBus;
import dev.rbee.hive.monitor.systemd.SdBusException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sd-bus client where systemd is not running (this host): libsystemd loads
 * and its symbols bind, and the connection fails naming the socket; a missing
 * libsystemd fails naming the library.  Talking to systemd is the systemd VM
 * suite's (vm.systemd.HiveScopeVmTest).
 */
class SdBusLoadTest {
    @Test
    void withoutSystemdTheConnectionFailsNamingTheBus() {
        Assumptions.assumeTrue(Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/libsystemd.so.0"))
                || Files.exists(Path.of("/lib/x86_64-linux-gnu/libsystemd.so.0")), "libsystemd0 is not installed here");
        Assumptions.assumeTrue(!Files.exists(Path.of("/run/systemd/private")) && !Files.exists(Path.of("/run/dbus/system_bus_socket")),
                "systemd or D-Bus runs here: this test is for a host without them");
        SdBusException e = assertThrows(SdBusException.class, SdBus::connect);
        assertTrue(e.getMessage().contains("cannot connect to the system bus (/run/dbus/system_bus_socket)"), e.getMessage());
        assertTrue(e.errno().isPresent(), e.getMessage());
    }

    @Test
    void aMissingLibsystemdIsNamed() {
        String missing = "/nonexistent/libsystemd.so.0";
        System.setProperty("rbee.libsystemd", missing);
        try {
            SdBusException e = assertThrows(SdBusException.class, SdBus::connect);
            assertTrue(e.getMessage().contains("cannot load " + missing) && e.getMessage().contains("sd-bus"), e.getMessage());
        } finally {
            System.clearProperty("rbee.libsystemd");
        }
    }

    @Test
    void theSystemdPlacementAskedForWithoutSystemdFailsSayingWhy() {
        Assumptions.assumeTrue(!Files.isDirectory(Path.of("/run/systemd/system")), "systemd is PID 1 here");
        IOException e = assertThrows(IOException.class, () -> ProcessMonitor.builder().placement(Placement.Kind.SYSTEMD).build());
        assertTrue(e.getMessage().contains("systemd placement was asked for but cannot work: systemd is not PID 1"), e.getMessage());
    }
}
