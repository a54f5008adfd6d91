package dev.rbee.hive.monitor.bench;

import dev.rbee.hive.monitor.cgroup.CgroupMount;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The live cgroups and the tmpfs fixture the benchmarks read, owned by one JVM:
 * everything lives under {@code <cgroup2 mount>/rbee-bench-<pid>} and
 * {@code /dev/shm/rbee-bench-<pid>}, and {@link #close} removes both (sleepers
 * killed first, rmdir retried on EBUSY).  Only the host's cgroup2 mount (from
 * /proc/self/mountinfo) is touched, and only under our own directory.
 *
 * <p>A JVM killed before {@link #close} leaves its directory behind:
 * {@link #cleanupStale} (run by {@code make bench} before and after) removes
 * those whose owner pid is no longer alive.
 */
public final class BenchCgroups implements AutoCloseable {
    static final String PREFIX = "rbee-bench-";
    /** The pure-v2 fixture (every stats file present), copied from core's test resources. */
    static final String[] FIXTURE_FILES = {
            "cgroup.controllers", "cgroup.events", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads",
            "cgroup.type", "cpu.max", "cpu.pressure", "cpu.stat", "cpu.weight", "io.pressure", "io.stat",
            "memory.current", "memory.events", "memory.high", "memory.low", "memory.max", "memory.min",
            "memory.peak", "memory.pressure", "memory.stat", "pids.current", "pids.events", "pids.max"};

    private final Path mount;
    private final Path root;
    private final Path shm;
    private final List<Process> sleepers = new ArrayList<>();
    private final Thread hook;
    private boolean closed;

    private BenchCgroups(Path mount) {
        this.mount = mount;
        long pid = ProcessHandle.current().pid();
        // RBEE_BENCH_TAG names the run's directories (rbee-bench-TAG-PID), e.g. to tell parallel runs apart
        String tag = System.getenv().getOrDefault("RBEE_BENCH_TAG", "");
        String name = PREFIX + (tag.isEmpty() ? "" : tag + "-") + pid;
        this.root = mount.resolve(name);
        this.shm = Path.of("/dev/shm", name);
        this.hook = new Thread(this::close, "rbee-bench-cleanup");
    }

    /** The host's cgroup2 mount, from /proc/self/mountinfo (never hard-coded). */
    public static Path mount() throws IOException {
        return CgroupMount.find(CgroupMount.MOUNTINFO)
                .orElseThrow(() -> new IOException("no cgroup2 mount in " + CgroupMount.MOUNTINFO))
                .mountPoint();
    }

    /** Creates {@code <mount>/rbee-bench-<pid>}; removed again by {@link #close} (or at JVM exit). */
    public static BenchCgroups create() throws IOException {
        BenchCgroups b = new BenchCgroups(mount());
        if (!Files.isWritable(b.mount)) throw new IOException("cgroup2 mount " + b.mount + " is not writable (run as root)");
        Files.createDirectory(b.root);
        Runtime.getRuntime().addShutdownHook(b.hook);
        return b;
    }

    public Path root() {
        return root;
    }

    /** Makes {@code root/relative} (and its parents below root), a cgroup. */
    public Path cgroup(String relative) throws IOException {
        Path dir = root.resolve(relative);
        Files.createDirectories(dir);
        return dir;
    }

    /** A live worker cgroup {@code root/relative} with one sleeping process in it; returns its pid. */
    public long sleeperIn(Path cgroup) throws IOException {
        Process p = new ProcessBuilder("sleep", "86400").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        sleepers.add(p);
        Files.writeString(cgroup.resolve("cgroup.procs"), Long.toString(p.pid()));
        return p.pid();
    }

    /**
     * One sleeping process in each of {@code cgroups}, started by one shell that stays their
     * parent (a JVM spawn each costs a tenth of a second under emulation: make bench-vm's 1000
     * leaves).  {@link #close} kills the sleepers (the subtree's cgroup.kill, while the shell
     * still reaps them), then the shell.
     */
    public void sleepersIn(List<Path> cgroups) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("sh", "-c",
                "for d; do sleep 86400 </dev/null >/dev/null 2>&1 & echo $! > \"$d/cgroup.procs\" || exit 1; done; echo started; wait", "sh"));
        for (Path c : cgroups) cmd.add(c.toString());
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        sleepers.add(p);
        String line = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream())).readLine();
        if (!"started".equals(line))
            throw new IOException("sleepers for " + cgroups.size() + " cgroups under " + root + " did not start (sh exit "
                    + (p.isAlive() ? "none yet" : p.exitValue()) + ")");
    }

    /**
     * A copy of the pure-v2 fixture in /dev/shm (tmpfs): every stats file
     * present, with the content of a worker on a pure cgroup v2 host.
     */
    public Path tmpfsFixture(String name) throws IOException {
        Path dir = shm.resolve(name);
        Files.createDirectories(dir);
        for (String f : FIXTURE_FILES) {
            try (InputStream in = BenchCgroups.class.getResourceAsStream("pure-v2/" + f)) {
                if (in == null) throw new IOException("fixture file missing from the jar: pure-v2/" + f);
                Files.write(dir.resolve(f), in.readAllBytes());
            }
        }
        return dir;
    }

    /**
     * A tree of {@code workers} copies of the pure-v2 fixture in /dev/shm (tmpfs):
     * {@code tree-N/gGG/wNNNNN}, 100 workers per group, each with the files a
     * sample reads (the stats files and cgroup.procs).  Returns the tree's root,
     * for a {@code CgroupTree}; removed by {@link #close}.
     */
    public Path tmpfsTree(int workers) throws IOException {
        Path top = shm.resolve("tree-" + workers);
        java.util.Map<String, byte[]> content = new java.util.LinkedHashMap<>();
        for (String f : Fixture.sampleFileNames()) {
            try (InputStream in = BenchCgroups.class.getResourceAsStream("pure-v2/" + f)) {
                if (in == null) throw new IOException("fixture file missing from the jar: pure-v2/" + f);
                content.put(f, in.readAllBytes());
            }
        }
        for (int i = 0; i < workers; i++) {
            Path leaf = top.resolve(String.format("g%03d/w%05d", i / 100, i));
            Files.createDirectories(leaf);
            for (var e : content.entrySet()) Files.write(leaf.resolve(e.getKey()), e.getValue());
        }
        return top;
    }

    /** Kills the sleepers, removes every cgroup under root (deepest first) and the tmpfs copy. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // called from the hook itself
        }
        // the subtree's processes first, while their parents (this JVM, sleepersIn's shell) still reap them
        killAll(root);
        for (Process p : sleepers) p.destroyForcibly();
        for (Process p : sleepers) {
            try {
                p.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            removeTree(root);
        } catch (IOException e) {
            System.err.println("rbee-bench: could not remove " + root + ": " + e);
        }
        try {
            deleteRecursively(shm);
        } catch (IOException e) {
            System.err.println("rbee-bench: could not remove " + shm + ": " + e);
        }
    }

    /**
     * Removes a cgroup subtree: kills what is left in it (cgroup.kill), then
     * rmdir deepest first, retrying EBUSY (a cgroup stays busy briefly after its
     * last process exits) for up to 5 s per directory.
     */
    static void removeTree(Path top) throws IOException {
        if (!Files.isDirectory(top, LinkOption.NOFOLLOW_LINKS)) return;
        killAll(top);
        List<Path> dirs;
        try (Stream<Path> s = Files.walk(top)) {
            dirs = s.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))
                    .sorted(Comparator.comparingInt(Path::getNameCount).reversed()).toList();
        }
        for (Path d : dirs) rmdir(d);
    }

    /** SIGKILL to every process in the subtree {@code top} (cgroup.kill), where the kernel has it. */
    private static void killAll(Path top) {
        Path kill = top.resolve("cgroup.kill");
        if (Files.exists(kill)) {
            try {
                Files.writeString(kill, "1");
            } catch (IOException ignored) {
                // no cgroup.kill support: the sleepers were killed by pid
            }
        }
    }

    static void rmdir(Path dir) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        long sleep = 1;
        while (true) {
            try {
                Files.delete(dir); // rmdir(2) on cgroupfs: the control files go with it
                return;
            } catch (NoSuchFileException gone) {
                return;
            } catch (FileSystemException e) { // EBUSY (and ENOTEMPTY): retry
                if (System.nanoTime() > deadline) throw e;
                try {
                    Thread.sleep(sleep);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
                sleep = Math.min(sleep * 2, 100);
            }
        }
    }

    private static void deleteRecursively(Path top) throws IOException {
        if (!Files.exists(top, LinkOption.NOFOLLOW_LINKS)) return;
        try (Stream<Path> s = Files.walk(top)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    /**
     * Removes the leftovers of benchmark JVMs that died before their teardown:
     * {@code rbee-bench-<pid>} directories (cgroup and tmpfs) whose pid is not alive.
     */
    public static List<Path> cleanupStale() throws IOException {
        List<Path> removed = new ArrayList<>();
        for (Path parent : List.of(mount(), Path.of("/dev/shm"))) {
            if (!Files.isDirectory(parent)) continue;
            List<Path> candidates;
            try (Stream<Path> s = Files.list(parent)) {
                candidates = s.filter(p -> p.getFileName().toString().startsWith(PREFIX)).toList();
            }
            for (Path p : candidates) {
                long pid;
                try {
                    String name = p.getFileName().toString(); // rbee-bench-PID or rbee-bench-TAG-PID
                    pid = Long.parseLong(name.substring(name.lastIndexOf('-') + 1));
                } catch (NumberFormatException e) {
                    continue;
                }
                if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) continue;
                if (parent.equals(Path.of("/dev/shm"))) deleteRecursively(p);
                else removeTree(p);
                removed.add(p);
            }
        }
        return removed;
    }

    /**
     * {@code java -cp benchmarks.jar dev.rbee.hive.monitor.bench.BenchCgroups}: checks that the
     * cgroup2 mount is there and writable (exit 1 if not), removes stale leftovers.
     */
    public static void main(String[] args) throws IOException {
        Path mount;
        try {
            mount = mount();
        } catch (IOException e) {
            System.err.println("bench: " + e.getMessage() + ": the benchmarks need cgroup v2");
            System.exit(1);
            return;
        }
        if (!Files.isWritable(mount)) {
            System.err.println("bench: the cgroup2 mount " + mount + " is not writable: run as root");
            System.exit(1);
        }
        for (Path p : cleanupStale()) System.out.println("removed stale " + p);
    }
}
