package dev.rbee.hive.monitor.model;

/**
 * Where a monitored worker lives ({@code rbee.slice/{group}/{instance}}) and
 * its limits.  The names are checked here, before any file-system call.
 *
 * <p>Immutable: thread-safe, to share between threads as it is.
 *
 * @param group    the group (a directory under rbee.slice)
 * @param instance the instance (the worker's leaf under its group)
 * @param limits   what the leaf's controllers are set to
 */
public record MonitorConfig(String group, String instance, Limits limits) {
    public MonitorConfig {
        Names.check("group", group);
        Names.check("instance", instance);
        if (limits == null) limits = Limits.NONE;
    }

    public MonitorConfig(String group, String instance) {
        this(group, instance, Limits.NONE);
    }

    public MonitorConfig withLimits(Limits l) {
        return new MonitorConfig(group, instance, l);
    }

    /** "group/instance", as the CLI and messages show it. */
    public String id() {
        return group + "/" + instance;
    }
}
