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
 */
public record WorkerSpec(List<String> command, Map<String, String> environment, boolean clearEnvironment,
                         Optional<Path> directory, Output output, Optional<MonitorConfig> monitoring,
                         boolean newSession, OptionalInt parentDeathSignal, boolean closeFds,
                         boolean noNewPrivileges, OptionalInt oomScoreAdj, boolean allowUnenforcedLimits) {
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

    public static Builder command(String program, String... args) {
        Builder b = new Builder();
        b.command.add(program);
        b.command.addAll(List.of(args));
        return b;
    }

    public static Builder command(List<String> command) {
        Builder b = new Builder();
        b.command.addAll(command);
        return b;
    }

    /** The name used for log files: "group-instance", or the program's file name. */
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

        /** Start the worker in {@code rbee.slice/{group}/{instance}}. */
        private Builder() {}

        public Builder withMonitoring(String group, String instance) {
            this.group = group;
            this.instance = instance;
            return this;
        }
        public Builder monitoring(MonitorConfig c) {
            this.group = c.group();
            this.instance = c.instance();
            this.limits = c.limits();
            return this;
        }
        public Builder limits(Limits l) { limits = l; return this; }
        public Builder env(String key, String value) { env.put(key, value); return this; }
        /** Start from an empty environment instead of the supervisor's. */
        public Builder clearEnvironment() { clearEnv = true; return this; }
        public Builder directory(Path dir) { directory = dir; return this; }
        public Builder output(Output o) { output = o; return this; }
        /** setsid(): the worker leads a new session and process group. */
        public Builder newSession(boolean b) { newSession = b; return this; }
        /** Signal sent to the worker when the supervising JVM dies. */
        public Builder parentDeathSignal(int sig) { pdeathsig = OptionalInt.of(sig); return this; }
        /** Close every inherited fd above 2 (the JDK closes its own; this also covers other launch paths). */
        public Builder closeFds(boolean b) { closeFds = b; return this; }
        public Builder noNewPrivileges(boolean b) { noNewPrivileges = b; return this; }
        public Builder oomScoreAdj(int adj) { oom = OptionalInt.of(adj); return this; }
        /**
         * On a backend without cgroups (process tree, portable) run the worker even
         * though its limits cannot be enforced; without this such a spawn fails.
         */
        public Builder allowUnenforcedLimits(boolean b) { allowUnenforcedLimits = b; return this; }

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
