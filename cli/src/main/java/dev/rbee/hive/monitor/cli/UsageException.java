package dev.rbee.hive.monitor.cli;

/** A bad command line: printed with the usage, exit status 2. */
final class UsageException extends Exception {
    UsageException(String message) {
        super(message);
    }
}
