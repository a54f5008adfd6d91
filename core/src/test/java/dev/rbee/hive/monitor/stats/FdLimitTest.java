package dev.rbee.hive.monitor.stats;

import dev.rbee.hive.monitor.internal.FdBudget;
import dev.rbee.hive.monitor.internal.Libc;
import dev.rbee.hive.monitor.model.CgroupException;
import dev.rbee.hive.monitor.read.CounterSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The monitor raises its soft open-files limit to the hard one, and when the
 * limit runs out while opening workers' files it says so with both limits and
 * the worker count, leaving no fd behind.  Lowers this JVM's soft limit for a
 * moment (restored in finally); the tests of this module do not run in parallel.
 */
class FdLimitTest {
    @TempDir
    Path tmp;

    private static int openFds() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return (int) fds.count();
        }
    }

    @Test
    void raiseLiftsTheSoftLimitToTheHardOne() {
        Libc.FdLimit start = Libc.fdLimit();
        assumeTrue(start.hard() > 1024, "hard limit " + start.hard() + ": nothing to raise to");
        try {
            assertEquals(0, Libc.setFdLimit(1024, start.hard()));
            assertEquals(1024, Libc.fdLimit().soft());
            Libc.FdLimit now = FdBudget.raise();
            assertEquals(start.hard(), now.soft());
            assertEquals(now, Libc.fdLimit());
        } finally {
            Libc.setFdLimit(start.soft(), start.hard());
        }
    }

    @Test
    void runningOutOfFdsNamesBothLimitsAndTheWorkerCount() throws IOException {
        List<Path> leaves = new ArrayList<>();
        for (int i = 0; i < 60; i++) leaves.add(Fixtures.copy(tmp.resolve("g").resolve("w" + i), "pure-v2"));
        Libc.FdLimit start = Libc.fdLimit();
        List<CounterSource> held = new ArrayList<>();
        int before = openFds();
        CgroupException e;
        try {
            assertEquals(0, Libc.setFdLimit(before + 100, start.hard())); // room for 25 workers, not 60
            e = assertThrows(CgroupException.class, () -> {
                for (Path leaf : leaves) held.add(CgroupReader.shared(leaf));
            });
        } finally {
            Libc.setFdLimit(start.soft(), start.hard());
            held.forEach(CounterSource::close);
        }
        assertEquals("EMFILE", e.errno().orElseThrow(), e.getMessage());
        String m = e.getMessage();
        assertTrue(m.contains("soft " + (before + 100)) && m.contains("hard " + start.hard()), m);
        // the count is every worker sampled in this JVM (other tests' monitors too): at least ours
        java.util.regex.Matcher count = java.util.regex.Pattern.compile("too low for (\\d+) sampled workers").matcher(m);
        assertTrue(count.find() && Long.parseLong(count.group(1)) > held.size(), m);
        assertTrue(held.size() < 60 && held.size() >= 20, held.size() + " workers opened");
        assertEquals(before, openFds(), "the failed open left no fd behind");
    }
}
