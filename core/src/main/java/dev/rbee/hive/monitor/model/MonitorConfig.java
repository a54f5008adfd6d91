package dev.rbee.hive.monitor.model;

/**
 * Where a monitored worker lives ({@code rbee.slice/{group}/{instance}}) and
 * its limits.  The names are checked here, before any file-system call.
 *
 * <p>Immutable: thread-safe, to share between threads as it is.
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
