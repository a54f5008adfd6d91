package dev.rbee.hive.monitor.cgroup;

import dev.rbee.hive.monitor.model.SpawnException;

/**
 * Makes sure the tree's root exists before a spawn claims a leaf in it, for a
 * root that is not ours to mkdir (a systemd scope, a delegated cgroup): a
 * bare directory there would be one systemd takes for its own unit.
 *
 * <p>Called from any spawning thread; implementations are thread-safe.
 */
public interface RootKeeper {
    /** Nothing to keep: the root is ours, made by the first claim (ROOT placement). */
    RootKeeper OURS = () -> { };

    /**
     * Returns once the root exists (made again if it can be, e.g. the scope asked of systemd anew).
     *
     * @throws SpawnException {@code BACKEND}, naming why the root cannot be had now
     */
    void ensure() throws SpawnException;

    /** Whether the tree may mkdir (and, after a failed first claim, rmdir) the root itself. */
    default boolean rootIsOurs() {
        return this == OURS;
    }
}
