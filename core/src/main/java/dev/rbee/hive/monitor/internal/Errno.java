package dev.rbee.hive.monitor.internal;

/** The Linux errno values this library acts on (names come from {@link Libc#errnoName}). */
public final class Errno {
    public static final int ENOENT = 2, ESRCH = 3, EINTR = 4, EAGAIN = 11, EBUSY = 16, EEXIST = 17,
            ENODEV = 19, ENOTDIR = 20, EINVAL = 22, ENOSYS = 38, ENOTEMPTY = 39, EOPNOTSUPP = 95, EMFILE = 24, ENFILE = 23;

    private Errno() {}
}
