package dev.rbee.hive.monitor.cgroup;

import dev.rbee.hive.monitor.model.Limits;
import dev.rbee.hive.monitor.model.Counters.Field;
import dev.rbee.hive.monitor.read.FlatKeyedFile;
import dev.rbee.hive.monitor.read.StatFile;

import java.util.ArrayList;
import java.util.List;

/**
 * cpu: writes cpu.max and cpu.weight; reads cpu.stat.  cpu.stat's usage fields
 * exist without this controller, so it is enabled only when a CPU limit asks
 * for it (it adds group-scheduling cost to every task).
 */
public final class CpuController implements Controller {
    public static final CpuController INSTANCE = new CpuController();
    /** cpu.max period: 100 ms, the kernel's default. */
    static final long PERIOD_USEC = 100_000;

    private CpuController() {}

    @Override public String name() { return "cpu"; }

    @Override public boolean neededForStats() { return false; }

    @Override
    public List<LimitWrite> limitWrites(Limits l) {
        List<LimitWrite> w = new ArrayList<>();
        l.cpuPercent().ifPresent(p -> w.add(new LimitWrite("cpu", "cpu.max", (p * PERIOD_USEC / 100) + " " + PERIOD_USEC)));
        l.cpuWeight().ifPresent(x -> w.add(new LimitWrite("cpu", "cpu.weight", Integer.toString(x))));
        return w;
    }

    // ---- stats ----------------------------------------------------------------

    /** The throttling keys of cpu.stat exist only where this controller is enabled. */
    public static final String NOT_ENABLED = "cpu controller not enabled";
    public static final String NO_CPU_STAT = "cpu.stat missing";
    public static final String NOT_IN_CPU_STAT = "not in cpu.stat";

    /** Every line is read: the usage keys are not always first (Elasticsearch once read only one). */
    private static final StatFile CPU_STAT = new FlatKeyedFile("cpu.stat",
            new String[] {"usage_usec", "user_usec", "system_usec", "nr_periods", "nr_throttled", "throttled_usec"},
            new Field[] {Field.CPU_USAGE_USEC, Field.CPU_USER_USEC, Field.CPU_SYSTEM_USEC,
                    Field.CPU_NR_PERIODS, Field.CPU_NR_THROTTLED, Field.CPU_THROTTLED_USEC},
            new String[] {NOT_IN_CPU_STAT, NOT_IN_CPU_STAT, NOT_IN_CPU_STAT, NOT_ENABLED, NOT_ENABLED, NOT_ENABLED},
            NO_CPU_STAT);

    /** cpu.stat (usage in microseconds, throttling). */
    public List<StatFile> statFiles() {
        return List.of(CPU_STAT);
    }
}
