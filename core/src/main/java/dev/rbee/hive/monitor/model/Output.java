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
    /** The supervisor's stdout and stderr. */
    record Inherit() implements Output {}

    /** Pipes to the supervisor ({@code Worker.process()} streams). */
    record Pipe() implements Output {}

    /**
     * Both streams appended to {@code file}.
     *
     * @param file the log file
     */
    record AppendTo(Path file) implements Output {}

    /**
     * Both streams appended to {@code dir/{group}-{instance}.log} (or {@code dir/{program}.log}).
     *
     * @param dir the log directory
     */
    record LogDirectory(Path dir) implements Output {}

    /**
     * The supervisor's stdout and stderr.
     *
     * @return {@link Inherit}
     */
    static Output inherit() { return new Inherit(); }

    /**
     * Pipes to the supervisor.
     *
     * @return {@link Pipe}
     */
    static Output pipe() { return new Pipe(); }

    /**
     * Appended to one file.
     *
     * @param file the log file
     * @return {@link AppendTo}
     */
    static Output appendTo(Path file) { return new AppendTo(file); }

    /**
     * Appended to a file per worker in {@code dir}.
     *
     * @param dir the log directory
     * @return {@link LogDirectory}
     */
    static Output logDirectory(Path dir) { return new LogDirectory(dir); }

    /**
     * The file this output appends to, if any.
     *
     * @param baseName the worker's log name (see {@link WorkerSpec#logName()})
     * @return the file
     */
    default Optional<Path> file(String baseName) {
        return switch (this) {
            case AppendTo a -> Optional.of(a.file());
            case LogDirectory d -> Optional.of(d.dir().resolve(baseName + ".log"));
            default -> Optional.empty();
        };
    }
}
