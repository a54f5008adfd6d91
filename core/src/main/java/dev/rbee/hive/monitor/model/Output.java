package dev.rbee.hive.monitor.model;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Where a worker's stdout and stderr go.  Never discarded: inherited from the
 * supervisor, piped to it ({@code Worker.process()} streams), or appended to a
 * log file ({@code DIR/{group}-{instance}.log} for a log directory).
 *
 * <p>Immutable (records): thread-safe.
 */
public sealed interface Output {
    record Inherit() implements Output {}
    record Pipe() implements Output {}
    /** Both streams appended to {@code file}. */
    record AppendTo(Path file) implements Output {}
    /** Both streams appended to {@code dir/{group}-{instance}.log} (or {@code dir/{program}.log}). */
    record LogDirectory(Path dir) implements Output {}

    static Output inherit() { return new Inherit(); }
    static Output pipe() { return new Pipe(); }
    static Output appendTo(Path file) { return new AppendTo(file); }
    static Output logDirectory(Path dir) { return new LogDirectory(dir); }

    /** The file this output appends to, if any. */
    default Optional<Path> file(String baseName) {
        return switch (this) {
            case AppendTo a -> Optional.of(a.file());
            case LogDirectory d -> Optional.of(d.dir().resolve(baseName + ".log"));
            default -> Optional.empty();
        };
    }
}
