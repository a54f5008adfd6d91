package dev.rbee.hive.monitor.cgroup;

import dev.rbee.hive.monitor.model.Limits;
import dev.rbee.hive.monitor.model.Counters.Field;
import dev.rbee.hive.monitor.read.SingleValueFile;
import dev.rbee.hive.monitor.read.StatFile;

import java.util.List;

/** pids: writes pids.max; reads pids.current and pids.max. */
public final class PidsController implements Controller {
    public static final PidsController INSTANCE = new PidsController();

    private PidsController() {}

    @Override public String name() { return "pids"; }

    @Override public boolean neededForStats() { return true; }

    @Override
    public List<LimitWrite> limitWrites(Limits l) {
        return l.pidsMax().stream()
                .mapToObj(p -> new LimitWrite("pids", "pids.max", p == Long.MAX_VALUE ? "max" : Long.toString(p)))
                .toList();
    }

    // ---- stats ----------------------------------------------------------------

    public static final String NOT_ENABLED = "pids controller not enabled";

    private static final StatFile CURRENT = new SingleValueFile("pids.current", Field.PIDS_CURRENT, NOT_ENABLED);
    private static final StatFile MAX = new SingleValueFile("pids.max", Field.PIDS_MAX, NOT_ENABLED);

    /** pids.current and pids.max ("max" reads as Long.MAX_VALUE). */
    public List<StatFile> statFiles() {
        return List.of(CURRENT, MAX);
    }
}
