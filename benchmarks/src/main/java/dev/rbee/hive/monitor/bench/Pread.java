package dev.rbee.hive.monitor.bench;

import dev.rbee.hive.monitor.internal.Libc;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * pread(2) through FFM on a kept-open fd into one native buffer: the
 * "do it yourself with java.lang.foreign" way, no errno capture, no parsing.
 */
@SuppressWarnings("restricted") // FFM downcalls: the JVM runs with --enable-native-access
final class Pread implements AutoCloseable {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final FunctionDescriptor PREAD_TYPE = FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle PREAD = LINKER.downcallHandle(
            LINKER.defaultLookup().find("pread").orElseThrow(), PREAD_TYPE);
    /**
     * The same call as a "critical" downcall: no thread-state transition
     * (the JVM cannot safepoint this thread during it), fine for a read of a
     * pseudo file that never blocks for long.
     */
    private static final MethodHandle PREAD_CRITICAL = LINKER.downcallHandle(
            LINKER.defaultLookup().find("pread").orElseThrow(), PREAD_TYPE, Linker.Option.critical(false));

    private final Arena arena = Arena.ofShared();
    private final MemorySegment buf = arena.allocate(4096, 64);
    private final int[] fds;

    Pread(java.util.List<Path> files) throws IOException {
        fds = new int[files.size()];
        for (int i = 0; i < fds.length; i++) {
            int fd = Libc.open(files.get(i).toString(), Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
            if (fd < 0) {
                close();
                throw new IOException("open " + files.get(i) + ": " + Libc.errnoName(-fd));
            }
            fds[i] = fd;
        }
    }

    /** Reads file {@code i} from offset 0; returns the byte count. */
    long read(int i) {
        try {
            long n = (long) PREAD.invokeExact(fds[i], buf, buf.byteSize(), 0L);
            if (n < 0) throw new IllegalStateException("pread failed on fd " + fds[i]);
            return n;
        } catch (Throwable t) {
            if (t instanceof RuntimeException r) throw r;
            throw new IllegalStateException(t);
        }
    }

    /** As {@link #read}, through the critical downcall. */
    long readCritical(int i) {
        try {
            long n = (long) PREAD_CRITICAL.invokeExact(fds[i], buf, buf.byteSize(), 0L);
            if (n < 0) throw new IllegalStateException("pread failed on fd " + fds[i]);
            return n;
        } catch (Throwable t) {
            if (t instanceof RuntimeException r) throw r;
            throw new IllegalStateException(t);
        }
    }

    /** Reads every file once; returns the total byte count. */
    long readAll() {
        long total = 0;
        for (int i = 0; i < fds.length; i++) total += read(i);
        return total;
    }

    int count() {
        return fds.length;
    }

    @Override
    public void close() {
        for (int fd : fds) if (fd > 0) Libc.close(fd);
        arena.close();
    }
}
