package dev.rbee.hive.monitor.backend;

import java.io.IOException;

/** The processes of one worker, however the backend keeps them together (a cgroup, or a session). */
public interface Tree {
    /** SIGKILL to every member at once. */
    void killAll() throws IOException;

    /** {@code sig} to every member. */
    void signalAll(int sig) throws IOException;

    /** Waits until no member is left alive; false on timeout. */
    boolean awaitEmpty(long timeoutMillis) throws IOException;
}
