package dev.rbee.hive.monitor.contract;

import dev.rbee.hive.monitor.model.Backend;
import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.model.ProcessStats;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The CPU total of the fallback backends is a counter: it never goes down
 * when a busy process of the worker exits (the cgroup2 backend reads the
 * kernel's cumulative cpu.stat, which cannot).
 */
class CpuCounterNeverDecreasesTest {
    /** About a second of one core in dash (here), then the process exits. */
    private static final String BUSY = "i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done";
    /**
     * Two busy processes that exit while the worker lives on: a grandchild reaped by
     * a child that then sleeps (its time moves into that child's reaped-children
     * time), and a child the main process reaps.  Then only two sleeps are left.
     */
    private static final String WORKER = "sh -c 'sh -c \"$1\"; exec sleep 300' child \"$1\" & sh -c \"$1\"; exec sleep 300";

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Backend.Kind.class, names = {"PROCTREE", "PORTABLE"})
    void cpuTotalNeverDropsWhileBusyChildrenExit(Backend.Kind kind) throws Exception {
        String group = "t-counter-" + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffffL);
        try (ProcessMonitor m = ProcessMonitor.builder().backend(kind).build()) {
            Worker w = m.spawn(WorkerSpec.command("/bin/sh", "-c", WORKER, "worker", BUSY).withMonitoring(group, "1").build());
            try {
                List<Long> totals = new ArrayList<>();
                int mostPids = 0, afterBusy = 0;
                // Sample as fast as we can until the busy ones have been gone for 50 samples.
                while (afterBusy < 50) {
                    if (totals.size() > 100_000) fail("the busy processes never exited: " + totals.size() + " samples");
                    Optional<ProcessStats> s = m.collectInstance(group, "1");
                    if (s.isEmpty()) fail(kind + ": the worker vanished");
                    int pids = s.get().pids().size();
                    mostPids = Math.max(mostPids, pids);
                    totals.add(s.get().cpuUsageUsec().orElseThrow(() -> new AssertionError("no CPU total: " + s.get().absent())));
                    if (mostPids >= 3 && pids == 2) afterBusy++;
                    Thread.sleep(5);
                }
                for (int i = 1; i < totals.size(); i++)
                    if (totals.get(i) < totals.get(i - 1))
                        fail(kind + ": the CPU total went down from " + totals.get(i - 1) + " to " + totals.get(i)
                                + " usec at sample " + i + " of " + totals.size());
                // Not vacuous: the samples did see the busy loops' time (each about a second of CPU here).
                long last = totals.getLast();
                assertTrue(last >= 200_000, kind + ": two busy loops ran, yet the total is " + last + " usec");
            } finally {
                // The whole tree at once, while the main process still holds it together: a graceful stop would
                // let the main exit first, and the portable backend cannot find an orphaned child afterwards.
                w.kill();
                w.onExit().get(10, TimeUnit.SECONDS);
            }
        }
    }
}
