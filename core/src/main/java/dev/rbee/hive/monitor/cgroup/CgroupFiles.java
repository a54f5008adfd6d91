package dev.rbee.hive.monitor.cgroup;

import dev.rbee.hive.monitor.model.CgroupException;
import dev.rbee.hive.monitor.internal.Errno;
import dev.rbee.hive.monitor.internal.Libc;
import dev.rbee.hive.monitor.read.AsciiBuffer;
import dev.rbee.hive.monitor.read.KeptOpenFile;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.LinkOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Writes and small reads of cgroup control files.  Writes go through libc so
 * that failures carry the kernel's errno (EINVAL, EBUSY, ...), which is the only
 * way cgroupfs says what was wrong with a value.
 */
public final class CgroupFiles {
    private CgroupFiles() {}

    /** Writes {@code value} in a single write(2), as cgroupfs requires. */
    public static void write(Path file, String value) throws CgroupException {
        writeAndClose(Libc.open(file.toString(), Libc.O_WRONLY | Libc.O_CLOEXEC, 0), file, value);
    }

    /** Writes {@code value} to {@code fd} (the result of opening {@code file}: an fd, or -errno) and closes it. */
    static void writeAndClose(int fd, Path file, String value) throws CgroupException {
        if (fd < 0) throw failure(file, value, -fd);
        int r = Libc.write(fd, value.getBytes(StandardCharsets.US_ASCII));
        Libc.close(fd);
        if (r < 0) throw failure(file, value, -r);
    }

    private static CgroupException failure(Path file, String value, int errno) {
        String name = Libc.errnoName(errno);
        return new CgroupException(file, name, "cannot write \"" + value + "\" to " + file + ": " + name);
    }

    /** mkdir; returns false if it already existed. */
    public static boolean mkdir(Path dir) throws CgroupException {
        int r = Libc.mkdir(dir.toString(), 0755);
        if (r == 0) return true;
        if (-r == Errno.EEXIST) return false;
        String name = Libc.errnoName(-r);
        throw new CgroupException(dir, name, "cannot create cgroup " + dir + ": " + name);
    }

    /**
     * rmdir, retried with doubling delays from 1 ms for about {@code budgetMillis}
     * while the kernel says EBUSY (it does so briefly after the last task exits).
     * Returns true if removed, false if it did not exist.
     */
    public static boolean rmdir(Path dir, long budgetMillis) throws CgroupException {
        long deadline = System.nanoTime() + budgetMillis * 1_000_000;
        long delay = 1;
        while (true) {
            int r = Libc.rmdir(dir.toString());
            if (r == 0) return true;
            if (-r == Errno.ENOENT) return false;
            if (-r != Errno.EBUSY || System.nanoTime() > deadline) {
                String name = Libc.errnoName(-r);
                throw new CgroupException(dir, name, "cannot remove cgroup " + dir + ": " + name);
            }
            try {
                Thread.sleep(delay);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CgroupException(dir, null, "interrupted while removing cgroup " + dir);
            }
            delay = Math.min(delay * 2, 100);
        }
    }

    /**
     * A small control file as a string; empty if it does not exist, or if its
     * cgroup is being removed (ENODEV: the files die before the directory).
     */
    private static final ThreadLocal<java.lang.foreign.MemorySegment> READ_BUFFER =
            ThreadLocal.withInitial(() -> java.lang.foreign.Arena.ofAuto().allocate(4096));

