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
    /** Checks the names; null limits are {@link Limits#NONE}. */
    public MonitorConfig {
        Names.check("group", group);
        Names.check("instance", instance);
        if (limits == null) limits = Limits.NONE;
    }

    /**
     * An id without limits.
     *
     * @param group    the group
     * @param instance the instance
     */
    public MonitorConfig(String group, String instance) {
        this(group, instance, Limits.NONE);
    }

    /**
     * The same id with other limits.
     *
     * @param l the limits
     * @return a new config
     */
    public MonitorConfig withLimits(Limits l) {
        return new MonitorConfig(group, instance, l);
    }

    /**
     * The id, as the CLI and messages show it.
     *
     * @return "group/instance"
     */
    public String id() {
        return group + "/" + instance;
    }
}
