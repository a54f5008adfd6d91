package dev.rbee.hive.monitor.vm.systemd;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static dev.rbee.hive.monitor.vm.systemd.SdEnv.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 14, done-when 1, last item: systemd is the single writer of every
 * cgroup it did not delegate.  Around a spawn/limit/stop cycle of the CLI
 * (run from this test's JVM, so no unit starts or stops meanwhile), every
 * writable interface file of every cgroup outside the delegated scope is read
 * before and after and must be byte-for-byte equal, and strace of the whole
 * supervisor (its JVM, the launcher, the worker) shows no open for writing,
 * mkdir, rmdir, unlink or rename of a cgroup path outside the scope.
 * A write needs an open for writing first, so write(2) itself is not traced.
 */
@Tag("systemd")
class NoForeignWriteVmTest {
    /** The interface files one writes to set something (not counters, events or membership). */
    static final Pattern SETTING = Pattern.compile(
            "cgroup\\.(subtree_control|type|max\\.depth|max\\.descendants|freeze)|.*\\.(max|high|low|min|weight|weight\\.nice|idle|oom\\.group)"
                    + "|cpuset\\.(cpus|mems|cpus\\.partition)");
    static final Set<String> WRITING_CALLS = Set.of("mkdir", "mkdirat", "rmdir", "unlink", "unlinkat", "rename", "renameat",
            "renameat2", "creat", "truncate");
    static final Pattern CALL = Pattern.compile("^\\d+ +(\\w+)\\((.*)$");
    static final Pattern PATH_ARG = Pattern.compile("(?:(AT_FDCWD|\\d+<([^>]*)>), )?\"([^\"]*)\"");

    @BeforeAll
    static void guest() {
        requireGuest();
    }

    @Test
    void nothingOutsideTheScopeIsWrittenAndStraceShowsNoSuchWrite() throws IOException {
        String g = "sde";
        Path trace = Files.createTempFile("sde-strace", ".txt");
        try {
            // The scope exists before the snapshot: its creation is systemd's, and not under test here.
            rbeeMon("run", "--group", g, "--instance", "w", "--quiet", "--", "/bin/true").ok();
            Map<String, String> before = snapshot();
            assertTrue(before.containsKey("/cgroup.subtree_control") && before.containsKey(rel(HIVE.getParent()) + "/cgroup.subtree_control"),
                    "the snapshot covers the root and our slice: " + before.keySet());

            sh(Duration.ofSeconds(300), "strace", "-f", "--seccomp-bpf", "-qq", "-y", "-s", "512", "-o", trace.toString(),
                    "-e", "trace=open,openat,openat2,creat,truncate,mkdir,mkdirat,rmdir,unlink,unlinkat,rename,renameat,renameat2",
                    RBEE_MON, "run", "--group", g, "--instance", "i", "--pids-max", "20", "--memory-max", "64M", "--cpu", "50%",
                    "--quiet", "--", "/bin/sleep", "1").ok();
            Map<String, String> after = snapshot();

            Map<String, String> changed = new TreeMap<>();
            for (var e : before.entrySet()) {
                String now = after.get(e.getKey());
                if (now != null && !now.equals(e.getValue())) changed.put(e.getKey(), e.getValue() + " -> " + now);
            }
            System.out.printf("no-foreign-write: %d setting files outside %s compared%n", before.size(), rel(HIVE));
            assertEquals(Map.of(), changed, "cgroup files outside the scope changed");

            List<String> ours = new ArrayList<>(), foreign = new ArrayList<>();
            for (String line : Files.readAllLines(trace)) {
                Matcher m = CALL.matcher(line);
                if (!m.find()) continue;
                String call = m.group(1), args = m.group(2);
                boolean writing = WRITING_CALLS.contains(call)
                        || (call.startsWith("open") && Pattern.compile("O_WRONLY|O_RDWR|O_CREAT|O_TRUNC").matcher(args).find());
                if (!writing) continue;
                Matcher p = PATH_ARG.matcher(args);
                while (p.find()) {
                    String path = p.group(3);
                    if (!path.startsWith("/") && p.group(2) != null) path = p.group(2) + "/" + path;
                    Path abs = Path.of(path).normalize();
                    if (!abs.startsWith(CGROUP)) continue;
                    (abs.startsWith(HIVE) ? ours : foreign).add(line);
                }
            }
            System.out.printf("no-foreign-write: strace: %d writing calls on cgroup paths inside the scope, %d outside%n",
                    ours.size(), foreign.size());
            assertEquals(List.of(), foreign, "writing calls on cgroup paths outside " + HIVE);
            assertTrue(ours.stream().anyMatch(l -> l.contains("pids.max")),
                    "the trace saw the monitor write its own limits (else it proves nothing): " + ours);
            assertFalse(Files.exists(HIVE.resolve(g).resolve("i")), "the leaf was removed");
        } finally {
            Files.deleteIfExists(trace);
            destroy(HIVE.resolve(g));
        }
    }

    /** cgroup-relative file name -> content, for every setting file of every cgroup outside the scope. */
    static Map<String, String> snapshot() {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> dirs = Files.walk(CGROUP)) {
            for (Path d : (Iterable<Path>) dirs.filter(Files::isDirectory).filter(d -> !d.startsWith(HIVE))::iterator) {
                try (Stream<Path> files = Files.list(d)) {
                    for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)
                            .filter(f -> SETTING.matcher(f.getFileName().toString()).matches())::iterator) {
                        String key = (d.equals(CGROUP) ? "" : rel(d)) + "/" + f.getFileName();
                        try {
                            m.put(key, Files.readString(f));
                        } catch (IOException e) {
                            m.put(key, "<unreadable: " + e.getMessage() + ">");
                        }
                    }
                } catch (IOException e) {
                    // a cgroup removed during the walk (a unit that ended): not comparable, left out
                }
            }
        } catch (IOException | UncheckedIOException e) {
            throw new IllegalStateException("walking " + CGROUP, e);
        }
        return m;
    }
}
