package dev.rbee.hive.monitor.vm.systemd;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * What the tests tagged "systemd" share.  They run only inside the QEMU guest
 * of vm/test.sh in systemd mode (make vm-test-systemd): systemd 252 is PID 1 and
 * owns the cgroup tree, the test JVM runs as root in rbee-vm-test.service, and
 * /usr/local/bin/rbee-mon runs the built CLI.  The tests drive real processes:
 * systemd-run, systemctl, systemd-cgls, journalctl, strace and the CLI.
 * Static helpers only; each test calls them from its own thread.
 */
final class SdEnv {
    static final Path CGROUP = Path.of("/sys/fs/cgroup");
    /** The delegated scope of the systemd placement (the contract of issue 14). */
    static final String SLICE = "rbee-hive.slice", SCOPE = "rbee-hive.scope";
    /** Its cgroup: systemd nests a slice in the slice its name's dashes name, rbee-hive.slice in rbee.slice. */
    static final Path HIVE = CGROUP.resolve("rbee.slice").resolve(SLICE).resolve(SCOPE);
    static final String RBEE_MON = "/usr/local/bin/rbee-mon";

    private SdEnv() {}

    /** Fails (never skips) outside the systemd guest: a skipped suite would look like a passing one. */
    static void requireGuest() {
        if (!"1".equals(System.getenv("VM_SYSTEMD")))
            fail("tests tagged \"systemd\" run only inside the systemd guest: make vm-test-systemd (VM_SUITE=systemd vm/test.sh)");
        String pid1 = read(Path.of("/proc/1/comm"));
        if (!pid1.equals("systemd")) fail("PID 1 is " + pid1 + ", not systemd");
    }

    /** A system property vm/test.sh sets; fails naming it when it is missing. */
    static String property(String name) {
        String v = System.getProperty(name);
        if (v == null || v.isEmpty()) fail("system property " + name + " is not set: run the suite through vm/test.sh");
        return v;
    }

    /** A finished command: exit status and its whole output. */
    record Result(List<String> cmd, int rc, String out, String err) {
        Result ok() {
            if (rc != 0) fail(this.toString());
            return this;
        }

        @Override
        public String toString() {
            return String.join(" ", cmd) + " -> exit " + rc + "\n--- stdout:\n" + out + "--- stderr:\n" + err;
        }
    }

