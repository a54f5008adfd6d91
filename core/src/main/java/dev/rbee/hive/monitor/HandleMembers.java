package dev.rbee.hive.monitor;

import java.io.IOException;

/**
 * A worker's processes as ProcessHandle sees them (portable backend): the
 * worker's descendants.  Set by {@link Worker} once it knows its main process.
 */
final class HandleMembers implements Tree {
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
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (main.isAlive() || main.descendants().anyMatch(ProcessHandle::isAlive)) {
            if (System.nanoTime() > deadline) return false;
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }
}
