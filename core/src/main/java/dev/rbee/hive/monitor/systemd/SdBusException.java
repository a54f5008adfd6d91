package dev.rbee.hive.monitor.systemd;

import java.io.IOException;
import java.util.Optional;

/**
 * A failed sd-bus call: the errno sd-bus returned and, for a method call systemd
 * refused, the D-Bus error name (e.g. org.freedesktop.systemd1.UnitExists).
 */
public final class SdBusException extends IOException {
    private final Optional<Integer> errno;
    private final Optional<String> errorName;

    SdBusException(Optional<Integer> errno, String message) {
        this(errno, Optional.empty(), message);
    }

    SdBusException(Optional<Integer> errno, Optional<String> errorName, String message) {
        super(message);
        this.errno = errno;
        this.errorName = errorName;
    }

    /** The errno, when sd-bus gave one. */
    public Optional<Integer> errno() {
        return errno;
    }

    /** The D-Bus error name, when systemd answered with an error. */
    public Optional<String> errorName() {
        return errorName;
    }
}
