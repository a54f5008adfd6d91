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
    private final Path file;
    private final String errno;

    public CgroupException(Path file, String errno, String message) {
        super(message);
        this.file = file;
        this.errno = errno;
    }

    public Path file() {
        return file;
    }

    public Optional<String> errno() {
        return Optional.ofNullable(errno);
    }
}
