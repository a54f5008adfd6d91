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
        /** setsid() */
        SETSID,
        /** prctl(PR_SET_PDEATHSIG) */
        PDEATHSIG,
        /** prctl(PR_SET_NO_NEW_PRIVS) */
        NO_NEW_PRIVS,
        /** writing /proc/self/oom_score_adj */
        OOM_SCORE_ADJ,
        /** chdir() to the working directory */
        CHDIR,
        /** connecting stdout and stderr to journald's stream socket (Output.journal) */
        JOURNAL,
        /** closing the inherited fds */
        CLOSE_FDS,
        /** exec of the target program (ENOENT, EACCES, ...) */
        EXEC,
        /** the backend cannot do what was asked (e.g. no writable cgroup2) */
        BACKEND
    }

    /** Where it failed. */
    private final Step step;
    /** The errno name, or null. */
    private final String errno;

    /**
     * A failed spawn.
     *
     * @param step    where it failed
     * @param errno   the errno name (e.g. "ENOENT"), or null
     * @param message what failed, naming the file or value
     * @param cause   the underlying exception, or null
     */
    public SpawnException(Step step, String errno, String message, Throwable cause) {
        super(message, cause);
        this.step = step;
        this.errno = errno;
    }

    /**
     * A failed spawn without an errno.
     *
     * @param step    where it failed
     * @param message what failed
     */
    public SpawnException(Step step, String message) {
        this(step, null, message, null);
    }

    /**
     * Where it failed.
     *
     * @return the step
     */
    public Step step() {
        return step;
    }

    /**
     * The errno name (e.g. "ENOENT"), when the failure had one.
     *
     * @return the name
     */
    public Optional<String> errno() {
        return Optional.ofNullable(errno);
    }
}
