package dev.rbee.hive.monitor.api;

import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.Sampler;
import dev.rbee.hive.monitor.model.Snapshot;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplerListenerTest {
    /** With one round an hour, only a listener registered before the thread started can see the first. */
    @Test
    void aListenerGivenBeforeStartSeesTheFirstSnapshot() throws Exception {
        List<Snapshot> seen = new CopyOnWriteArrayList<>();
        List<String> threads = new CopyOnWriteArrayList<>();
        try (ProcessMonitor m = TestEnv.monitor();
             Sampler s = m.sampler().interval(Duration.ofHours(1)).gpu(false)
                     .listener(snap -> {
                         seen.add(snap);
                         threads.add(Thread.currentThread().getName());
                     }).start()) {
            Snapshot first = s.awaitFirst(Duration.ofSeconds(10));
            awaitUntil(() -> !seen.isEmpty());
            assertSame(first, seen.get(0));
            assertEquals(1, seen.size());
            assertEquals(List.of("rbee-sampler"), threads, "listeners run on the sampler's thread");
        }
    }

    /** What the library has to say goes to System.Logger "dev.rbee.hive.monitor", not to stdout or stderr. */
    @Test
    void aFailingListenerIsLoggedAndNothingIsPrinted() throws Exception {
        List<LogRecord> records = new CopyOnWriteArrayList<>();
        Handler h = new Handler() {
            @Override public void publish(LogRecord r) { records.add(r); }
            @Override public void flush() {}
            @Override public void close() {}
        };
        // System.Logger's default backend is java.util.logging: listen there, and keep it off the console.
        Logger jul = Logger.getLogger("dev.rbee.hive.monitor");
        boolean parents = jul.getUseParentHandlers();
        jul.addHandler(h);
        jul.setUseParentHandlers(false);
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream capture = new PrintStream(printed, true);
        List<Snapshot> after = new CopyOnWriteArrayList<>();
        System.setOut(capture);
        System.setErr(capture);
        try (ProcessMonitor m = TestEnv.monitor();
             Sampler s = m.sampler().interval(Duration.ofHours(1)).gpu(false)
                     .listener(snap -> { throw new IllegalStateException("boom"); })
                     .listener(after::add).start()) {
            s.awaitFirst(Duration.ofSeconds(10));
            awaitUntil(() -> !after.isEmpty());
        } finally {
            System.setOut(out);
            System.setErr(err);
            jul.removeHandler(h);
            jul.setUseParentHandlers(parents);
        }
        assertEquals(1, after.size(), "a failing listener does not stop the next one");
        assertTrue(records.stream().anyMatch(r -> r.getMessage().equals("sampler listener failed")
                && r.getThrown() != null && "boom".equals(r.getThrown().getMessage())), records.toString());
        assertEquals("", printed.toString());
    }

    private static void awaitUntil(java.util.function.BooleanSupplier c) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!c.getAsBoolean() && System.nanoTime() < deadline) Thread.sleep(10);
        assertTrue(c.getAsBoolean(), "timed out");
    }
}
