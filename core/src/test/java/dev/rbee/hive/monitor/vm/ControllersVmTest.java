package dev.rbee.hive.monitor.vm;

import dev.rbee.hive.monitor.model.ExitReport;
import dev.rbee.hive.monitor.model.Limits;
import dev.rbee.hive.monitor.model.Output;
import dev.rbee.hive.monitor.model.SpawnException;
import dev.rbee.hive.monitor.model.SpawnException.Step;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Controllers are enabled in the ancestors only where a limit or a stat needs
 * them; a limit the kernel itself refuses fails the spawn with the file, the
 * value and the errno, and leaves nothing behind.
 */
@Tag("vm")
class ControllersVmTest extends VmTestBase {
    ControllersVmTest() {
        super("ctl");
    }

    private Worker idle(String instance, Limits limits) throws Exception {
        Worker w = monitor.spawn(WorkerSpec.command(VmEnv.helper(), "alloc", "1", "hold")
                .withMonitoring("g", instance).limits(limits).output(Output.pipe()).build());
        assertEquals("touched 1", VmEnv.line(VmEnv.stdout(w), Duration.ofSeconds(30)));
        return w;
    }

    @Test
    void controllersEnabledOnlyAsNeeded() throws Exception {
        Path group = root.resolve("g");
        assertFalse(Files.exists(root), "fresh root");

        // No limits: the stats controllers (memory io pids) are enabled, cpu is not.
        Worker plain = idle("plain", Limits.NONE);
        for (Path dir : new Path[] {root, group}) {
            Set<String> on = VmEnv.words(dir.resolve("cgroup.subtree_control"));
            System.out.println("controllers: no limits: " + dir + "/cgroup.subtree_control = " + on);
            assertTrue(on.containsAll(Set.of("memory", "io", "pids")), dir + ": " + on);
            assertFalse(on.contains("cpu"), "cpu enabled without a cpu limit in " + dir + ": " + on);
        }
        Path plainLeaf = plain.cgroup().orElseThrow();
        assertFalse(Files.exists(plainLeaf.resolve("cpu.max")), "no cpu.max in a leaf without the cpu controller");
        assertTrue(Files.exists(plainLeaf.resolve("memory.max")));

        // A cpu limit: now cpu is enabled along the chain, and the leaf has it.
        Worker limited = idle("limited", Limits.builder().cpuPercent(150).build());
        for (Path dir : new Path[] {root, group}) {
            Set<String> on = VmEnv.words(dir.resolve("cgroup.subtree_control"));
            System.out.println("controllers: cpu limit: " + dir + "/cgroup.subtree_control = " + on);
            assertTrue(on.contains("cpu"), "cpu not enabled for a cpu limit in " + dir + ": " + on);
        }
        assertEquals("150000 100000", VmEnv.read(limited.cgroup().orElseThrow().resolve("cpu.max")));

        for (Worker w : new Worker[] {plain, limited}) {
            ExitReport r = w.stop(Duration.ofSeconds(5));
            assertTrue(r.cgroupRemoved(), r.summary());
        }
    }

    @Test
    void limitTheKernelRefusesFailsNamingFileValueAndErrno() throws Exception {
        // The Java side accepts any MAJ:MIN; only the kernel knows there is no device 259:99.
        monitor.spawn(WorkerSpec.command("/bin/true").build()).onExit().join(); // warm-up: launcher, threads
        long children = TestEnv.liveChildren();
        SpawnException e = assertThrows(SpawnException.class, () -> monitor.spawn(WorkerSpec.command(VmEnv.helper(), "spin")
                .withMonitoring("g", "refused").limits(Limits.builder().io("259:99 rbps=1M").build()).build()));
        System.out.println("controllers: refused limit [" + e.step() + " " + e.errno().orElse("-") + "]: " + e.getMessage());
        assertEquals(Step.LIMIT, e.step(), e.getMessage());
        assertEquals("ENODEV", e.errno().orElseThrow(), e.getMessage());
        assertTrue(e.getMessage().contains(root.resolve("g/refused/io.max").toString()), "names the file: " + e.getMessage());
        assertTrue(e.getMessage().contains("259:99 rbps=1048576"), "names the value: " + e.getMessage());
        assertTrue(e.getMessage().contains("ENODEV"), "names the errno: " + e.getMessage());
        // Nothing left behind: the spawn created root, group and leaf, and removed them all.
        assertFalse(Files.exists(root), "cgroup directories left behind under " + root);
        assertEquals(children, TestEnv.liveChildren(), "process left behind");
    }
}