    public static String read(Path file) throws IOException {
        int fd = Libc.open(file.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        if (fd < 0) {
            if (-fd == Errno.ENOENT || -fd == Errno.ENODEV) return "";
            throw new CgroupException(file, Libc.errnoName(-fd), "cannot open " + file + ": " + Libc.errnoName(-fd));
        }
        try {
            // This thread's native buffer and one byte[] for the text: a spawn reads a few control files.
            java.lang.foreign.MemorySegment buf = READ_BUFFER.get();
            byte[] text = null;
            int len = 0;
            while (true) {
                long n = Libc.read(fd, buf);
                if (n == 0) return len == 0 ? "" : new String(text, 0, len, StandardCharsets.US_ASCII);
                if (n < 0) {
                    if (-n == Errno.EINTR) continue;
                    if (-n == Errno.ENODEV) return "";
                    throw new CgroupException(file, Libc.errnoName((int) -n), "cannot read " + file + ": " + Libc.errnoName((int) -n));
                }
                if (text == null) text = new byte[(int) n];
                else if (len + n > text.length) text = Arrays.copyOf(text, Math.max(2 * text.length, len + (int) n));
                java.lang.foreign.MemorySegment.copy(buf, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, text, len, (int) n);
                len += (int) n;
            }
        } finally {
            Libc.close(fd);
        }
    }

    /** The pids a cgroup.procs lists (empty if the cgroup is gone). */
    public static List<Long> pids(Path cgroup) throws IOException {
        List<Long> out = new ArrayList<>();
        for (String line : read(cgroup.resolve("cgroup.procs")).split("\n"))
            if (!line.isBlank()) out.add(Long.parseLong(line.strip()));
        return out;
    }

    /**
     * {@code cgroup} and every sub-cgroup below it, parents before children (a
     * worker may make its own: a nested supervisor, a container runtime).
     * Reversed, it is the order in which they can be removed.
     */
    public static List<Path> subtree(Path cgroup) throws IOException {
        List<Path> out = new ArrayList<>();
        out.add(cgroup);
        // The common case, a leaf without sub-cgroups: one read of cgroup.stat instead of listing ~30 control files
        // with an lstat each (adopting 1000 workers did that 2000 times).
        if (noDescendants(cgroup)) return out;
        for (int i = 0; i < out.size(); i++) {
            try (var s = Files.newDirectoryStream(out.get(i), p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))) {
                for (Path p : s) out.add(p);
            } catch (NoSuchFileException | java.nio.file.NotDirectoryException gone) {
                // removed meanwhile: nothing below it
            }
        }
        return out;
    }

    /** Whether cgroup.stat says "nr_descendants 0"; false if it cannot be read or says otherwise (then list). */
    private static boolean noDescendants(Path cgroup) {
        try {
            String s = read(cgroup.resolve("cgroup.stat"));
            int at = s.indexOf("nr_descendants ");
            return at >= 0 && (at == 0 || s.charAt(at - 1) == '\n') && s.startsWith("0\n", at + 15);
        } catch (IOException e) {
            return false;
        }
    }

    /** The space-separated words of a file such as cgroup.controllers. */
    public static Set<String> words(Path file) throws IOException {
        String s = read(file).strip();
        return s.isEmpty() ? new TreeSet<>() : new TreeSet<>(Arrays.asList(s.split("\\s+")));
    }

    /** Whether the cgroup or any descendant holds a process (cgroup.events "populated 1"). */
    public static boolean populated(Path cgroup) throws IOException {
        String s = read(cgroup.resolve("cgroup.events"));
        // a line "populated 1", without splitting the file into lines
        for (int at = s.indexOf("populated 1"); at >= 0; at = s.indexOf("populated 1", at + 1))
            if ((at == 0 || s.charAt(at - 1) == '\n') && (at + 11 == s.length() || s.charAt(at + 11) == '\n')) return true;
        return false;
    }

    // Reads relative to a cgroup's open directory (openat): the files of that very cgroup, never of a successor made
    // at the same path, with a walk of one name instead of the whole path; into this thread's buffer, parsed in place
    // (no Path, no String per file).  Adopting N workers makes a few of them per worker.

    private static final ThreadLocal<AsciiBuffer> AT_BUFFER = ThreadLocal.withInitial(AsciiBuffer::new);
    private static final byte[][] POPULATED = AsciiBuffer.names("populated");
    private static final long[] NO_PIDS = {};

    /**
     * {@code name} of the cgroup open as {@code dirfd}, read into this thread's buffer; null if the cgroup is
     * gone (ENODEV, ENOENT: see {@link KeptOpenFile#gone}).  {@code dir} only names it in an error.
     *
     * @param wholeInOneRead true for a file made by one show() (cgroup.events); false for
     *                       cgroup.procs, which comes a page per read
     */
    private static AsciiBuffer readAt(int dirfd, String name, Path dir, boolean wholeInOneRead) throws CgroupException {
        int fd = Libc.openat(dirfd, name, Libc.O_RDONLY | Libc.O_CLOEXEC);
        if (fd < 0) {
            if (KeptOpenFile.gone(-fd)) return null;
            String e = Libc.errnoName(-fd);
            throw new CgroupException(dir.resolve(name), e, "cannot open " + dir.resolve(name) + ": " + e);
        }
        try {
            AsciiBuffer b = AT_BUFFER.get();
            int n = KeptOpenFile.readFd(fd, b, wholeInOneRead);
            if (n >= 0) return b;
            if (KeptOpenFile.gone(-n)) return null;
            String e = Libc.errnoName(-n);
            throw new CgroupException(dir.resolve(name), e, "cannot read " + dir.resolve(name) + ": " + e);
        } finally {
            Libc.close(fd);
        }
    }

