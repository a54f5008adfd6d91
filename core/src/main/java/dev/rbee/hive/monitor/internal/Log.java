package dev.rbee.hive.monitor.internal;

/**
 * The library's one logger, {@code dev.rbee.hive.monitor}: everything the library
 * has to say goes here (System.Logger, so that an embedder routes it to its own
 * backend: java.util.logging by default, SLF4J/Log4j through their
 * {@code System.LoggerFinder}), never to stdout or stderr.
 */
public final class Log {
    public static final System.Logger LOG = System.getLogger("dev.rbee.hive.monitor");

    private Log() {}
}
