package dev.rbee.hive.monitor.systemd;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A D-Bus connection to systemd through libsystemd's sd-bus, called with FFM
 * (no Maven dependency; the library systemctl and systemd-run use, present
 * wherever systemd is PID 1).  The library is loaded on first use: where it is
 * missing only the systemd placement fails, naming it.  As root the
 * connection goes to systemd's private socket /run/systemd/private (as
 * systemctl does: no dbus-daemon needed); otherwise to the system bus.
 *
 * <p>Not thread-safe: sd-bus objects belong to one thread at a time; every
 * method is synchronized on the connection.
 */
public final class SdBus implements AutoCloseable {
    /** The library, unless the system property {@code rbee.libsystemd} names another (tests). */
    public static final String LIBRARY = "libsystemd.so.0";
    static final Path PRIVATE_SOCKET = Path.of("/run/systemd/private");

    /** sd-bus's functions, bound once per JVM. */
    private static final class Lib {
        final MethodHandle open_system, bus_new, set_address, start, flush_close_unref, new_method_call, append_basic,
                open_container, close_container, call, read_basic, enter_container, exit_container, skip, is_signal,
                message_unref, process, bus_wait, error_free, is_open;

        Lib(SymbolLookup l) {
            Linker k = Linker.nativeLinker();
            open_system = h(k, l, "sd_bus_open_system", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            bus_new = h(k, l, "sd_bus_new", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            set_address = h(k, l, "sd_bus_set_address", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
            start = h(k, l, "sd_bus_start", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            flush_close_unref = h(k, l, "sd_bus_flush_close_unref", FunctionDescriptor.of(ADDRESS, ADDRESS));
            new_method_call = h(k, l, "sd_bus_message_new_method_call",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
            append_basic = h(k, l, "sd_bus_message_append_basic", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_BYTE, ADDRESS));
            open_container = h(k, l, "sd_bus_message_open_container", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_BYTE, ADDRESS));
            close_container = h(k, l, "sd_bus_message_close_container", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            call = h(k, l, "sd_bus_call", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));
            read_basic = h(k, l, "sd_bus_message_read_basic", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_BYTE, ADDRESS));
            enter_container = h(k, l, "sd_bus_message_enter_container", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_BYTE, ADDRESS));
            exit_container = h(k, l, "sd_bus_message_exit_container", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            skip = h(k, l, "sd_bus_message_skip", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
            is_signal = h(k, l, "sd_bus_message_is_signal", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
            message_unref = h(k, l, "sd_bus_message_unref", FunctionDescriptor.of(ADDRESS, ADDRESS));
            process = h(k, l, "sd_bus_process", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
            bus_wait = h(k, l, "sd_bus_wait", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
            error_free = h(k, l, "sd_bus_error_free", FunctionDescriptor.ofVoid(ADDRESS));
            is_open = h(k, l, "sd_bus_is_open", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        }

        private static MethodHandle h(Linker k, SymbolLookup l, String name, FunctionDescriptor fd) {
            return k.downcallHandle(l.find(name).orElseThrow(() -> new IllegalArgumentException("no symbol " + name)), fd);
        }
    }

    private static Lib lib;
    private static String libName;

    /** The library, loaded now if not yet; fails naming it (a failure is not kept: a later call tries again). */
    static synchronized Lib lib() throws SdBusException {
        String name = System.getProperty("rbee.libsystemd", LIBRARY);
        if (lib != null && name.equals(libName)) return lib;
        {
            try {
                lib = new Lib(SymbolLookup.libraryLookup(name, Arena.global()));
                libName = name;
            } catch (IllegalArgumentException e) {
                throw new SdBusException(Optional.empty(), "cannot load " + name + " (libsystemd's sd-bus, the D-Bus client of "
                        + "the systemd placement): " + e.getMessage() + "; install libsystemd0, or choose another placement");
            }
            return lib;
        }
    }

    private final Lib l;
    private final MemorySegment bus;
    private final boolean direct;
    private boolean closed;

    private SdBus(Lib l, MemorySegment bus, boolean direct) {
        this.l = l;
        this.bus = bus;
        this.direct = direct;
    }

    /**
     * Connects: systemd's private socket when it is there and ours to use (root), else the system bus.
     *
     * @return an open connection
     * @throws SdBusException naming the socket and the errno
     */
    public static SdBus connect() throws SdBusException {
        Lib l = lib();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ret = a.allocate(ADDRESS);
            if (Files.exists(PRIVATE_SOCKET) && Files.isWritable(PRIVATE_SOCKET)) {
                check((int) l.bus_new.invokeExact(ret), "sd_bus_new");
                MemorySegment b = ret.get(ADDRESS, 0);
                int r = (int) l.set_address.invokeExact(b, a.allocateFrom("unix:path=" + PRIVATE_SOCKET));
                if (r >= 0) r = (int) l.start.invokeExact(b);
                if (r >= 0) return new SdBus(l, b, true);
                MemorySegment ignored = (MemorySegment) l.flush_close_unref.invokeExact(b);
                throw new SdBusException(Optional.of(-r), "cannot connect to systemd at " + PRIVATE_SOCKET + ": " + errno(-r));
            }
            int r = (int) l.open_system.invokeExact(ret);
            if (r < 0) throw new SdBusException(Optional.of(-r), "cannot connect to the system bus (/run/dbus/system_bus_socket): "
                    + errno(-r));
            return new SdBus(l, ret.get(ADDRESS, 0), false);
        } catch (SdBusException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Whether this connection goes straight to systemd (no bus daemon: no AddMatch needed). */
    public boolean direct() {
        return direct;
    }

    /** Whether the connection still works (false once systemd or the bus dropped it). */
    public synchronized boolean isOpen() {
        if (closed) return false;
        try {
            return (int) l.is_open.invokeExact(bus) > 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A method call being built, then sent with {@link #call}; owns native memory until then. */
    public final class Call implements AutoCloseable {
        final Arena arena = Arena.ofConfined();
        final MemorySegment m;

        Call(String dest, String path, String iface, String member) throws SdBusException {
            try {
                MemorySegment ret = arena.allocate(ADDRESS);
                check((int) l.new_method_call.invokeExact(bus, ret, arena.allocateFrom(dest), arena.allocateFrom(path),
                        arena.allocateFrom(iface), arena.allocateFrom(member)), "sd_bus_message_new_method_call " + member);
                m = ret.get(ADDRESS, 0);
            } catch (SdBusException e) {
                arena.close();
                throw e;
            } catch (Throwable t) {
                arena.close();
                throw rethrow(t);
            }
        }

        /** Appends a string ('s') or an object path ('o'). */
        public Call str(char type, String v) throws SdBusException {
            return basic(type, arena.allocateFrom(v));
        }

        /** Appends a boolean. */
        public Call bool(boolean v) throws SdBusException {
            return basic('b', arena.allocateFrom(JAVA_INT, v ? 1 : 0));
        }

        /** Appends a uint32. */
        public Call u32(int v) throws SdBusException {
            return basic('u', arena.allocateFrom(JAVA_INT, v));
        }

        private Call basic(char type, MemorySegment p) throws SdBusException {
            call(() -> (int) l.append_basic.invokeExact(m, (byte) type, p), "sd_bus_message_append_basic " + type);
            return this;
        }

        /** Opens a container: 'a' (array of {@code contents}), 'r' (struct), 'v' (variant of {@code contents}), 'e'. */
        public Call open(char type, String contents) throws SdBusException {
            MemorySegment c = arena.allocateFrom(contents);
            call(() -> (int) l.open_container.invokeExact(m, (byte) type, c), "open_container " + type + contents);
            return this;
        }

        /** Closes the innermost open container. */
        public Call end() throws SdBusException {
            call(() -> (int) l.close_container.invokeExact(m), "close_container");
            return this;
        }

        /** A property (sv) with a string value, in an open a(sv). */
        public Call property(String name, String value) throws SdBusException {
            return open('r', "sv").str('s', name).open('v', "s").str('s', value).end().end();
        }

        /** A property (sv) with a boolean value. */
        public Call property(String name, boolean value) throws SdBusException {
            return open('r', "sv").str('s', name).open('v', "b").bool(value).end().end();
        }

        @Override
        public void close() {
            try {
                MemorySegment ignored = (MemorySegment) l.message_unref.invokeExact(m);
            } catch (Throwable t) {
                throw rethrow(t);
            } finally {
                arena.close();
            }
        }
    }

    /** A received message (a reply or a signal): read in order, then closed. */
    public final class Message implements AutoCloseable {
        final Arena arena = Arena.ofConfined();
        final MemorySegment m;

        Message(MemorySegment m) {
            this.m = m;
        }

        /** Reads a string ('s') or object path ('o'). */
        public String str(char type) throws SdBusException {
            MemorySegment p = arena.allocate(ADDRESS);
            call(() -> (int) l.read_basic.invokeExact(m, (byte) type, p), "read " + type);
            return p.get(ADDRESS, 0).reinterpret(Integer.MAX_VALUE).getString(0);
        }

        /** Reads a uint32. */
        public int u32() throws SdBusException {
            MemorySegment p = arena.allocate(JAVA_INT);
            call(() -> (int) l.read_basic.invokeExact(m, (byte) 'u', p), "read u");
            return p.get(JAVA_INT, 0);
        }

        /** Enters a container ('v' with its contents' signature). */
        public Message enter(char type, String contents) throws SdBusException {
            MemorySegment c = arena.allocateFrom(contents);
            call(() -> (int) l.enter_container.invokeExact(m, (byte) type, c), "enter " + type + contents);
            return this;
        }

        /** Whether this is the signal {@code iface.member}. */
        public boolean isSignal(String iface, String member) {
            try {
                return (int) l.is_signal.invokeExact(m, arena.allocateFrom(iface), arena.allocateFrom(member)) > 0;
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }

        @Override
        public void close() {
            try {
                MemorySegment ignored = (MemorySegment) l.message_unref.invokeExact(m);
            } catch (Throwable t) {
                throw rethrow(t);
            } finally {
                arena.close();
            }
        }
    }

    /** A method call to build: {@code try (var c = bus.method(...)) { c.str(...); try (var reply = bus.call(c, ...)) ... }}. */
    public synchronized Call method(String dest, String path, String iface, String member) throws SdBusException {
        ensureOpen();
        return new Call(dest, path, iface, member);
    }

    /**
     * Sends {@code c} and waits for the reply (signals that arrive meanwhile are queued for {@link #next}).
     *
     * @param c         the call
     * @param timeoutMs how long to wait for the reply
     * @return the reply
     * @throws SdBusException with the D-Bus error name and message, or the errno
     */
    public synchronized Message call(Call c, long timeoutMs) throws SdBusException {
        ensureOpen();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = a.allocate(24); // sd_bus_error {const char *name, *message; int _need_free;}
            MemorySegment reply = a.allocate(ADDRESS);
            int r = (int) l.call.invokeExact(bus, c.m, timeoutMs * 1000, err, reply);
            if (r < 0) {
                MemorySegment name = err.get(ADDRESS, 0), msg = err.get(ADDRESS, 8);
                String n = name.equals(MemorySegment.NULL) ? null : name.reinterpret(Integer.MAX_VALUE).getString(0);
                String s = msg.equals(MemorySegment.NULL) ? null : msg.reinterpret(Integer.MAX_VALUE).getString(0);
                l.error_free.invokeExact(err);
                throw new SdBusException(Optional.of(-r), Optional.ofNullable(n), (n == null ? errno(-r) : n + ": " + s));
            }
            return new Message(reply.get(ADDRESS, 0));
        } catch (SdBusException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * The next incoming message nobody handled (signals), waiting up to {@code timeoutMs}.
     *
     * @return the message, or empty when the time ran out
     * @throws SdBusException if the connection broke
     */
    public synchronized Optional<Message> next(long timeoutMs) throws SdBusException {
        ensureOpen();
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ret = a.allocate(ADDRESS);
            while (true) {
                ret.set(ADDRESS, 0, MemorySegment.NULL);
                int r = (int) l.process.invokeExact(bus, ret);
                if (r < 0) throw new SdBusException(Optional.of(-r), "sd_bus_process: " + errno(-r) + " (connection to systemd lost)");
                MemorySegment msg = ret.get(ADDRESS, 0);
                if (!msg.equals(MemorySegment.NULL)) return Optional.of(new Message(msg));
                if (r > 0) continue; // did some work (a reply, an internal message): look again
                long left = deadline - System.nanoTime();
                if (left <= 0) return Optional.empty();
                r = (int) l.bus_wait.invokeExact(bus, Math.max(1, left / 1000));
                if (r < 0) throw new SdBusException(Optional.of(-r), "sd_bus_wait: " + errno(-r) + " (connection to systemd lost)");
            }
        } catch (SdBusException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private void ensureOpen() throws SdBusException {
        if (closed) throw new SdBusException(Optional.empty(), "connection to systemd closed");
    }

    /** Closes the connection (idempotent). */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        try {
            MemorySegment ignored = (MemorySegment) l.flush_close_unref.invokeExact(bus);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A downcall that answers sd-bus's way: a negative errno on failure. */
    @FunctionalInterface
    private interface Downcall {
        int invoke() throws Throwable;
    }

    /** Makes the downcall; a negative answer is an {@link SdBusException} naming {@code what} and the errno. */
    private static void call(Downcall d, String what) throws SdBusException {
        int r;
        try {
            r = d.invoke();
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(r, what);
    }

    private static void check(int r, String what) throws SdBusException {
        if (r < 0) throw new SdBusException(Optional.of(-r), what + ": " + errno(-r));
    }

    static String errno(int e) {
        return dev.rbee.hive.monitor.internal.Libc.errnoName(e);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }
}
