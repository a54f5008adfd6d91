package dev.rbee.hive.monitor.spawn;

import dev.rbee.hive.monitor.internal.Errno;
import dev.rbee.hive.monitor.internal.Libc;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicInteger;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * Streams over a raw pipe fd, for the native path's workers.  The JDK has no
 * public way to wrap an int fd (FileInputStream takes only a FileDescriptor it
 * made itself); reopening /proc/self/fd/N would work for pipes but costs an
 * open(2) and a second fd per stream.  So: read(2)/write(2) through FFM into
 * a small native buffer, made on first use (a worker whose output nobody reads
 * costs no buffer).
 *
 * <p>The fd is closed once, by {@link #close} or, for a stream dropped
 * unclosed, by a Cleaner: no fd outlives its stream.  Threading: one reader
 * (or writer) at a time, as for any stream; close may come from any thread,
 * but closing while another thread is blocked in read is not supported (the
 * fd number could be reused under it) - a process's exit ends such a read
 * with end-of-file instead.
 */
final class FdStreams {
    private static final Cleaner CLEANER = Cleaner.create(r -> {
        Thread t = new Thread(r, "rbee-fd-cleaner");
        t.setDaemon(true);
        return t;
    });
    private static final int BUFFER = 8192;

    private FdStreams() {}

    /** The fd, closed exactly once (by close or by the Cleaner). */
    private static final class Fd implements Runnable {
        final AtomicInteger fd;

        Fd(int fd) {
            this.fd = new AtomicInteger(fd);
        }

        int get() throws IOException {
            int f = fd.get();
            if (f < 0) throw new IOException("Stream closed");
            return f;
        }

        @Override
        public void run() {
            int f = fd.getAndSet(-1);
            if (f >= 0) Libc.close(f);
        }
    }

    /** The read end of a pipe. */
    static final class In extends InputStream {
        private final Fd fd;
        private final Cleaner.Cleanable cleanable;
        private MemorySegment buf;

        In(int fd) {
            this.fd = new Fd(fd);
            this.cleanable = CLEANER.register(this, this.fd);
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public synchronized int read(byte[] b, int off, int len) throws IOException {
            java.util.Objects.checkFromIndexSize(off, len, b.length);
            if (len == 0) return 0;
            if (buf == null) buf = Arena.ofAuto().allocate(BUFFER);
            MemorySegment into = buf.asSlice(0, Math.min(len, BUFFER));
            while (true) {
                long n = Libc.read(fd.get(), into);
                if (n == -Errno.EINTR) continue;
                if (n < 0) throw new IOException("read from pipe fd " + fd.fd.get() + ": " + Libc.errnoName((int) -n));
                if (n == 0) return -1;
                MemorySegment.copy(into, JAVA_BYTE, 0, b, off, (int) n);
                return (int) n;
            }
        }

        @Override
        public void close() {
            cleanable.clean();
        }
    }

    /** The write end of a pipe. */
    static final class Out extends OutputStream {
        private final Fd fd;
        private final Cleaner.Cleanable cleanable;
        private MemorySegment buf;

        Out(int fd) {
            this.fd = new Fd(fd);
            this.cleanable = CLEANER.register(this, this.fd);
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) throws IOException {
            java.util.Objects.checkFromIndexSize(off, len, b.length);
            if (buf == null) buf = Arena.ofAuto().allocate(BUFFER);
            while (len > 0) {
                int chunk = Math.min(len, BUFFER);
                MemorySegment.copy(b, off, buf, JAVA_BYTE, 0, chunk);
                int done = 0;
                while (done < chunk) {
                    long n = Libc.write(fd.get(), buf.asSlice(done, chunk - done));
                    if (n == -Errno.EINTR) continue;
                    if (n < 0) throw new IOException("write to pipe fd " + fd.fd.get() + ": " + Libc.errnoName((int) -n));
                    done += (int) n;
                }
                off += chunk;
                len -= chunk;
            }
        }

        @Override
        public void close() {
            cleanable.clean();
        }
    }
}
