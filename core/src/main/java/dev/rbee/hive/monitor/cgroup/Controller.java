package dev.rbee.hive.monitor.cgroup;

import dev.rbee.hive.monitor.model.Limits;

import java.util.List;

/** A cgroup v2 controller: the name it is enabled by, and how it writes its limits. */
public interface Controller {
    /** The name in cgroup.controllers / cgroup.subtree_control. */
    String name();

    /** The writes that apply this controller's part of {@code limits}, in order. */
    List<LimitWrite> limitWrites(Limits limits);

    /** Whether the worker's stats read files of this controller (so enable it when available). */
    boolean neededForStats();

    /** Every controller this library knows, in the order limits are applied. */
    static List<Controller> all() {
        return Holder.ALL;
    }

    /** Made once: every spawn asks (a static field of an interface would be public). */
    final class Holder {
        static final List<Controller> ALL =
                List.of(CpuController.INSTANCE, MemoryController.INSTANCE, IoController.INSTANCE, PidsController.INSTANCE);

        private Holder() {}
    }
}