    /** As {@link #populated(Path)}, for the cgroup open as {@code dirfd}; false once it is gone. */
    public static boolean populated(int dirfd, Path dir) throws IOException {
        return populated(readAt(dirfd, "cgroup.events", dir, true));
    }

    /**
     * As {@link #populated(Path)}, for the sub-cgroup {@code name} of the directory open as {@code parentFd}
     * (no fd of its own: one openat); false once it is gone, and for an entry that is no directory.
     */
    public static boolean populated(int parentFd, String name, Path parent) throws IOException {
        try {
            return populated(readAt(parentFd, name + "/cgroup.events", parent, true));
        } catch (CgroupException e) {
            if (e.errno().orElse("").equals("ENOTDIR")) return false; // a file of that name, not a cgroup
            throw e;
        }
    }

    private static boolean populated(AsciiBuffer events) {
        if (events == null) return false;
        while (events.nextLine())
            if (events.word(POPULATED) == 0) return events.unsigned() == 1;
        return false;
    }

    private static final int DIRENTS_BYTES = 32 * 1024;
    private static final ThreadLocal<java.lang.foreign.MemorySegment> DIRENTS =
            ThreadLocal.withInitial(() -> java.lang.foreign.Arena.ofAuto().allocate(DIRENTS_BYTES, 8));

    /**
     * The names of the sub-directories of the directory open as {@code dirfd} (which must be freshly opened:
     * getdents64 reads on from its position), sorted.  Types come with the entries (cgroupfs and tmpfs fill
     * d_type), so no stat per entry; an entry of unknown type is probed with openat(O_DIRECTORY).  Symlinks
     * are not followed.  {@code dir} only names it in an error.
     */
    public static List<String> subdirectories(int dirfd, Path dir) throws CgroupException {
        java.lang.foreign.MemorySegment buf = DIRENTS.get();
        List<String> out = new ArrayList<>();
        byte[] name = new byte[256]; // NAME_MAX + 1
        while (true) {
            long n = Libc.getdents64(dirfd, buf);
            if (n == 0) break;
            if (n < 0) {
                if (-n == Errno.EINTR) continue;
                if (-n == Errno.ENOENT) break; // removed while we listed it
                String e = Libc.errnoName((int) -n);
                throw new CgroupException(dir, e, "cannot list " + dir + ": " + e);
            }
            for (long at = 0; at < n; ) {
                int reclen = buf.get(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, at + Libc.DIRENT_RECLEN) & 0xffff;
                if (reclen <= Libc.DIRENT_NAME || at + reclen > n)
                    throw new CgroupException(dir, null, "cannot list " + dir + ": getdents64 returned a record of " + reclen + " bytes at " + at + " of " + n);
                byte type = buf.get(java.lang.foreign.ValueLayout.JAVA_BYTE, at + Libc.DIRENT_TYPE);
                if (type == Libc.DT_DIR || type == Libc.DT_UNKNOWN) {
                    int len = 0;
                    long max = Math.min(reclen - Libc.DIRENT_NAME, name.length);
                    while (len < max && (name[len] = buf.get(java.lang.foreign.ValueLayout.JAVA_BYTE, at + Libc.DIRENT_NAME + len)) != 0) len++;
                    boolean dots = len == 1 && name[0] == '.' || len == 2 && name[0] == '.' && name[1] == '.';
                    String s = new String(name, 0, len, StandardCharsets.UTF_8);
                    if (!dots && (type == Libc.DT_DIR || isDirectoryAt(dirfd, s))) out.add(s);
                }
                at += reclen;
            }
        }
        out.sort(null); // byte order for ASCII names, as the JDK's Path sort
        return out;
    }

    private static boolean isDirectoryAt(int dirfd, String name) {
        int fd = Libc.openat(dirfd, name, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC);
        if (fd < 0) return false;
        Libc.close(fd);
        return true;
    }

    /** The pids cgroup.procs of the cgroup open as {@code dirfd} lists (none once it is gone), in its order. */
    public static long[] pids(int dirfd, Path dir) throws IOException {
        AsciiBuffer b = readAt(dirfd, "cgroup.procs", dir, false);
        if (b == null) return NO_PIDS;
        long[] out = NO_PIDS;
        int n = 0;
        while (b.nextLine()) {
            long pid = b.unsigned();
            if (pid == AsciiBuffer.INVALID) continue; // a blank line; the kernel prints one decimal per line
            if (n == out.length) out = Arrays.copyOf(out, Math.max(4, 2 * n));
            out[n++] = pid;
        }
        return n == out.length ? out : Arrays.copyOf(out, n);
    }
}
