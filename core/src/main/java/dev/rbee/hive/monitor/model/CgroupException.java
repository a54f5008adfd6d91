package dev.rbee.hive.monitor.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A cgroup file operation failed; the message names the file, the value and the errno.
 *
 * <p>Immutable: thread-safe.
 */
public final class CgroupException extends IOException {
    /** The file or directory the operation was on. */
    private final Path file;
    /** The errno name, or null. */
    private final String errno;

    /**
     * A failed cgroup file operation.
     *
     * @param file    the file or directory
     * @param errno   the errno name (e.g. "EBUSY"), or null
     * @param message what failed, naming the file, the value and the errno
     */
    public CgroupException(Path file, String errno, String message) {
        super(message);
        this.file = file;
        this.errno = errno;
    }

    /**
     * The file or directory the operation was on.
     *
     * @return its path
     */
    public Path file() {
        return file;
    }

    /**
     * The errno name, when the failure had one.
     *
     * @return the name
     */
    public Optional<String> errno() {
        return Optional.ofNullable(errno);
    }
}
