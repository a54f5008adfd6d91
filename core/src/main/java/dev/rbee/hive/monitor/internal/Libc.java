package dev.rbee.hive.monitor.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The few libc calls the JDK does not offer with their errno: the cgroup
 * file system reports what went wrong only through errno (EBUSY, EINVAL,
 * ENOENT), and our error messages must name it.
 */
public final class Libc {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CAPTURE.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));

    private static final boolean AARCH64 = System.getProperty("os.arch").equals("aarch64");
    /** open(2) flags; O_DIRECTORY and O_NOFOLLOW differ between x86-64 and aarch64. */
    public static final int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CLOEXEC = 0x80000,
            O_DIRECTORY = AARCH64 ? 0x4000 : 0x10000, O_NOFOLLOW = AARCH64 ? 0x8000 : 0x20000, O_NONBLOCK = 0x800;
    public static final int LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;
    public static final int AF_UNIX = 1, SOCK_STREAM = 1, SOCK_CLOEXEC = 0x80000, SOCK_NONBLOCK = 0x800;

    private static final MethodHandle OPEN = errnoCall("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle WRITE = errnoCall("write",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle CLOSE = errnoCall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle OPENAT = errnoCall("openat",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(3));
    private static final MethodHandle FLOCK = errnoCall("flock", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle STATX = errnoCall("statx",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle SOCKET = errnoCall("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle BIND = errnoCall("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle LISTEN = errnoCall("listen", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle ACCEPT4 = errnoCall("accept4",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    private static final MethodHandle RECVMSG = errnoCall("recvmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle GETSOCKOPT = errnoCall("getsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle MKDIR = errnoCall("mkdir",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle GETXATTR = errnoCall("getxattr",
            FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
    private static final MethodHandle RMDIR = errnoCall("rmdir", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle KILL = errnoCall("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle SYSCALL4 = errnoCall("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1));
    private static final MethodHandle EVENTFD = errnoCall("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle POLL = errnoCall("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle READ = errnoCall("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    /**
     * pread as a critical downcall (no thread-state transition: ~0.3 us less per read, see the
     * benchmarks), with the buffer passed as a raw address so that no MemorySegment is made per call.
     */
    private static final MethodHandle PREAD_CRITICAL = LINKER.downcallHandle(LIBC.find("pread").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG), Linker.Option.critical(false));
    /** read(2) likewise: the per-round poll of an inotify fd allocates nothing. */
    private static final MethodHandle READ_CRITICAL = LINKER.downcallHandle(LIBC.find("read").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG), Linker.Option.critical(false));
    private static final MethodHandle INOTIFY_INIT1 = errnoCall("inotify_init1", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle INOTIFY_ADD_WATCH = errnoCall("inotify_add_watch",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle PREAD = errnoCall("pread",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle SYSCONF = LINKER.downcallHandle(
            LIBC.find("sysconf").orElseThrow(), FunctionDescriptor.of(JAVA_LONG, JAVA_INT));
    private static final MethodHandle GETUID = LINKER.downcallHandle(
            LIBC.find("getuid").orElseThrow(), FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle STRERRORNAME = LINKER.downcallHandle(
            LIBC.find("strerrorname_np").orElseThrow(), FunctionDescriptor.of(ADDRESS, JAVA_INT));

    private Libc() {}

    private static MethodHandle errnoCall(String name, FunctionDescriptor fd, Linker.Option... extra) {
        Linker.Option[] opts = new Linker.Option[extra.length + 1];
        opts[0] = Linker.Option.captureCallState("errno");
        System.arraycopy(extra, 0, opts, 1, extra.length);
        return LINKER.downcallHandle(LIBC.find(name).orElseThrow(), fd, opts);
    }

    /** Result of a call: a non-negative value, or -errno. */
    private static int errnoOf(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    /** open(2); returns the fd or -errno. */
    public static int open(String path, int flags, int mode) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            int r = (int) OPEN.invokeExact(st, a.allocateFrom(path), flags, mode);
            return r >= 0 ? r : -errnoOf(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** openat(2) relative to a directory fd (pins the operation to that directory's inode); fd or -errno. */
    public static int openat(int dirfd, String name, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            int r = (int) OPENAT.invokeExact(st, dirfd, a.allocateFrom(name), flags, 0);
            return r >= 0 ? r : -errnoOf(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A directory, not followed through a symlink, close-on-exec; fd or -errno. */
    public static int openDirectory(String path) {
        return open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
    }

    /** flock(2), EINTR retried; 0 or -errno (EWOULDBLOCK = EAGAIN with LOCK_NB when another holds it). */
    public static int flock(int fd, int op) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            while (true) {
                int r = (int) FLOCK.invokeExact(st, fd, op);
                if (r == 0) return 0;
                if (errnoOf(st) != Errno.EINTR) return -errnoOf(st);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, AT_EMPTY_PATH = 0x1000, STATX_INO = 0x100;

    /** The inode number of an open fd (for a cgroup directory: its cgroup id); or -errno. */
    public static long inode(int fd) {
        return statxIno(fd, "", AT_EMPTY_PATH);
    }

    /** The inode number of {@code path} (symlinks not followed); or -errno (-ENOENT once removed). */
    public static long inode(String path) {
        return statxIno(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW);
    }

    /** struct statx is the same on every architecture: stx_ino is the u64 at offset 32 of 256 bytes. */
    private static long statxIno(int dirfd, String path, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            MemorySegment buf = a.allocate(256, 8);
            int r = (int) STATX.invokeExact(st, dirfd, a.allocateFrom(path), flags, STATX_INO, buf);
            return r == 0 ? buf.get(JAVA_LONG, 32) : -errnoOf(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * A listening unix stream socket in the abstract namespace (sun_path starts
     * with NUL): no file is made, so none is left if we are killed.  fd or -errno.
     */
    public static int listenAbstract(String name) {
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        if (n.length > 106) return -Errno.EINVAL;
        int fd;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            fd = (int) SOCKET.invokeExact(st, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
            if (fd < 0) return -errnoOf(st);
            MemorySegment addr = a.allocate(110);
            addr.set(JAVA_SHORT_LAYOUT, 0, (short) AF_UNIX); // sun_path[0] stays 0: abstract
            MemorySegment.copy(n, 0, addr, JAVA_BYTE_LAYOUT, 3, n.length);
            int r = (int) BIND.invokeExact(st, fd, addr, 3 + n.length);
            if (r == 0) r = (int) LISTEN.invokeExact(st, fd, 4);
            if (r != 0) {
                int e = errnoOf(st);
                close(fd);
                return -e;
            }
            return fd;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** accept4(2) with SOCK_CLOEXEC; fd or -errno (EAGAIN: none waiting on a non-blocking socket). */
    public static int accept(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            int r = (int) ACCEPT4.invokeExact(st, fd, MemorySegment.NULL, MemorySegment.NULL, SOCK_CLOEXEC);
            return r >= 0 ? r : -errnoOf(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final int SOL_SOCKET = 1, SO_PEERCRED = 17, SCM_RIGHTS = 1;

    /** The pid of the process at the other end of a connected unix socket (SO_PEERCRED); or -errno. */
    public static int peerPid(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            MemorySegment cred = a.allocate(12, 4), len = a.allocate(JAVA_INT);
            len.set(JAVA_INT, 0, 12);
            int r = (int) GETSOCKOPT.invokeExact(st, fd, SOL_SOCKET, SO_PEERCRED, cred, len);
            return r == 0 ? cred.get(JAVA_INT, 0) : -errnoOf(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** What one {@link #receive} got: bytes (0 = end of file) and the fds passed with them (SCM_RIGHTS). */
    public record Received(byte[] data, int[] fds) {}

    /**
     * recvmsg(2) of up to {@code max} bytes and any fds sent along (received
     * close-on-exec).  Returns null with {@code errno[0]} set on failure.
     * struct msghdr, iovec and cmsghdr have one layout on every 64-bit Linux.
     */
    public static Received receive(int fd, int max, int[] errno) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            MemorySegment data = a.allocate(max), iov = a.allocate(16, 8), control = a.allocate(64, 8),
                    msg = a.allocate(56, 8);
            iov.set(ADDRESS, 0, data);
            iov.set(JAVA_LONG, 8, max);
            msg.set(ADDRESS, 16, iov);
            msg.set(JAVA_LONG, 24, 1);
            msg.set(ADDRESS, 32, control);
            msg.set(JAVA_LONG, 40, control.byteSize());
            long n = (long) RECVMSG.invokeExact(st, fd, msg, 0x40000000 /* MSG_CMSG_CLOEXEC */);
            if (n < 0) {
                errno[0] = errnoOf(st);
                return null;
            }
            int[] fds = new int[0];
            long controlLen = msg.get(JAVA_LONG, 40);
            for (long off = 0; off + 16 <= controlLen; ) {
                long len = control.get(JAVA_LONG, off);
                if (len < 16) break;
                if (control.get(JAVA_INT, off + 8) == SOL_SOCKET && control.get(JAVA_INT, off + 12) == SCM_RIGHTS) {
                    int count = (int) ((len - 16) / 4), base = fds.length;
                    fds = java.util.Arrays.copyOf(fds, base + count);
                    for (int i = 0; i < count; i++) fds[base + i] = control.get(JAVA_INT, off + 16 + 4L * i);
                }
                off += (len + 7) & ~7L;
            }
            return new Received(data.asSlice(0, n).toArray(JAVA_BYTE_LAYOUT), fds);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final java.lang.foreign.ValueLayout.OfShort JAVA_SHORT_LAYOUT = java.lang.foreign.ValueLayout.JAVA_SHORT;

    /** Writes all of {@code bytes} in one write(2); returns 0 or -errno. */
    public static int write(int fd, byte[] bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            MemorySegment buf = a.allocate(Math.max(1, bytes.length));
            MemorySegment.copy(bytes, 0, buf, JAVA_BYTE_LAYOUT, 0, bytes.length);
            long r = (long) WRITE.invokeExact(st, fd, buf, (long) bytes.length);
            if (r < 0) return -errnoOf(st);
            return r == bytes.length ? 0 : -Errno.EAGAIN;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final java.lang.foreign.ValueLayout.OfByte JAVA_BYTE_LAYOUT = java.lang.foreign.ValueLayout.JAVA_BYTE;

    public static int close(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            int r = (int) CLOSE.invokeExact(st, fd);
            return r == 0 ? 0 : -errnoOf(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** mkdir(2); returns 0 or -errno. */
    public static int mkdir(String path, int mode) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            int r = (int) MKDIR.invokeExact(st, a.allocateFrom(path), mode);
            return r == 0 ? 0 : -errnoOf(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * getxattr(2) of a short attribute (at most 255 bytes), e.g. systemd's "trusted.delegate" on a cgroup.
     *
     * @return the value, or {@code null} with {@code errno[0]} set (ENODATA: no such attribute)
     */
    public static byte[] getxattr(String path, String name, int[] errno) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            MemorySegment buf = a.allocate(256);
            long r = (long) GETXATTR.invokeExact(st, a.allocateFrom(path), a.allocateFrom(name), buf, 255L);
            if (r < 0) {
                errno[0] = errnoOf(st);
                return null;
            }
            return buf.asSlice(0, r).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** rmdir(2); returns 0 or -errno. */
    public static int rmdir(String path) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            int r = (int) RMDIR.invokeExact(st, a.allocateFrom(path));
            return r == 0 ? 0 : -errnoOf(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** kill(2); returns 0 or -errno. */
    public static int kill(int pid, int sig) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            int r = (int) KILL.invokeExact(st, pid, sig);
            return r == 0 ? 0 : -errnoOf(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final long SYS_PIDFD_SEND_SIGNAL = 424, SYS_PIDFD_OPEN = 434;

    /** pidfd_open(2): an fd that names this very process, immune to pid reuse; fd or -errno. */
    public static int pidfdOpen(long pid) {
        return (int) syscall(SYS_PIDFD_OPEN, pid, 0, 0, 0);
    }

    /** pidfd_send_signal(2); 0 or -errno (ESRCH once the process has exited). */
    public static int pidfdSendSignal(int pidfd, int sig) {
        return (int) syscall(SYS_PIDFD_SEND_SIGNAL, pidfd, sig, 0, 0);
    }

    private static long syscall(long nr, long a, long b, long c, long d) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(CAPTURE);
            long r = (long) SYSCALL4.invokeExact(st, nr, a, b, c, d);
            return r >= 0 ? r : -errnoOf(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static final int EFD_CLOEXEC = 0x80000, POLLIN = 1;

    /** eventfd(2) with EFD_CLOEXEC; fd or -errno. */
    public static int eventfd() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            int r = (int) EVENTFD.invokeExact(st, 0, EFD_CLOEXEC);
            return r >= 0 ? r : -errnoOf(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Adds 1 to an eventfd (wakes a poller). */
    public static int eventfdSignal(int fd) {
        return write(fd, new byte[] {1, 0, 0, 0, 0, 0, 0, 0});
    }

    /** Reads up to {@code buf.byteSize()} bytes; count or -errno. */
    public static long read(int fd, MemorySegment buf) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            long r = (long) READ.invokeExact(st, fd, buf, buf.byteSize());
            return r >= 0 ? r : -errnoOf(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** poll(2) over {@code n} struct pollfd {int fd; short events; short revents;}; count or -errno. */
    public static int poll(MemorySegment pollfds, int n, int timeoutMillis) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            int r = (int) POLL.invokeExact(st, pollfds, (long) n, timeoutMillis);
            return r >= 0 ? r : -errnoOf(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * pread(2) of up to {@code len} bytes into {@code buf} at {@code bufOffset},
     * from file offset {@code fileOffset}; the count, or -errno.  Allocates
     * nothing on success (the hot path of every stats sample).
     */
    public static long pread(int fd, MemorySegment buf, long bufOffset, long len, long fileOffset) {
        if (bufOffset < 0 || len < 0 || bufOffset + len > buf.byteSize() || !buf.isNative())
            throw new IndexOutOfBoundsException("pread of " + len + " bytes at " + bufOffset + " into " + buf);
        long at = buf.address() + bufOffset;
        try {
            long r = (long) PREAD_CRITICAL.invokeExact(fd, at, len, fileOffset);
            if (r >= 0) return r;
            // Rare: read again through the errno-capturing handle to learn why (cgroup reads are repeatable).
            try (Arena a = Arena.ofConfined()) {
                MemorySegment st = a.allocate(CAPTURE);
                r = (long) PREAD.invokeExact(st, fd, at, len, fileOffset);
                return r >= 0 ? r : -errnoOf(st);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * read(2) into native memory without allocating: the count, or -1 on any
     * failure (EAGAIN on a non-blocking fd with nothing to read; errno is not
     * captured on this path).
     */
    public static long readRaw(int fd, MemorySegment buf) {
        if (!buf.isNative()) throw new IllegalArgumentException("readRaw needs native memory: " + buf);
        try {
            return (long) READ_CRITICAL.invokeExact(fd, buf.address(), buf.byteSize());
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static final int IN_NONBLOCK = 0x800, IN_CLOEXEC = 0x80000, IN_MOVED_FROM = 0x40, IN_MOVED_TO = 0x80,
            IN_CREATE = 0x100, IN_DELETE = 0x200, IN_DELETE_SELF = 0x400, IN_ONLYDIR = 0x1000000;

    /** inotify_init1(2); fd or -errno. */
    public static int inotifyInit(int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            int r = (int) INOTIFY_INIT1.invokeExact(st, flags);
            return r >= 0 ? r : -errnoOf(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** inotify_add_watch(2); watch descriptor or -errno. */
    public static int inotifyAddWatch(int fd, String path, int mask) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            int r = (int) INOTIFY_ADD_WATCH.invokeExact(st, fd, a.allocateFrom(path), mask);
            return r >= 0 ? r : -errnoOf(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Clock ticks per second (sysconf _SC_CLK_TCK), for /proc/PID/stat times. */
    public static long clockTicksPerSecond() {
        try {
            return (long) SYSCONF.invokeExact(2 /* _SC_CLK_TCK */);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int getuid() {
        try {
            return (int) GETUID.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** "EINVAL" for 22; "errno N" where libc knows no name. */
    public static String errnoName(int errno) {
        try {
            MemorySegment p = (MemorySegment) STRERRORNAME.invokeExact(errno);
            if (p.equals(MemorySegment.NULL)) return "errno " + errno;
            return p.reinterpret(64).getString(0, StandardCharsets.US_ASCII);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    /**
     * Bytes per memory page (sysconf _SC_PAGESIZE), for figures the kernel gives in
     * pages: 4 KiB on x86-64, but 4, 16 or 64 KiB on aarch64 kernels.
     */
    public static long pageSize() {
        try {
            return (long) SYSCONF.invokeExact(30 /* _SC_PAGESIZE */);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
