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
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

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
    private static final MethodHandle READLINK = errnoCall("readlink", FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG));
    private static final MethodHandle KILL = errnoCall("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle SYSCALL4 = errnoCall("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1));
    private static final MethodHandle PIPE2 = errnoCall("pipe2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle EVENTFD = errnoCall("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle POLL = errnoCall("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle EPOLL_CREATE1 = errnoCall("epoll_create1", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle EPOLL_CTL = errnoCall("epoll_ctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle EPOLL_WAIT = errnoCall("epoll_wait",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
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
    /**
     * openat and close as critical downcalls taking raw addresses: the slow tier of a
     * sample opens, reads and closes its files every Nth round without allocating.
     * errno is not captured on this path (a failure is asked again through {@link #openat}).
     */
    private static final MethodHandle OPENAT_CRITICAL = LINKER.downcallHandle(LIBC.find("openat").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT),
            Linker.Option.firstVariadicArg(3), Linker.Option.critical(false));
    private static final MethodHandle CLOSE_CRITICAL = LINKER.downcallHandle(LIBC.find("close").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT), Linker.Option.critical(false));
    private static final MethodHandle STATX_CRITICAL = LINKER.downcallHandle(LIBC.find("statx").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG), Linker.Option.critical(false));
    private static final MethodHandle GETRLIMIT = errnoCall("getrlimit", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle SETRLIMIT = errnoCall("setrlimit", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
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

    /**
     * Each thread's errno slot, path buffer and statx buffer, so that a call allocates nothing (a spawn makes
     * dozens: mkdir, open, flock, statx, rmdir...).  Only the thread itself uses it, and only within one call.
     */
    private static final class Scratch {
        static final int PATH = 4096, BYTES = 256;
        private static final ThreadLocal<Scratch> OF_THREAD = ThreadLocal.withInitial(Scratch::new);
        final MemorySegment state, path, statx, bytes;
        /** readlink's target, made on first use (few threads read links). */
        private MemorySegment link;

        private Scratch() {
            Arena a = Arena.ofAuto(); // freed with the thread's Scratch
            state = a.allocate(CAPTURE);
            path = a.allocate(PATH + 1);
            statx = a.allocate(256, 8);
            bytes = a.allocate(BYTES);
        }

        static Scratch get() {
            return OF_THREAD.get();
        }

        MemorySegment link() {
            if (link == null) link = Arena.ofAuto().allocate(PATH);
            return link;
        }

        /** {@code s} NUL-terminated in the path buffer (ASCII char by char; others through UTF-8 bytes). */
        MemorySegment string(String s) {
            int n = s.length();
            if (n <= PATH) {
                boolean ascii = true;
                for (int i = 0; i < n; i++) {
                    char c = s.charAt(i);
                    if (c == 0 || c >= 0x80) {
                        ascii = false;
                        break;
                    }
                    path.set(JAVA_BYTE_LAYOUT, i, (byte) c);
                }
                if (ascii) {
                    path.set(JAVA_BYTE_LAYOUT, n, (byte) 0);
                    return path;
                }
            }
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            if (b.length > PATH) return Arena.ofAuto().allocateFrom(s); // longer than PATH_MAX: the kernel says ENAMETOOLONG
            MemorySegment.copy(b, 0, path, JAVA_BYTE_LAYOUT, 0, b.length);
            path.set(JAVA_BYTE_LAYOUT, b.length, (byte) 0);
            return path;
        }
    }

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
        Scratch sc = Scratch.get();
        MemorySegment st = sc.state;
        try {
            int r = (int) OPEN.invokeExact(st, sc.string(path), flags, mode);
            return r >= 0 ? r : -errnoOf(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** openat(2) relative to a directory fd (pins the operation to that directory's inode); fd or -errno. */
    public static int openat(int dirfd, String name, int flags) {
        Scratch sc = Scratch.get();
        MemorySegment st = sc.state;
        try {
            int r = (int) OPENAT.invokeExact(st, dirfd, sc.string(name), flags, 0);
            return r >= 0 ? r : -errnoOf(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * openat(2) of a NUL-terminated name in native memory, allocating nothing;
     * the fd, or -1 on any failure (errno not captured: ask {@link #openat} why).
     */
    public static int openatRaw(int dirfd, MemorySegment name, int flags) {
        if (!name.isNative()) throw new IllegalArgumentException("openatRaw needs native memory: " + name);
        try {
            return (int) OPENAT_CRITICAL.invokeExact(dirfd, name.address(), flags, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** close(2) allocating nothing; the fd is released whatever it returns (Linux closes it even on EINTR). */
    public static void closeRaw(int fd) {
        try {
            int r = (int) CLOSE_CRITICAL.invokeExact(fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Bytes of a struct statx, for {@link #linkCount}'s reusable buffer. */
    public static final int STATX_SIZE = 256;

    /**
     * The link count of a path (statx STATX_NLINK, symlinks not followed),
     * allocating nothing: {@code path} is a NUL-terminated native string and
     * {@code statxBuf} a reusable {@link #STATX_SIZE}-byte native buffer.  A
     * directory's count is 2 + its subdirectories on cgroupfs, tmpfs and ext4.
     *
     * @return the count, or -1 on any failure
     */
    public static long linkCount(MemorySegment path, MemorySegment statxBuf) {
        if (!path.isNative() || !statxBuf.isNative() || statxBuf.byteSize() < STATX_SIZE)
            throw new IllegalArgumentException("linkCount needs native memory: " + path + ", " + statxBuf);
        try {
            int r = (int) STATX_CRITICAL.invokeExact(AT_FDCWD, path.address(), 0x100 /* AT_SYMLINK_NOFOLLOW */,
                    0x4 /* STATX_NLINK */, statxBuf.address());
            if (r != 0 || (statxBuf.get(JAVA_INT, 0) & 0x4) == 0) return -1;
            return Integer.toUnsignedLong(statxBuf.get(JAVA_INT, 16)); // stx_nlink
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** RLIMIT_NOFILE, the open-files limit: {@code soft} is enforced, {@code hard} is how far it may be raised. */
    public record FdLimit(long soft, long hard) {}

    private static final int RLIMIT_NOFILE = 7;

    /** getrlimit(RLIMIT_NOFILE). @throws IllegalStateException naming the errno (never expected) */
    public static FdLimit fdLimit() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            MemorySegment rl = a.allocate(16, 8);
            int r = (int) GETRLIMIT.invokeExact(st, RLIMIT_NOFILE, rl);
            if (r != 0) throw new IllegalStateException("getrlimit(RLIMIT_NOFILE): " + errnoName(errnoOf(st)));
            return new FdLimit(rl.get(JAVA_LONG, 0), rl.get(JAVA_LONG, 8));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** setrlimit(RLIMIT_NOFILE, soft, hard); 0 or -errno. */
    public static int setFdLimit(long soft, long hard) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            MemorySegment rl = a.allocate(16, 8);
            rl.set(JAVA_LONG, 0, soft);
            rl.set(JAVA_LONG, 8, hard);
            int r = (int) SETRLIMIT.invokeExact(st, RLIMIT_NOFILE, rl);
            return r == 0 ? 0 : -errnoOf(st);
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
        Scratch sc = Scratch.get();
        MemorySegment st = sc.state;
        try {
            while (true) {
                int r = (int) FLOCK.invokeExact(st, fd, op);
                if (r == 0) return 0;
                if (errnoOf(st) != Errno.EINTR) return -errnoOf(st);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static final int AT_FDCWD = -100;
    private static final int AT_SYMLINK_NOFOLLOW = 0x100, AT_EMPTY_PATH = 0x1000, STATX_INO = 0x100;

    /** The inode number of an open fd (for a cgroup directory: its cgroup id); or -errno. */
    public static long inode(int fd) {
        return statxIno(fd, "", AT_EMPTY_PATH);
    }

    /** The inode number of {@code path} (symlinks not followed); or -errno (-ENOENT once removed). */
    public static long inode(String path) {
        return statxIno(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW);
    }

    /**
     * The link count of an open fd (statx STATX_NLINK): for a directory on cgroupfs, tmpfs and ext4, 2 + its
     * subdirectories (so 2 says "no sub-cgroup" without reading cgroup.stat); -1 on any failure or where the
     * file system does not report it.
     */
    public static long linkCount(int fd) {
        Scratch sc = Scratch.get();
        MemorySegment st = sc.state;
        try {
            MemorySegment buf = sc.statx;
            int r = (int) STATX.invokeExact(st, fd, sc.string(""), AT_EMPTY_PATH, 0x4 /* STATX_NLINK */, buf);
            if (r != 0 || (buf.get(JAVA_INT, 0) & 0x4) == 0) return -1;
            return Integer.toUnsignedLong(buf.get(JAVA_INT, 16)); // stx_nlink
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** struct statx is the same on every architecture: stx_ino is the u64 at offset 32 of 256 bytes. */
    private static long statxIno(int dirfd, String path, int flags) {
        Scratch sc = Scratch.get();
        MemorySegment st = sc.state;
        try {
            MemorySegment buf = sc.statx;
            int r = (int) STATX.invokeExact(st, dirfd, sc.string(path), flags, STATX_INO, buf);
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
        if (bytes.length > Scratch.BYTES) return writeLarge(fd, bytes);
        Scratch sc = Scratch.get();
        MemorySegment st = sc.state;
        try {
            MemorySegment buf = sc.bytes.asSlice(0, Math.max(1, bytes.length));
            MemorySegment.copy(bytes, 0, buf, JAVA_BYTE_LAYOUT, 0, bytes.length);
            long r = (long) WRITE.invokeExact(st, fd, buf, (long) bytes.length);
            if (r < 0) return -errnoOf(st);
            return r == bytes.length ? 0 : -Errno.EAGAIN;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** write(2) of the whole segment, once; the count written, or -errno. */
    public static long write(int fd, MemorySegment buf) {
        MemorySegment st = Scratch.get().state;
        try {
            long r = (long) WRITE.invokeExact(st, fd, buf, buf.byteSize());
            return r >= 0 ? r : -errnoOf(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static int writeLarge(int fd, byte[] bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            MemorySegment buf = a.allocate(bytes.length);
            MemorySegment.copy(bytes, 0, buf, JAVA_BYTE_LAYOUT, 0, bytes.length);
            long r = (long) WRITE.invokeExact(st, fd, buf, (long) bytes.length);
            if (r < 0) return -errnoOf(st);
            return r == bytes.length ? 0 : -Errno.EAGAIN;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final byte[] ONE = {1, 0, 0, 0, 0, 0, 0, 0};

    private static final java.lang.foreign.ValueLayout.OfByte JAVA_BYTE_LAYOUT = java.lang.foreign.ValueLayout.JAVA_BYTE;

    public static int close(int fd) {
        Scratch sc = Scratch.get();
        MemorySegment st = sc.state;
        try {
            int r = (int) CLOSE.invokeExact(st, fd);
            return r == 0 ? 0 : -errnoOf(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** mkdir(2); returns 0 or -errno. */
    public static int mkdir(String path, int mode) {
        Scratch sc = Scratch.get();
        MemorySegment st = sc.state;
        try {
            int r = (int) MKDIR.invokeExact(st, sc.string(path), mode);
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

    /**
     * readlink(2) of {@code path} (e.g. /proc/PID/exe) into {@code into}, through this thread's native buffer: no
     * JDK Path, no String, no exception for a process that has exited.
     *
     * @return the target's length in bytes (at most {@code into.length}, cut there), or -errno (ENOENT: gone)
     */
    public static int readlink(String path, byte[] into) {
        Scratch sc = Scratch.get();
        MemorySegment st = sc.state, buf = sc.link();
        try {
            long r = (long) READLINK.invokeExact(st, sc.string(path), buf, (long) Scratch.PATH);
            if (r < 0) return -errnoOf(st);
            int n = (int) Math.min(r, into.length);
            MemorySegment.copy(buf, JAVA_BYTE_LAYOUT, 0, into, 0, n);
            return n;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final long SYS_GETDENTS64 = AARCH64 ? 61 : 217;
    /** struct linux_dirent64: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name (NUL-terminated). */
    public static final int DIRENT_RECLEN = 16, DIRENT_TYPE = 18, DIRENT_NAME = 19;
    public static final byte DT_UNKNOWN = 0, DT_DIR = 4;

    /**
     * getdents64(2): the next entries of the directory open as {@code fd} into {@code buf} (native), each with
     * its type, so that telling directories from files needs no stat per entry.
     *
     * @return the bytes filled (0 at the end), or -errno
     */
    public static long getdents64(int fd, MemorySegment buf) {
        if (!buf.isNative()) throw new IllegalArgumentException("getdents64 needs native memory: " + buf);
        return syscall(SYS_GETDENTS64, fd, buf.address(), buf.byteSize(), 0);
    }

    /** rmdir(2); returns 0 or -errno. */
    public static int rmdir(String path) {
        Scratch sc = Scratch.get();
        MemorySegment st = sc.state;
        try {
            int r = (int) RMDIR.invokeExact(st, sc.string(path));
            return r == 0 ? 0 : -errnoOf(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** kill(2); returns 0 or -errno. */
    public static int kill(int pid, int sig) {
        Scratch sc = Scratch.get();
        MemorySegment st = sc.state;
        try {
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
        MemorySegment st = Scratch.get().state;
        try {
            long r = (long) SYSCALL4.invokeExact(st, nr, a, b, c, d);
            return r >= 0 ? r : -errnoOf(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static final int O_CREAT = 0x40, O_APPEND = 0x400;

    /**
     * pipe2(2) with O_CLOEXEC into {@code fds} (read end at {@code at}, write end at {@code at + 1}), through
     * a caller's 8-byte scratch segment so that a spawn allocates no arena; 0 or -errno.
     */
    public static int pipe(MemorySegment scratch, MemorySegment state, int[] fds, int at) {
        try {
            int r = (int) PIPE2.invokeExact(state, scratch, O_CLOEXEC);
            if (r != 0) return -errnoOf(state);
            fds[at] = scratch.get(JAVA_INT, 0);
            fds[at + 1] = scratch.get(JAVA_INT, 4);
            return 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A segment for the errno of a call (see {@link #pipe}). */
    public static MemorySegment callState(Arena arena) {
        return arena.allocate(CAPTURE);
    }

    public static final int EFD_CLOEXEC = 0x80000, POLLIN = 1;

    /** eventfd(2) with EFD_CLOEXEC; fd or -errno. */
    public static int eventfd() {
        Scratch sc = Scratch.get();
        MemorySegment st = sc.state;
        try {
            int r = (int) EVENTFD.invokeExact(st, 0, EFD_CLOEXEC);
            return r >= 0 ? r : -errnoOf(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Adds 1 to an eventfd (wakes a poller). */
    public static int eventfdSignal(int fd) {
        return write(fd, ONE);
    }

    /** Reads up to {@code buf.byteSize()} bytes; count or -errno. */
    public static long read(int fd, MemorySegment buf) {
        Scratch sc = Scratch.get();
        MemorySegment st = sc.state;
        try {
            long r = (long) READ.invokeExact(st, fd, buf, buf.byteSize());
            return r >= 0 ? r : -errnoOf(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static final int EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLLIN = 0x1, EPOLLERR = 0x8, EPOLLHUP = 0x10;
    /**
     * struct epoll_event {uint32_t events; uint64_t data;}: packed on x86-64 (12 bytes, data at 4),
     * naturally aligned elsewhere (16 bytes, data at 8).
     */
    private static final boolean X86_64 = "amd64".equals(System.getProperty("os.arch")) || "x86_64".equals(System.getProperty("os.arch"));
    public static final long EPOLL_EVENT_SIZE = X86_64 ? 12 : 16, EPOLL_EVENT_DATA = X86_64 ? 4 : 8;

    /** epoll_create1(2) with EPOLL_CLOEXEC; fd or -errno. */
    public static int epollCreate() {
        Scratch sc = Scratch.get();
        MemorySegment st = sc.state;
        try {
            int r = (int) EPOLL_CREATE1.invokeExact(st, O_CLOEXEC);
            return r >= 0 ? r : -errnoOf(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * epoll_ctl(2) of {@code fd} with {@code events}, the event's data being {@code fd} itself;
     * {@code event} is a caller's buffer of at least {@link #EPOLL_EVENT_SIZE} bytes.  0 or -errno.
     */
    public static int epollCtl(int epfd, int op, int fd, int events, MemorySegment event) {
        Scratch sc = Scratch.get();
        MemorySegment st = sc.state;
        event.set(JAVA_INT_UNALIGNED, 0, events);
        event.set(JAVA_LONG_UNALIGNED, EPOLL_EVENT_DATA, fd);
        try {
            int r = (int) EPOLL_CTL.invokeExact(st, epfd, op, fd, event);
            return r >= 0 ? r : -errnoOf(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** epoll_wait(2) into {@code events} (room for {@code max}); the count or -errno. */
    public static int epollWait(int epfd, MemorySegment events, int max, int timeoutMillis) {
        Scratch sc = Scratch.get();
        MemorySegment st = sc.state;
        try {
            int r = (int) EPOLL_WAIT.invokeExact(st, epfd, events, max, timeoutMillis);
            return r >= 0 ? r : -errnoOf(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** poll(2) over {@code n} struct pollfd {int fd; short events; short revents;}; count or -errno. */
    public static int poll(MemorySegment pollfds, int n, int timeoutMillis) {
        Scratch sc = Scratch.get();
        MemorySegment st = sc.state;
        try {
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
        Scratch sc = Scratch.get();
        MemorySegment st = sc.state;
        try {
            int r = (int) INOTIFY_INIT1.invokeExact(st, flags);
            return r >= 0 ? r : -errnoOf(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** inotify_add_watch(2); watch descriptor or -errno. */
    public static int inotifyAddWatch(int fd, String path, int mask) {
        Scratch sc = Scratch.get();
        MemorySegment st = sc.state;
        try {
            int r = (int) INOTIFY_ADD_WATCH.invokeExact(st, fd, sc.string(path), mask);
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
