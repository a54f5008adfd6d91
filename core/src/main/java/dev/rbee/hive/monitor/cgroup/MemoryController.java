package dev.rbee.hive.monitor.cgroup;

import dev.rbee.hive.monitor.model.Limits;
import dev.rbee.hive.monitor.read.AsciiBuffer;
import dev.rbee.hive.monitor.read.CgroupCounters;
import dev.rbee.hive.monitor.model.Counters.Field;
import dev.rbee.hive.monitor.read.FlatKeyedFile;
import dev.rbee.hive.monitor.read.SingleValueFile;
import dev.rbee.hive.monitor.read.StatFile;

import java.util.ArrayList;
import java.util.List;

/** memory: writes memory.max, memory.high, memory.swap.max; reads memory.current, .peak, .max, .high, .stat, .events. */
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

    // ---- stats ----------------------------------------------------------------

    public static final String NOT_ENABLED = "memory controller not enabled";
    /** memory.peak came with Linux 5.19. */
    public static final String NO_PEAK = "memory.peak not provided by this kernel (before 5.19)";
    public static final String NOT_IN_MEMORY_STAT = "not in memory.stat";
    public static final String NOT_IN_MEMORY_EVENTS = "not in memory.events";

    private static final SingleValueFile CURRENT = new SingleValueFile("memory.current", Field.MEMORY_CURRENT, NOT_ENABLED);
    private static final SingleValueFile PEAK_VALUE = new SingleValueFile("memory.peak", Field.MEMORY_PEAK, NOT_ENABLED);
    /** memory.peak missing beside a memory.current (read before it) means an older kernel, not a disabled controller. */
    private static final StatFile PEAK = new StatFile() {
        @Override public String name() { return PEAK_VALUE.name(); }
        @Override public void parse(AsciiBuffer b, CgroupCounters into) { PEAK_VALUE.parse(b, into); }
        @Override public void absent(CgroupCounters into) {
            if (into.isPresent(Field.MEMORY_CURRENT)) into.absent(Field.MEMORY_PEAK, NO_PEAK);
            else PEAK_VALUE.absent(into);
        }
    };
    private static final StatFile MAX = new SingleValueFile("memory.max", Field.MEMORY_MAX, NOT_ENABLED);
    private static final StatFile HIGH = new SingleValueFile("memory.high", Field.MEMORY_HIGH, NOT_ENABLED);
    /** anon is the closest to RSS; memory.current also counts page cache (file). */
    private static final StatFile STAT = new FlatKeyedFile("memory.stat",
            new String[] {"anon", "file", "kernel", "shmem", "sock"},
            new Field[] {Field.MEMORY_ANON, Field.MEMORY_FILE, Field.MEMORY_KERNEL, Field.MEMORY_SHMEM, Field.MEMORY_SOCK},
            new String[] {NOT_IN_MEMORY_STAT, NOT_IN_MEMORY_STAT, NOT_IN_MEMORY_STAT, NOT_IN_MEMORY_STAT, NOT_IN_MEMORY_STAT},
            NOT_ENABLED);
    private static final StatFile EVENTS = new FlatKeyedFile("memory.events",
            new String[] {"high", "max", "oom", "oom_kill"},
            new Field[] {Field.MEMORY_EVENTS_HIGH, Field.MEMORY_EVENTS_MAX, Field.MEMORY_EVENTS_OOM, Field.MEMORY_EVENTS_OOM_KILL},
            new String[] {NOT_IN_MEMORY_EVENTS, NOT_IN_MEMORY_EVENTS, NOT_IN_MEMORY_EVENTS, NOT_IN_MEMORY_EVENTS},
            NOT_ENABLED);

    /** memory.current first: memory.peak's reason depends on it. */
    public List<StatFile> statFiles() {
        return List.of(CURRENT, PEAK, MAX, HIGH, STAT, EVENTS);
    }
}
