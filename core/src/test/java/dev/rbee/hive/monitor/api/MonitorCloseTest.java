package dev.rbee.hive.monitor.api;

import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.Sampler;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.ExitReport;
import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link ProcessMonitor#close()} gives back every fd and thread the monitor made, and may be called twice. */
class MonitorCloseTest {
    private final String group = TestEnv.uniqueGroup("close");
    private Path groupDir;

    @AfterEach
    void cleanup() {
        if (groupDir != null) TestEnv.destroyTree(groupDir);
    }

    @Test
    void closeReleasesEveryFdAndThreadAndIsIdempotent() throws Exception {
        // Warm up what is JVM-wide and outlives every monitor (the launcher unpacked,
        // "rbee-spawner", "rbee-exit-watcher", the native path's pipe fd cleaner "rbee-fd-cleaner", NVML probing):
        // not this monitor's to release.
        try (ProcessMonitor warm = TestEnv.monitor()) {
            groupDir = warm.backend().root().orElseThrow().resolve(group);
            warm.spawn(WorkerSpec.command("/bin/true").withMonitoring(group, "warm").build())
                    .onExit().get(30, TimeUnit.SECONDS);
            warm.sampler().interval(Duration.ofMillis(50)).start().awaitFirst(Duration.ofSeconds(10));
        }
        awaitQuiet(JVM_WIDE);
        long fds = TestEnv.settledFdCount();

        ProcessMonitor m = TestEnv.monitor();
        Worker w = m.spawn(WorkerSpec.command("/bin/sleep", "60").withMonitoring(group, "1").build());
        Sampler a = m.sampler().interval(Duration.ofMillis(50)).start();
        Sampler b = m.sampler().interval(Duration.ofMillis(50)).start();
        a.awaitFirst(Duration.ofSeconds(10));
        b.awaitFirst(Duration.ofSeconds(10));
        assertTrue(m.collectAllWorkers().stream().anyMatch(s -> s.group().equals(group)));
        assertTrue(rbeeThreads().contains("rbee-sampler"), rbeeThreads().toString());
        assertTrue(TestEnv.fdCount() > fds, "the monitor holds nothing: the test would prove nothing");

        ExitReport r = w.stop(Duration.ofSeconds(5));
        assertTrue(r.cgroupRemoved(), r.summary());
        m.close();
        m.close(); // idempotent: no exception, nothing closed twice
        b.close(); // closed by the monitor already: idempotent too

        assertThrows(IllegalStateException.class, m::collectAllWorkers);
        assertThrows(IllegalStateException.class, () -> m.sampler().start());
        // The reaper's threads end after 2 s idle; samplers' threads at once.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline
                && (TestEnv.fdCount() != fds || !JVM_WIDE.containsAll(rbeeThreads())))
            Thread.sleep(100);
        assertEquals(fds, TestEnv.fdCount(), "fds left open: " + TestEnv.fds());
        assertFalse(rbeeThreads().contains("rbee-sampler"), rbeeThreads().toString());
        assertTrue(JVM_WIDE.containsAll(rbeeThreads()), rbeeThreads().toString());
    }

    private static final Set<String> JVM_WIDE = Set.of("rbee-spawner", "rbee-exit-watcher", "rbee-fd-cleaner");

    private static Set<String> rbeeThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> n.startsWith("rbee-")).collect(Collectors.toSet());
    }

    private static void awaitQuiet(Set<String> allowed) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!allowed.containsAll(rbeeThreads()) && System.nanoTime() < deadline) Thread.sleep(100);
        assertTrue(allowed.containsAll(rbeeThreads()), "threads before the test: " + rbeeThreads());
    }
}
