package dev.rbee.hive.monitor.model;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What to start and how: the command, its environment, output, the launcher
 * options, and (with {@link Builder#withMonitoring}) the cgroup it is born in.
 * Without monitoring the spawn is plain: no cgroup, same launcher options.
 *
 * <p>Immutable: thread-safe.  Its {@link Builder} is not: one thread builds.
 *
 * @param command               the program and its arguments
 * @param environment           variables set (over the supervisor's, unless {@code clearEnvironment})
 * @param clearEnvironment      whether the worker starts from an empty environment
 * @param directory             the working directory (default: the supervisor's)
 * @param output                where stdout and stderr go
 * @param monitoring            the worker's id and limits; empty for a plain spawn
 * @param newSession            whether the worker leads a new session (setsid)
 * @param parentDeathSignal     the signal the worker gets when the supervisor's spawning thread dies
 * @param closeFds              whether every inherited fd above 2 is closed
 * @param noNewPrivileges       whether PR_SET_NO_NEW_PRIVS is set (no setuid gains)
 * @param oomScoreAdj           the worker's oom_score_adj, -1000..1000
 * @param allowUnenforcedLimits whether a backend without cgroups runs it although its limits cannot be applied
 */
public record WorkerSpec(List<String> command, Map<String, String> environment, boolean clearEnvironment,
                         Optional<Path> directory, Output output, Optional<MonitorConfig> monitoring,
                         boolean newSession, OptionalInt parentDeathSignal, boolean closeFds,
                         boolean noNewPrivileges, OptionalInt oomScoreAdj, boolean allowUnenforcedLimits) {
    /** Checks the values and copies the collections. */
    public WorkerSpec {
        command = List.copyOf(command);
        if (command.isEmpty()) throw new IllegalArgumentException("command must not be empty");
        if (command.get(0).isEmpty()) throw new IllegalArgumentException("program must not be empty");
        environment = Collections.unmodifiableMap(new LinkedHashMap<>(environment));
        oomScoreAdj.ifPresent(v -> {
            if (v < -1000 || v > 1000) throw new IllegalArgumentException("invalid oom_score_adj " + v + ": expected -1000..1000");
        });
        parentDeathSignal.ifPresent(v -> {
            if (v < 1 || v > 64) throw new IllegalArgumentException("invalid parent-death signal " + v + ": expected 1..64");
        });
    }

    /**
     * A spec of {@code program args...}.
     *
     * @param program the program (a path, or a name looked up in PATH)
     * @param args    its arguments
     * @return a builder to add the rest
     */
    public static Builder command(String program, String... args) {
        Builder b = new Builder();
        b.command.add(program);
        b.command.addAll(List.of(args));
        return b;
    }

    /**
     * A spec of {@code command} (program first).
     *
     * @param command the program and its arguments
     * @return a builder to add the rest
     */
    public static Builder command(List<String> command) {
        Builder b = new Builder();
        b.command.addAll(command);
        return b;
    }

    /**
     * The name used for log files.
     *
     * @return "group-instance", or the program's file name
     */
    public String logName() {
        return monitoring.map(m -> m.group() + "-" + m.instance())
                .orElseGet(() -> Path.of(command.get(0)).getFileName().toString());
    }

    /** Collects a spec; {@link WorkerSpec#command} makes one.  Not thread-safe: one thread builds. */
    public static final class Builder {
        private final java.util.ArrayList<String> command = new java.util.ArrayList<>();
        private final Map<String, String> env = new LinkedHashMap<>();
        private boolean clearEnv;
        private Path directory;
        private Output output = Output.inherit();
        private String group, instance;
        private Limits limits = Limits.NONE;
        private boolean newSession, closeFds, noNewPrivileges;
        private OptionalInt pdeathsig = OptionalInt.empty(), oom = OptionalInt.empty();
        private boolean allowUnenforcedLimits;

        private Builder() {}

        /**
         * Start the worker in {@code rbee.slice/{group}/{instance}}.
         *
         * @param group    the group
         * @param instance the instance
         * @return this builder
         */
        public Builder withMonitoring(String group, String instance) {
            this.group = group;
            this.instance = instance;
            return this;
        }
        /**
         * As {@link #withMonitoring}, with the limits of {@code c}.
         *
         * @param c the id and limits
         * @return this builder
         */
        public Builder monitoring(MonitorConfig c) {
            this.group = c.group();
            this.instance = c.instance();
            this.limits = c.limits();
            return this;
        }
        /**
         * The limits of the worker's cgroup (needs monitoring).
         *
         * @param l the limits
         * @return this builder
         */
        public Builder limits(Limits l) { limits = l; return this; }

        /**
         * Sets an environment variable.
         *
         * @param key   its name
         * @param value its value
         * @return this builder
         */
        public Builder env(String key, String value) { env.put(key, value); return this; }

        /**
         * Start from an empty environment instead of the supervisor's.
         *
         * @return this builder
         */
        public Builder clearEnvironment() { clearEnv = true; return this; }

        /**
         * The working directory.
         *
         * @param dir the directory
         * @return this builder
         */
        public Builder directory(Path dir) { directory = dir; return this; }

        /**
         * Where stdout and stderr go (default: inherited).
         *
         * @param o the destination
         * @return this builder
         */
        public Builder output(Output o) { output = o; return this; }

        /**
         * setsid(): the worker leads a new session and process group.
         *
         * @param b whether to
         * @return this builder
         */
        public Builder newSession(boolean b) { newSession = b; return this; }

        /**
         * Signal sent to the worker when the supervising JVM dies.
         *
         * @param sig the signal number, 1..64
         * @return this builder
         */
        public Builder parentDeathSignal(int sig) { pdeathsig = OptionalInt.of(sig); return this; }

        /**
         * Close every inherited fd above 2 (the JDK closes its own; this also covers other launch paths).
         *
         * @param b whether to
         * @return this builder
         */
        public Builder closeFds(boolean b) { closeFds = b; return this; }

        /**
         * PR_SET_NO_NEW_PRIVS: the worker and its children gain no privileges through exec (setuid).
         *
         * @param b whether to
         * @return this builder
         */
        public Builder noNewPrivileges(boolean b) { noNewPrivileges = b; return this; }

        /**
         * The worker's oom_score_adj.
         *
         * @param adj -1000..1000 (higher: killed first when memory runs out)
         * @return this builder
         */
        public Builder oomScoreAdj(int adj) { oom = OptionalInt.of(adj); return this; }

        /**
         * On a backend without cgroups (process tree, portable) run the worker even
         * though its limits cannot be enforced; without this such a spawn fails.
         *
         * @param b whether to
         * @return this builder
         */
        public Builder allowUnenforcedLimits(boolean b) { allowUnenforcedLimits = b; return this; }

        /**
         * The spec.
         *
         * @return the immutable spec
         * @throws IllegalArgumentException if a value is out of range, or limits are set without monitoring
         */
        public WorkerSpec build() {
            Optional<MonitorConfig> mon = group == null && instance == null ? Optional.empty()
                    : Optional.of(new MonitorConfig(group, instance, limits));
            if (mon.isEmpty() && !limits.isEmpty())
                throw new IllegalArgumentException("limits need monitoring: call withMonitoring(group, instance)");
            return new WorkerSpec(command, env, clearEnv, Optional.ofNullable(directory), output, mon,
                    newSession, pdeathsig, closeFds, noNewPrivileges, oom, allowUnenforcedLimits);
        }
    }
}
