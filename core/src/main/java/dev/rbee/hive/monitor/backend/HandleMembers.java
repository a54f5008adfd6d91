package dev.rbee.hive.monitor.backend;

import dev.rbee.hive.monitor.internal.Backoff;

import java.io.IOException;

/**
 * A worker's processes as ProcessHandle sees them (portable backend): the
 * worker's descendants.  Set by {@link Life} once it knows its main process.
 */
public final class HandleMembers implements Tree {
    private volatile ProcessHandle main;

    void main(ProcessHandle h) {
        main = h;
    }

    @Override
    public void killAll() {
        main.descendants().forEach(ProcessHandle::destroyForcibly);
        main.destroyForcibly();
    }

    @Override
    public void signalAll(int sig) {
        // ProcessHandle knows two signals: SIGTERM (destroy) and SIGKILL (destroyForcibly)
        main.descendants().forEach(p -> { if (sig == 9) p.destroyForcibly(); else p.destroy(); });
    }

    @Override
    public boolean awaitEmpty(long timeoutMillis) throws IOException {
        return Backoff.await(() -> !main.isAlive() && main.descendants().noneMatch(ProcessHandle::isAlive), timeoutMillis);
    }
}
