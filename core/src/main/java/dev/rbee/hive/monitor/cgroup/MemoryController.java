package dev.rbee.hive.monitor.cgroup;

import dev.rbee.hive.monitor.Limits;

import java.util.ArrayList;
import java.util.List;

/** memory: memory.max, memory.high, memory.swap.max. */
public final class MemoryController implements Controller {
    public static final MemoryController INSTANCE = new MemoryController();

    private MemoryController() {}

    @Override public String name() { return "memory"; }

    @Override public boolean neededForStats() { return true; }

    @Override
    public List<LimitWrite> limitWrites(Limits l) {
        List<LimitWrite> w = new ArrayList<>();
        // high before max: a high above the new max would otherwise be refused by nothing but confuse readers
        l.memoryHigh().ifPresent(s -> w.add(new LimitWrite("memory", "memory.high", s.kernelValue())));
        l.memoryMax().ifPresent(s -> w.add(new LimitWrite("memory", "memory.max", s.kernelValue())));
        l.swapMax().ifPresent(s -> w.add(new LimitWrite("memory", "memory.swap.max", s.kernelValue())));
        return w;
    }
}
