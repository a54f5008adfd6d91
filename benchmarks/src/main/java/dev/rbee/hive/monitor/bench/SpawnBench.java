package dev.rbee.hive.monitor.bench;

import dev.rbee.hive.monitor.model.ExitReport;
import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.model.SpawnPath;
import dev.rbee.hive.monitor.model.WorkerSpec;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Start-to-exit of {@code /bin/true}, three ways (sampled: the median is the figure):
 * <ul>
 *   <li>{@code processBuilder}: plain ProcessBuilder, no cgroup (the floor);</li>
 *   <li>{@code monitoredSpawn}: {@link ProcessMonitor#spawn} with monitoring,
 *       then {@code onExit().join()}, on the default (native) path: leaf
 *       created, librbee-spawn.so's clone3 starts the program inside it, exit
 *       seen through the pidfd, final figures read, leaf removed;</li>
 *   <li>{@code monitoredSpawnLauncher}: the same through the fallback path,
 *       rbee-launch (ProcessBuilder, jspawnhelper, the launcher joins the leaf
 *       and execs the program, the status socket handshake);</li>
 *   <li>{@code spawnThenAttach}: the first implementation's way: mkdir the
 *       leaf, ProcessBuilder, then write the pid into cgroup.procs (racy: the
 *       process runs outside the cgroup until then, and /bin/true has often
 *       exited already - counted and printed), wait, rmdir.</li>
 * </ul>
 * Every way inherits stdout/stderr (as the monitored spawn does by default).
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class SpawnBench {
    private static final String TRUE = Files.isExecutable(Path.of("/bin/true")) ? "/bin/true" : "/usr/bin/true";

    private BenchCgroups cgroups;
    private ProcessMonitor monitor, launcherMonitor;
    private Path attachDir;
    private long n, attached, missed;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        cgroups = BenchCgroups.create();
        monitor = ProcessMonitor.builder().root(cgroups.root().resolve("spawn")).spawnPath(SpawnPath.NATIVE).build();
        launcherMonitor = ProcessMonitor.builder().root(cgroups.root().resolve("spawn")).spawnPath(SpawnPath.LAUNCHER).build();
        attachDir = cgroups.cgroup("attach");
        monitoredSpawn(); // unpacks librbee-spawn.so, starts the reaper threads
        monitoredSpawnLauncher(); // unpacks rbee-launch
        System.out.println("# backend: " + monitor.backend());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (attached + missed > 0)
            System.out.printf("# spawn-then-attach: %d attached, %d already exited before the pid was written (%.0f %%)%n",
                    attached, missed, 100.0 * missed / (attached + missed));
        cgroups.close();
    }

    @Benchmark
    public int processBuilder() throws Exception {
        return new ProcessBuilder(TRUE).inheritIO().start().waitFor();
    }

    @Benchmark
    public ExitReport monitoredSpawn() throws Exception {
        return monitor.spawn(WorkerSpec.command(TRUE).withMonitoring("bench", "w" + (n++ % 1000)).build())
                .onExit().join();
    }

    @Benchmark
    public ExitReport monitoredSpawnLauncher() throws Exception {
        return launcherMonitor.spawn(WorkerSpec.command(TRUE).withMonitoring("bench", "l" + (n++ % 1000)).build())
                .onExit().join();
    }

    @Benchmark
    public int spawnThenAttach() throws Exception {
        Path leaf = attachDir.resolve("w" + (n++ % 1000));
        Files.createDirectory(leaf);
        Process p = new ProcessBuilder(TRUE).inheritIO().start();
        try {
            Files.writeString(leaf.resolve("cgroup.procs"), Long.toString(p.pid()));
            attached++;
        } catch (IOException e) { // ESRCH: it ran and exited outside the cgroup
            missed++;
        }
        int rc = p.waitFor();
        BenchCgroups.rmdir(leaf);
        return rc;
    }
}
