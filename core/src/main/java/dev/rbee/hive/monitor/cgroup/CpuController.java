package dev.rbee.hive.monitor.cgroup;

import dev.rbee.hive.monitor.Limits;

import java.util.ArrayList;
import java.util.List;

/**
 * cpu: cpu.max and cpu.weight.  cpu.stat's usage fields exist without this
 * controller, so it is enabled only when a CPU limit asks for it (it adds
 * group-scheduling cost to every task).
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
}
