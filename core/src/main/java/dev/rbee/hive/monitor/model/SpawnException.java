package dev.rbee.hive.monitor.model;

import java.io.IOException;
import java.util.Optional;

/**
 * A spawn failed at {@link #step()}.  Nothing is left behind: no process, no
 * cgroup directory.  The message names the step, the file or program, the
 * value and the errno where there is one.
 *
 * <p>Immutable: thread-safe.
 */
public final class SpawnException extends IOException {
    /** The steps of a spawn, in order. */
    public enum Step {
        /** the cgroup tree (mkdir of rbee.slice, group or leaf) */
        MKDIR,
        /** the leaf already holds processes */
        BUSY,
        /** enabling a controller in an ancestor's cgroup.subtree_control */
        SUBTREE_CONTROL,
        /** writing a limit file */
        LIMIT,
        /** starting or talking to rbee-launch */
        LAUNCHER,
        /** joining the cgroup (write to cgroup.procs) */
        JOIN,
        SETSID, PDEATHSIG, NO_NEW_PRIVS, OOM_SCORE_ADJ, CHDIR, CLOSE_FDS,
        /** exec of the target program (ENOENT, EACCES, ...) */
        EXEC,
        /** the backend cannot do what was asked (e.g. no writable cgroup2) */
        BACKEND
    }

    private final Step step;
    private final String errno;

    public SpawnException(Step step, String errno, String message, Throwable cause) {
        super(message, cause);
        this.step = step;
        this.errno = errno;
    }

    public SpawnException(Step step, String message) {
        this(step, null, message, null);
    }

    public Step step() {
        return step;
    }

    /** The errno name (e.g. "ENOENT"), when the failure had one. */
    public Optional<String> errno() {
        return Optional.ofNullable(errno);
    }
}
