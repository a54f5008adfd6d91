package dev.rbee.hive.monitor.vm;

import dev.rbee.hive.monitor.model.Backend;
import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.testing.TestEnv;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * What the tests tagged "vm" share.  They run only inside the QEMU guest of
 * vm/test.sh (make vm-test): as root, on a pure cgroup v2 hierarchy whose root
 * offers cpu, memory, io and pids.  Each test class works under its own
 * top-level cgroup {@code /sys/fs/cgroup/vm-NAME-RANDOM} (the monitor's root,
 * in place of rbee.slice), so that what one test enabled or left cannot make
 * another pass.
 */
final class VmEnv {
    static final Path CGROUP = Path.of("/sys/fs/cgroup");
    static final long MIB = 1024 * 1024;

    private VmEnv() {}

    /** Fails (never skips) outside the guest: a skipped VM suite would look like a passing one. */
    static void requireGuest() {
        if (!"1".equals(System.getenv("VM_GUEST")))
            fail("tests tagged \"vm\" run only inside the QEMU guest: make vm-test (vm/test.sh)");
        Set<String> offered = words(CGROUP.resolve("cgroup.subtree_control"));
        if (!offered.containsAll(Set.of("cpu", "memory", "io", "pids")))
            fail("the guest's cgroup root must delegate cpu memory io pids, its subtree_control lists " + offered);
    }

    /** A system property vm/test.sh sets; fails naming it when it is missing. */
    static String property(String name) {
        String v = System.getProperty(name);
        if (v == null || v.isEmpty()) fail("system property " + name + " is not set: run the VM suite through vm/test.sh");
        return v;
    }

    /** A top-level cgroup path no other test uses (not created: the first spawn makes it). */
    static Path newRoot(String name) {
        return CGROUP.resolve(TestEnv.uniqueGroup(name).replaceFirst("^t-", "vm-"));
    }

    /**
     * A monitor whose workers live under {@code root} ({@code root/group/instance}), with the built launcher;
     * fails unless it chose the cgroup2 backend (never a silent fallback to the process tree).
     */
    static ProcessMonitor monitor(Path root) {
        try {
            ProcessMonitor m = ProcessMonitor.builder().root(root).launcher(TestEnv.launcher()).build();
            if (m.backend().kind() != Backend.Kind.CGROUP2) fail("expected the cgroup2 backend under " + root + ": " + m.backend());
            return m;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** native-launcher/build/test/vm-helper (alloc, spin, forkbomb, dread). */
    static String helper() {
        return TestEnv.testBin("vm-helper").toString();
    }

    static Set<String> words(Path file) {
        try {
            return Set.of(Files.readString(file).strip().split("\\s+"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String read(Path file) {
        try {
            return Files.readString(file).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A reader of the worker's stdout (the spec must use Output.pipe()). */
    static BufferedReader stdout(Worker w) {
        return new BufferedReader(new InputStreamReader(w.process().orElseThrow().getInputStream(), StandardCharsets.US_ASCII));
    }

    /** The next line of {@code out}, waiting at most {@code timeout}; null at end of stream. */
    static String line(BufferedReader out, Duration timeout) throws Exception {
        CompletableFuture<String> f = CompletableFuture.supplyAsync(() -> {
            try {
                return out.readLine();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The worker's cgroup as /proc/PID/cgroup shows it ("0::/vm-x/g/i"). */
    static String procCgroup(long pid) throws IOException {
        return Files.readString(Path.of("/proc/" + pid + "/cgroup")).strip();
    }

    /** The line /proc/PID/cgroup shows for a process in {@code dir}. */
    static String cgroupLine(Path dir) {
        return "0::/" + CGROUP.relativize(dir);
    }

    /** Kills what is left under {@code root} and removes it (test cleanup only). */
    static void destroy(Path root) {
        TestEnv.destroyTree(root);
    }
}
