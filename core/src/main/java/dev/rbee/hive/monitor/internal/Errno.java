package dev.rbee.hive.monitor.internal;

/** A Linux errno value with its symbolic name (EINVAL, EBUSY, ...). */
public record Errno(int code) {
    public static final int ENOENT = 2, ESRCH = 3, EINTR = 4, EAGAIN = 11, EBUSY = 16, EEXIST = 17,
            ENOTDIR = 20, EINVAL = 22, ENOTEMPTY = 39, ENODEV = 19, ENOSYS = 38, EOPNOTSUPP = 95;

    public String name() {
        return Libc.errnoName(code);
    }

    @Override
    public String toString() {
        return name();
    }
}
