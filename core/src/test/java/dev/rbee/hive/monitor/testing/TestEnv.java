package dev.rbee.hive.monitor.testing;

import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.cgroup.CgroupMount;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/** Where the tests find the host's cgroup2, the launcher and the C test programs. */
public final class TestEnv {
    private TestEnv() {}

    /** The host's cgroup2 mount (required: every test machine of this project has one). */
    public static Path cgroupMount() {
        try {
            return CgroupMount.find(CgroupMount.MOUNTINFO).orElseThrow(
                    () -> new IllegalStateException("no cgroup2 mount on this host")).mountPoint();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The class path for a child JVM that runs a test class: the JUnit console
     * launcher of the VM suite takes it as an argument, not as java.class.path,
     * so vm/test.sh passes it as rbee.test.classpath.
     */
    public static String classPath() {
        return System.getProperty("rbee.test.classpath", System.getProperty("java.class.path"));
    }

    /** A C test program built by native-launcher/Makefile. */
    public static Path testBin(String name) {
        Path p = Path.of(System.getProperty("rbee.testbin", "../native-launcher/build/test"), name);
        if (!Files.isExecutable(p)) throw new IllegalStateException(p + " is missing: run make");
        return p.toAbsolutePath();
    }

    public static Path launcher() {
        return Path.of(System.getProperty("rbee.launcher", "../native-launcher/build/rbee-launch")).toAbsolutePath();
    }

    /** A group name no other test uses: "t-PREFIX-random". */
    public static String uniqueGroup(String prefix) {
        return "t-" + prefix + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffffL);
    }

    /** A monitor on the host's cgroup2, with the launcher from the jar. */
    /** A monitor on the best backend that spawns only through {@code path}. */
    public static ProcessMonitor monitor(dev.rbee.hive.monitor.model.SpawnPath path) {
        try {
            return ProcessMonitor.builder().spawnPath(path).build();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static ProcessMonitor monitor() {
        try {
            return ProcessMonitor.create();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Open fds of this JVM. */
    public static long fdCount() {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Open fds once what earlier tests dropped unclosed has been collected
     * (kept-open stats files close through a Cleaner, at a time of the GC's
     * choosing): a baseline that does not fall during the test that takes it.
     */
    public static long settledFdCount() {
        long last = -1;
        for (int i = 0; i < 20; i++) {
            System.gc();
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            long now = fdCount();
            if (now == last) return now;
            last = now;
        }
        return last;
    }

    /** This JVM's open fds, as "fd -> target" (for messages). */
    public static List<String> fds() {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.map(p -> {
                try {
                    return p.getFileName() + "->" + Files.readSymbolicLink(p);
                } catch (IOException e) {
                    return p.getFileName() + "->?";
                }
            }).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * One spawn, adoption and exit under {@code root}, so that what the library
     * makes once per JVM (the unpacked launcher, the exit watcher's eventfd) is
     * there before a test takes its fd and thread baseline.
     */
    public static void warmUp(Path root) {
        try {
            ProcessMonitor m = ProcessMonitor.builder().root(root).launcher(launcher()).build();
            String g = uniqueGroup("warmup");
            var w = m.spawn(dev.rbee.hive.monitor.model.WorkerSpec.command("/bin/sleep", "10").withMonitoring(g, "1").build());
            ProcessMonitor.builder().root(root).launcher(launcher()).build().worker(g, "1").orElseThrow();
            w.stop(java.time.Duration.ofSeconds(5));
            m.close();
        } catch (Exception e) {
            throw new IllegalStateException("warm-up spawn failed", e);
        }
    }

    /** Children of this JVM still alive. */
    public static long liveChildren() {
        return ProcessHandle.current().children().filter(ProcessHandle::isAlive).count();
    }

    /** Kills everything in a cgroup subtree and removes its directories (test cleanup only). */
    public static void destroyTree(Path dir) {
        if (!Files.isDirectory(dir)) return;
        try (Stream<Path> s = Files.list(dir)) {
            for (Path child : s.filter(Files::isDirectory).toList()) destroyTree(child);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            Path kill = dir.resolve("cgroup.kill");
            if (Files.exists(kill)) Files.writeString(kill, "1");
            for (int i = 0; i < 200 && Files.exists(dir); i++) {
                try {
                    Files.delete(dir);
                } catch (IOException busy) {
                    Thread.sleep(10);
                }
            }
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException("cannot clean up " + dir, e);
        }
    }

    public static Optional<String> read(Path p) {
        try {
            return Optional.of(Files.readString(p));
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
