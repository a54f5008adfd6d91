package dev.rbee.hive.monitor.cgroup;

import dev.rbee.hive.monitor.IoLimit;
import dev.rbee.hive.monitor.Limits;

import java.util.List;

/** io: io.max, one write per device (the kernel takes one line per write). */
public final class IoController implements Controller {
    public static final IoController INSTANCE = new IoController();

    private IoController() {}

    @Override public String name() { return "io"; }

    @Override public boolean neededForStats() { return true; }

    @Override
    public List<LimitWrite> limitWrites(Limits l) {
        return l.io().stream().map(IoLimit::kernelLine).map(v -> new LimitWrite("io", "io.max", v)).toList();
    }
}
