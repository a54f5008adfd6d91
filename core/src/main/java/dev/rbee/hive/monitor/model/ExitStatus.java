package dev.rbee.hive.monitor.model;

import java.util.OptionalInt;

/**
 * How a worker ended: an exit code, or the signal that killed it.
 *
 * <p>For our own children the JDK reports a signal death as 128+N (its
 * documented convention, as shells do), so a program that itself calls
 * {@code exit(137)} reads as SIGKILL.  Where this library sent the signal
 * itself, or the kernel counted an OOM kill, that is known for sure.
 *
 * <p>Immutable: thread-safe, to share between threads as it is.
 *
 * @param code   the exit code, when the worker exited
 * @param signal the signal that killed it, when one did
 */
public record ExitStatus(OptionalInt code, OptionalInt signal) {
    /** Checks that exactly one of the two is present. */
    public ExitStatus {
        if (code.isPresent() == signal.isPresent())
            throw new IllegalArgumentException("exactly one of code and signal: " + code + " " + signal);
    }

    /**
     * The worker exited.
     *
     * @param code its exit code
     * @return the status
     */
    public static ExitStatus exited(int code) {
        return new ExitStatus(OptionalInt.of(code), OptionalInt.empty());
    }

    /**
     * A signal killed the worker.
     *
     * @param signal the signal number
     * @return the status
     */
    public static ExitStatus killed(int signal) {
        return new ExitStatus(OptionalInt.empty(), OptionalInt.of(signal));
    }

    /**
     * From {@link Process#exitValue()}: 129..192 mean signal 1..64.
     *
     * @param exitValue what the JDK reported
     * @return the status
     */
    public static ExitStatus fromJdk(int exitValue) {
        return exitValue > 128 && exitValue <= 128 + 64 ? killed(exitValue - 128) : exited(exitValue);
    }

    /**
     * The shell's convention.
     *
     * @return the code, or 128 + the signal
     */
    public int shellValue() {
        return code.isPresent() ? code.getAsInt() : 128 + signal.getAsInt();
    }

    @Override
    public String toString() {
        return code.isPresent() ? "exit code " + code.getAsInt() : "signal " + signal.getAsInt();
    }
}
