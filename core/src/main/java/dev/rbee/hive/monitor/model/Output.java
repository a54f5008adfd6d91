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
     * Both streams to journald's stream socket /run/systemd/journal/stdout, as systemd does for a
     * service's output: each line a journal entry with SYSLOG_IDENTIFIER {@code identifier} (default
     * {@code rbee-{group}-{instance}}, or {@code rbee-{program}}), priority 6, and the worker's own
     * _SYSTEMD_CGROUP (the launcher connects after joining the leaf).  Query with
     * {@code journalctl -t rbee-G-I} or {@code journalctl _SYSTEMD_CGROUP=/.../G/I}.  Where journald is
     * absent the spawn fails (step JOURNAL, naming the socket and the errno).  Needs the launcher:
     * not on the portable backend.
     *
     * @param identifier the SYSLOG_IDENTIFIER, empty for the default
     */
    record Journal(Optional<String> identifier) implements Output {
        /** Checks the identifier: 1 to 200 characters, no control characters (journald's stream header is line-based). */
        public Journal {
            java.util.Objects.requireNonNull(identifier);
            identifier.ifPresent(i -> {
                if (i.isEmpty() || i.length() > 200 || i.chars().anyMatch(c -> c < 0x20 || c == 0x7f))
                    throw new IllegalArgumentException("invalid journal identifier " + Names.quote(i)
                            + ": 1 to 200 characters, no control characters");
            });
        }

        /**
         * The identifier a worker's lines carry.
         *
         * @param logName the worker's log name ({@link WorkerSpec#logName()}: "group-instance" or the program)
         * @return {@code identifier}, else "rbee-" + logName
         */
        public String identifierFor(String logName) {
            return identifier.orElse("rbee-" + logName);
        }
    }

    /**
     * Both streams to the journal, identifier {@code rbee-{group}-{instance}} (see {@link Journal}).
     *
     * @return {@link Journal}
     */
    static Output journal() { return new Journal(Optional.empty()); }

    /**
     * Both streams to the journal with this SYSLOG_IDENTIFIER (see {@link Journal}).
     *
     * @param identifier the identifier
     * @return {@link Journal}
     */
    static Output journal(String identifier) { return new Journal(Optional.of(identifier)); }

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
