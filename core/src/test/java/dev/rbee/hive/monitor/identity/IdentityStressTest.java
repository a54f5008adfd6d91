package dev.rbee.hive.monitor.identity;

import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Done-when 1 of the identity issue: threads of this JVM (over two monitors)
 * and two more JVMs spawn, restart, stop, kill and adopt at random over three
 * ids at once.  Meanwhile a checker reads every leaf: never two processes in
 * one (the workers are /bin/sleep, which never forks).  Afterwards: every
 * spawn succeeded or failed BUSY, no onExit completed exceptionally, and no
 * leaf, socket file, fd, thread or child is left.
 */
public class IdentityStressTest {
    static final int THREADS = 4, JVMS = 2;

    /** The tree the workers live in: the host's rbee.slice here; the VM subclass uses its own root. */
    protected Path root() {
        return TestEnv.monitor().backend().root().orElseThrow();
    }

    /** Operations per thread (fewer in the emulated VM, where a spawn costs ten times more). */
    protected int ops() {
        return 100;
    }

    @Test
    public void manyThreadsAndJvmsKeepOneWorkerPerId() throws Exception {
        Path root = root();
        String group = TestEnv.uniqueGroup("stress");
        Path groupDir = root.resolve(group);
        List<String> ids = List.of("a", "b", "c");
        int ops = ops();
        TestEnv.warmUp(root); // the JVM-wide singletons (launcher, exit watcher's eventfd) before the fd baseline
        long fdsBefore = TestEnv.settledFdCount();
        List<String> fdsBeforeList = TestEnv.fds();
        long rbeeThreadsBefore = rbeeThreads();

        Map<String, AtomicLong> checker = new ConcurrentHashMap<>();
        AtomicBoolean done = new AtomicBoolean();
        Thread check = Thread.ofPlatform().name("stress-checker").start(() -> {
            while (!done.get()) {
                for (String id : ids) {
                    long n = processesIn(groupDir.resolve(id));
                    checker.computeIfAbsent(n > 1 ? "violation:two processes in one leaf" : "checks", k -> new AtomicLong())
                            .incrementAndGet();
                }
            }
        });

        List<Process> jvms = new ArrayList<>();
        for (int j = 0; j < JVMS; j++) {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-Drbee.launcher=" + TestEnv.launcher(),
                    "-cp", TestEnv.classPath(),
                    IdentityStress.class.getName(), root.toString(), group, Long.toString(1000 + j), Integer.toString(ops), "2"));
            cmd.addAll(ids);
            jvms.add(new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start());
        }
        ProcessMonitor m1 = IdentityStress.monitor(root), m2 = IdentityStress.monitor(root);
        IdentityStress here = new IdentityStress(List.of(m1, m2), group, ids);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            long seed = 7 + t;
            threads.add(Thread.ofPlatform().start(() -> here.run(seed, ops)));
        }
        for (Thread t : threads) t.join();
        List<String> results = new ArrayList<>();
        for (Process p : jvms) {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
                for (String line; (line = r.readLine()) != null; ) if (line.startsWith("RESULT")) results.add(line);
            }
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "a child JVM did not finish");
            assertEquals(0, p.exitValue(), "child JVM failed");
        }
        here.finish(m1);
        here.finish(m2);
        done.set(true);
        check.join();

        System.out.println("identity stress, this JVM (" + THREADS + " threads, 2 monitors): " + here.summary());
        for (String r : results) System.out.println("identity stress, child JVM: " + r.substring("RESULT\t".length()));
        System.out.println("identity stress, checker: " + checker);

        assertEquals(JVMS, results.size(), "every child JVM reports");
        List<String> violations = new ArrayList<>();
        here.counts.keySet().stream().filter(k -> k.startsWith("violation")).forEach(violations::add);
        for (String r : results) for (String f : r.split("\t")) if (f.startsWith("violation")) violations.add(f);
        checker.keySet().stream().filter(k -> k.startsWith("violation")).forEach(violations::add);
        assertEquals(List.of(), violations);
        assertTrue(here.counts.getOrDefault("spawn:ok", new AtomicLong()).get() > 0, "some spawns must succeed");

        m1.close();
        m2.close();
        assertFalse(Files.exists(groupDir), "no leaf or group left: " + groupDir);
        afterwards(root);
        assertEquals(0, TestEnv.liveChildren(), "no worker left");
        try (Stream<Path> s = Files.list(dev.rbee.hive.monitor.spawn.RuntimeDir.get())) {
            assertEquals(List.of(), s.filter(p -> p.getFileName().toString().endsWith(".sock")).toList(), "no socket file");
        }
        assertEquals(fdsBefore, TestEnv.settledFdCount(), () -> "fds of this JVM: before " + fdsBeforeList + ", after " + TestEnv.fds());
        // No thread per worker: the reapers go when idle; one spawner and one exit watcher serve the whole JVM.
        for (int i = 0; i < 100 && threads("rbee-reaper") > 0; i++) Thread.sleep(100);
        assertEquals(0, threads("rbee-reaper"), "reaper threads left");
        assertTrue(threads("rbee-spawner") <= 1 && threads("rbee-exit-watcher") <= 1, "one spawner and one watcher at most");
        assertTrue(rbeeThreads() <= Math.max(rbeeThreadsBefore, 2), "rbee threads: " + rbeeThreadsBefore + " before, "
                + rbeeThreads() + " after");
    }

    static long threads(String name) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals(name) && t.isAlive()).count();
    }

    /** What the subclass removes when the test is over. */
    protected void afterwards(Path root) {
    }

    /** Processes in a leaf and its sub-cgroups (0 if it does not exist). */
    static long processesIn(Path leaf) {
        if (!Files.isDirectory(leaf, LinkOption.NOFOLLOW_LINKS)) return 0;
        return TestEnv.read(leaf.resolve("cgroup.procs")).map(s -> s.lines().filter(l -> !l.isBlank()).count()).orElse(0L);
    }

    static long rbeeThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("rbee-")).count();
    }
}
