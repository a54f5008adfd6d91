package dev.rbee.hive.monitor.cgroup;

import dev.rbee.hive.monitor.Limits;

import java.util.List;

/** pids: pids.max. */
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
}