    /** Runs {@code cmd}, waiting at most {@code timeout} (then kills it and fails). */
    static Result sh(Duration timeout, String... cmd) {
        try {
            Path out = Files.createTempFile("sd-out", ".txt"), err = Files.createTempFile("sd-err", ".txt");
            try {
                long t0 = System.nanoTime();
                Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                        .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly().waitFor();
                    fail("timed out after " + timeout + ": " + String.join(" ", cmd) + "\n" + Files.readString(out) + Files.readString(err));
                }
                // On the console as it happens: where the time goes, and what ran last should a test hang.
                System.out.printf("sd: %5.1f s  exit %d  %s%n", (System.nanoTime() - t0) / 1e9, p.exitValue(),
                        String.join(" ", cmd).replaceAll("-cp \\S+", "-cp ..."));
                return new Result(List.of(cmd), p.exitValue(), Files.readString(out), Files.readString(err));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static Result sh(String... cmd) {
        return sh(Duration.ofSeconds(120), cmd);
    }

    /** The CLI: rbee-mon ARGS. */
    static Result rbeeMon(String... args) {
        String[] cmd = new String[args.length + 1];
        cmd[0] = RBEE_MON;
        System.arraycopy(args, 0, cmd, 1, args.length);
        return sh(cmd);
    }

    /**
     * Starts {@code rbee-mon run BACKENDOPTS... --group G --instance I RUNARGS... -- WORKER...} as the transient
     * service {@code unit} (systemd-run, so it is a service like any other) and returns at once.
     */
    static void startSupervisor(String unit, List<String> global, String group, String instance,
                                List<String> runArgs, String... worker) {
        // The unit's defaults (KillMode=control-group) on purpose: the worst case for workers in its cgroup.
        List<String> cmd = new ArrayList<>(List.of("systemd-run", "--unit=" + unit, "--collect", "--quiet", RBEE_MON));
        cmd.add("run");
        cmd.addAll(global);   // the backend options are the command's (rbee-mon run --unit X ...)
        cmd.addAll(List.of("--group", group, "--instance", instance));
        cmd.addAll(runArgs);
        cmd.add("--");
        cmd.addAll(Arrays.asList(worker));
        sh(cmd.toArray(String[]::new)).ok();
    }

    /** Stops a unit (if still there) and forgets its failure; test cleanup. */
    static void stopUnit(String unit) {
        sh("systemctl", "stop", unit);
        sh("systemctl", "reset-failed", unit);
    }

    /** Whether the unit is active ("active", "inactive", "failed", ...). */
    static String unitState(String unit) {
        return sh("systemctl", "is-active", unit).out().strip();
    }

    /** Polls {@code condition} every 100 ms for at most {@code timeout}; fails with {@code what}. */
    static void await(Duration timeout, String what, BooleanSupplier condition) {
        long end = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) fail("timed out after " + timeout + " waiting until " + what);
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    /**
     * The leaf {@code .../GROUP/INSTANCE} anywhere in the tree that holds a process, found by walking
     * it (tests use group names of their own, so at most one matches).
     */
    static Optional<Path> findLeaf(String group, String instance) {
        try (Stream<Path> s = Files.walk(CGROUP, 8)) {
            return s.filter(Files::isDirectory)
                    .filter(d -> d.getFileName() != null && d.getFileName().toString().equals(instance)
                            && d.getParent().getFileName().toString().equals(group))
                    .filter(d -> !procs(d).isEmpty()).findFirst();
        } catch (IOException | UncheckedIOException e) {
            return Optional.empty();   // a cgroup removed during the walk: the caller polls again
        }
    }

    /** Waits until a process lives in a leaf GROUP/INSTANCE and returns that leaf. */
    static Path awaitLeaf(String group, String instance, Duration timeout) {
        Path[] found = new Path[1];
        await(timeout, "a process lives in a leaf " + group + "/" + instance, () -> {
            found[0] = findLeaf(group, instance).orElse(null);
            return found[0] != null;
        });
        return found[0];
    }

    /** As {@link #awaitLeaf(String, String, Duration)}, for the worker of the supervisor service {@code unit}: a failure shows its journal. */
    static Path awaitWorkerOf(String unit, String group, String instance, Duration timeout) {
        try {
            return awaitLeaf(group, instance, timeout);
        } catch (AssertionError e) {
            String journal = sh("journalctl", "-q", "--no-pager", "-o", "cat", "-u", unit + ".service").out();
            throw new AssertionError(e.getMessage() + "; " + unit + " is " + unitState(unit) + ", its journal:\n" + journal, e);
        }
    }

    /** The pids in {@code dir}/cgroup.procs; empty when there is none or the cgroup is gone. */
    static List<Long> procs(Path dir) {
        try {
            String s = Files.readString(dir.resolve("cgroup.procs")).strip();
            return s.isEmpty() ? List.of() : Arrays.stream(s.split("\\s+")).map(Long::parseLong).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** The one process of a leaf, waiting until there is exactly one. */
    static long onlyPid(Path leaf) {
        await(Duration.ofSeconds(30), "one process in " + leaf, () -> procs(leaf).size() == 1);
        return procs(leaf).getFirst();
    }

    /** The process's identity for a liveness check that a recycled pid cannot pass: its start time in /proc/PID/stat. */
    static Optional<String> startTime(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Optional.of(f[19]);   // field 22, starttime
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    static String procCgroup(long pid) {
        return read(Path.of("/proc/" + pid + "/cgroup"));
    }

    /** "/a/b" for CGROUP/a/b, as /proc/PID/cgroup names it. */
    static String rel(Path cgroup) {
        return "/" + CGROUP.relativize(cgroup);
    }

    static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** "key: value" lines (as rbee-mon backend prints them). */
    static Map<String, String> keyValues(String text) {
        Map<String, String> m = new TreeMap<>();
        for (String line : text.split("\n")) {
            int i = line.indexOf(':');
            if (i > 0) m.putIfAbsent(line.substring(0, i).strip(), line.substring(i + 1).strip());
        }
        return m;
    }

    /** Every cgroup below {@code dir} (itself included), deepest first: the order to remove them in. */
    static List<Path> cgroupsBelow(Path dir) {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.walk(dir)) {
            List<Path> l = new ArrayList<>(s.filter(Files::isDirectory).toList());
            l.sort((a, b) -> b.getNameCount() - a.getNameCount());
            return l;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Kills what is left in {@code leaf} (cgroup.kill) and removes it: test cleanup only. */
    static void destroy(Path dir) {
        for (Path d : cgroupsBelow(dir)) {
            try {
                if (!procs(d).isEmpty()) {
                    Files.writeString(d.resolve("cgroup.kill"), "1");
                    await(Duration.ofSeconds(10), d + " empty", () -> procs(d).isEmpty());
                }
                Files.deleteIfExists(d);
            } catch (IOException e) {
                System.out.println("cleanup: " + d + ": " + e);
            }
        }
    }
}
