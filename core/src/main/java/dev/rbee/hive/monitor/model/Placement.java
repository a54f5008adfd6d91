package dev.rbee.hive.monitor.model;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Where in the cgroup tree the cgroup2 backend keeps its workers, and who
 * else writes there (docs/systemd.md).
 *
 * <p>Immutable: thread-safe, to share between threads as it is.
 *
 * @param kind        SYSTEMD, DELEGATED or ROOT (see {@link Kind})
 * @param reason      a sentence saying why this placement was chosen
 * @param root        the directory that holds the groups (the scope's cgroup, the delegated cgroup, or rbee.slice)
 * @param unit        the systemd unit whose cgroup is {@code root} (SYSTEMD: the hive's scope; DELEGATED: the unit that
 *                    delegated it, when systemd did), else empty
 * @param slice       the slice the hive's scope is in (SYSTEMD only), else empty
 * @param controllers the controllers available to the workers (the root's cgroup.controllers)
 * @param absent      controllers this backend can use that are not available, each with the reason
 * @param notes       further lines of explanation (who writes above the root, what happens when the supervisor stops)
 */
public record Placement(Kind kind, String reason, Path root, Optional<String> unit, Optional<String> slice,
                        List<String> controllers, Map<String, String> absent, List<String> notes) {
    /** The placements. */
    public enum Kind {
        /** systemd is PID 1 and we are root: a transient scope with Delegate=yes, made over D-Bus, holds the hive. */
        SYSTEMD,
        /** The cgroup we were started in was delegated to us (Delegate=yes, or chown): the tree lives below it. */
        DELEGATED,
        /** No systemd to ask (or asked for): a directory under the cgroup2 mount (default rbee.slice). */
        ROOT
    }

    /** Checks that nothing is null and copies the collections (immutable). */
    public Placement {
        Objects.requireNonNull(kind);
        Objects.requireNonNull(reason);
        Objects.requireNonNull(root);
        unit = Objects.requireNonNull(unit);
        slice = Objects.requireNonNull(slice);
        controllers = List.copyOf(controllers);
        absent = Map.copyOf(absent);
        notes = List.copyOf(notes);
    }

    /**
     * A doctor-style explanation, one fact per line: {@code placement: ...}, {@code root: ...},
     * {@code unit: ...}, {@code slice: ...}, {@code controllers: ...}, {@code absent: NAME (why)}, {@code note: ...}.
     *
     * @return the lines
     */
    public List<String> describe() {
        List<String> out = new java.util.ArrayList<>();
        out.add("placement: " + kind.name().toLowerCase(java.util.Locale.ROOT));
        out.add("why: " + reason);
        out.add("root: " + root);
        unit.ifPresent(u -> out.add("unit: " + u));
        slice.ifPresent(s -> out.add("slice: " + s));
        out.add("controllers: " + (controllers.isEmpty() ? "none" : String.join(" ", controllers)));
        new java.util.TreeMap<>(absent).forEach((c, why) -> out.add("absent: " + c + " (" + why + ")"));
        for (String n : notes) out.add("note: " + n);
        return out;
    }
}
