package dev.rbee.hive.monitor.stats;

import dev.rbee.hive.monitor.cgroup.CgroupFiles;
import dev.rbee.hive.monitor.cgroup.CgroupMount;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A cgroup of the test's own directly under the cgroup2 mount
 * ({@code rbee-test-stats-<random>}); closing it kills what it holds and
 * removes it.  Skips the test where there is no writable cgroup2.
 */
final class LiveCgroup implements AutoCloseable {
    final Path dir;
    private final List<Process> processes = new ArrayList<>();
    private boolean removed;

    private LiveCgroup(Path dir) {
        this.dir = dir;
    }

    static LiveCgroup create() throws IOException {
        Optional<CgroupMount> mount = CgroupMount.find(CgroupMount.MOUNTINFO);
        assumeTrue(mount.isPresent(), "no cgroup2 mount");
        Path root = mount.get().mountPoint();
        assumeTrue(Files.isWritable(root.resolve("cgroup.procs")), "cgroup2 at " + root + " is not writable");
        Path dir = root.resolve("rbee-test-stats-" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16));
        CgroupFiles.mkdir(dir);
        return new LiveCgroup(dir);
    }

    /** Starts a process and moves it in (start-then-move is fine for a test, not for workers). */
    Process start(String... command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        processes.add(p);
        CgroupFiles.write(dir.resolve("cgroup.procs"), Long.toString(p.pid()));
        return p;
    }

    /** Kills everything in the cgroup (cgroup.kill where the kernel has it) and removes it. */
    void remove() throws IOException, InterruptedException {
        if (removed) return;
        if (Files.exists(dir.resolve("cgroup.kill"))) CgroupFiles.write(dir.resolve("cgroup.kill"), "1");
        for (Process p : processes) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
        CgroupFiles.rmdir(dir, 5_000);
        removed = true;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        remove();
    }

    /** The time a process has run on a CPU, from /proc/PID/schedstat, in microseconds. */
    static long runtimeUsec(long pid) throws IOException {
        String s = Files.readString(Path.of("/proc/" + pid + "/schedstat"));
        return Long.parseLong(s.substring(0, s.indexOf(' '))) / 1000;
    }
}
