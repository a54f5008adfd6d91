package dev.rbee.hive.monitor.cli;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.rbee.hive.monitor.ExitReport;
import dev.rbee.hive.monitor.Names;
import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.Sampler;
import dev.rbee.hive.monitor.Snapshot;
import dev.rbee.hive.monitor.json.Prometheus;
import dev.rbee.hive.monitor.json.Wire;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * The HTTP face of a hive monitor, on the JDK's built-in server:
 * <ul>
 * <li>{@code GET /v1/heartbeats/stream}: server-sent events, one HiveTelemetry JSON per sampling round;</li>
 * <li>{@code GET /v1/workers}: the last round's workers as JSON;</li>
 * <li>{@code GET /metrics}: Prometheus text exposition 0.0.4;</li>
 * <li>{@code POST /v1/workers/{group}/{instance}/stop[?grace=10s]}: only with
 *     {@link Options#allowControl}, and then only from loopback unless a token
 *     is configured (then {@code Authorization: Bearer TOKEN} from anywhere).</li>
 * </ul>
 * One {@link Sampler} feeds every client.  Each exchange runs on its own
 * virtual thread, at most {@code maxExchanges} at once (a slow client costs a
 * parked virtual thread, not a pool slot; beyond the bound the connection is
 * closed); each event stream has its own virtual thread that writes from a short queue
 * (a slow client loses old events, never stalls the others, and is dropped
 * after {@link Options#stallTimeout}); a client that went away is dropped at
 * the next failed write.  Streams, concurrent stops and request bodies are bounded.
 *
 * <pre>{@code
 * try (Server s = Server.start(ProcessMonitor.create(), new Server.Options().port(0))) {
 *     System.out.println("listening on " + s.port());
 * }
 * }</pre>
 */
public final class Server implements AutoCloseable {
    static final String STREAM = "/v1/heartbeats/stream", WORKERS = "/v1/workers", METRICS = "/metrics";
    private static final String TEXT = "text/plain; charset=utf-8", JSON = "application/json";

    /** Settings; the defaults are those of {@code rbee-mon serve}. */
    public static final class Options {
        InetAddress bind = InetAddress.getLoopbackAddress();
        int port = 7835;
        Duration interval = Duration.ofSeconds(1);
        boolean allowControl;
        Optional<String> token = Optional.empty();
        String hiveId = Format.hostName();
        int maxStreams = 256;
        int maxBodyBytes = 64 * 1024;
        int maxExchanges = 512;
        int maxConcurrentStops = 16;
        Duration maxGrace = Duration.ofMinutes(10);
        Duration stallTimeout = Duration.ofSeconds(30);
        boolean gpu = true;

        public Options bind(InetAddress a) { bind = a; return this; }
        /** 0: any free port (see {@link Server#port()}). */
        public Options port(int p) { port = p; return this; }
        public Options interval(Duration d) { interval = d; return this; }
        public Options allowControl(boolean b) { allowControl = b; return this; }
        public Options token(String t) {
            if (t != null && t.isBlank()) throw new IllegalArgumentException("the token must not be blank");
            token = Optional.ofNullable(t);
            return this;
        }
        public Options hiveId(String id) { hiveId = id; return this; }
        public Options maxStreams(int n) { maxStreams = n; return this; }
        public Options maxBodyBytes(int n) { maxBodyBytes = n; return this; }
        /** Requests handled at once (each on a virtual thread); beyond that new connections are closed. */
        public Options maxExchanges(int n) { maxExchanges = n; return this; }
        /** A client that has not taken an event for this long is disconnected. */
        public Options stallTimeout(Duration d) { stallTimeout = d; return this; }
        public Options gpu(boolean b) { gpu = b; return this; }
    }

    private final ProcessMonitor monitor;
    private final Options opt;
    private final Sampler sampler;
    private final HttpServer http;
    private final BoundedExecutor exchanges;
    private final EventStreams streams;
    private final Semaphore stops;
    private final Consumer<Snapshot> listener;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Server(ProcessMonitor monitor, Options opt) throws IOException {
        this.monitor = monitor;
        this.opt = opt;
        this.stops = new Semaphore(opt.maxConcurrentStops);
        this.streams = new EventStreams(opt.maxStreams, opt.interval, opt.stallTimeout);
        this.sampler = monitor.sampler().interval(opt.interval).gpu(opt.gpu).start();
        this.listener = snap -> streams.publish(event(snap));
        sampler.addListener(listener);
        this.exchanges = new BoundedExecutor(opt.maxExchanges);
        try {
            this.http = HttpServer.create(new InetSocketAddress(opt.bind, opt.port), 128);
        } catch (IOException e) {
            sampler.close();
            throw new IOException("cannot listen on " + opt.bind.getHostAddress() + ":" + opt.port + ": " + e.getMessage(), e);
        }
        http.createContext("/", this::handle);
        http.setExecutor(exchanges);
        http.start();
    }

    /** Starts sampling {@code monitor} and serving; {@link #close} stops both. */
    public static Server start(ProcessMonitor monitor, Options options) throws IOException {
        return new Server(monitor, options);
    }

    /** The port bound (the one chosen by the system for port 0). */
    public int port() {
        return http.getAddress().getPort();
    }

    public InetSocketAddress address() {
        return http.getAddress();
    }

    /** Event streams now open. */
    public int openStreams() {
        return streams.open();
    }

    /** Exchanges being handled now (each on a virtual thread), event streams not included once attached. */
    public int activeExchanges() {
        return exchanges.active();
    }

    /** Stream writer threads still running (virtual threads: not in {@link Thread#activeCount()}). */
    public int streamThreads() {
        return streams.threads();
    }

    private byte[] event(Snapshot s) {
        // Jackson writes no raw line breaks: one "data:" line per event.
        return ("data: " + Wire.json(Wire.hiveTelemetry(opt.hiveId, s)) + "\n\n").getBytes(StandardCharsets.UTF_8);
    }

    // ---- routing ------------------------------------------------------------------------------

    private void handle(HttpExchange ex) {
        boolean async = false;
        try {
            async = route(ex);
        } catch (HttpError e) {
            reply(ex, e.status, e.headers, TEXT, (e.getMessage() + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (Exception | Error e) {
            reply(ex, 500, Map.of(), TEXT, ("internal error: " + e + "\n").getBytes(StandardCharsets.UTF_8));
        } finally {
            if (!async) ex.close();
        }
    }

    /** Returns true when the exchange was handed to another thread (which then closes it). */
    private boolean route(HttpExchange ex) throws Exception {
        String path = ex.getRequestURI().getRawPath();
        String method = ex.getRequestMethod();
        if (path.equals(STREAM)) {
            only(ex, "GET");
            readBody(ex);
            return stream(ex);
        }
        if (path.equals(WORKERS)) {
            only(ex, "GET");
            readBody(ex);
            reply(ex, 200, Map.of(), JSON, Wire.json(workers(current())).getBytes(StandardCharsets.UTF_8));
            return false;
        }
        if (path.equals(METRICS)) {
            only(ex, "GET");
            readBody(ex);
            reply(ex, 200, Map.of(), Prometheus.CONTENT_TYPE, Prometheus.metrics(current()).getBytes(StandardCharsets.UTF_8));
            return false;
        }
        if (path.equals("/")) {
            only(ex, "GET");
            readBody(ex);
            reply(ex, 200, Map.of(), TEXT, ("rbee-mon serve (hive " + opt.hiveId + ")\n"
                    + "GET  " + STREAM + "   server-sent events, one HiveTelemetry JSON per " + Format.duration(opt.interval) + "\n"
                    + "GET  " + WORKERS + "             the workers of the last sampling round, JSON\n"
                    + "GET  " + METRICS + "                Prometheus text format 0.0.4\n"
                    + "POST " + WORKERS + "/{group}/{instance}/stop[?grace=10s]   "
                    + (opt.allowControl ? "enabled" : "disabled (start with --allow-control)") + "\n")
                    .getBytes(StandardCharsets.UTF_8));
            return false;
        }
        String[] seg = path.split("/", -1); // "", "v1", "workers", group, instance, "stop"
        if (seg.length == 6 && seg[0].isEmpty() && seg[1].equals("v1") && seg[2].equals("workers") && seg[5].equals("stop")) {
            only(ex, "POST");
            readBody(ex);
            return stop(ex, seg[3], seg[4]);
        }
        throw new HttpError(404, "no such endpoint: " + method + " " + shorten(path)
                + " (endpoints: GET " + STREAM + ", GET " + WORKERS + ", GET " + METRICS
                + ", POST " + WORKERS + "/{group}/{instance}/stop)");
    }

    private static void only(HttpExchange ex, String method) throws HttpError {
        if (!ex.getRequestMethod().equals(method))
            throw new HttpError(405, "method " + shorten(ex.getRequestMethod()) + " not allowed on "
                    + shorten(ex.getRequestURI().getRawPath()) + ": use " + method, Map.of("Allow", method));
    }

    /**
     * Reads the request body, refusing (413) one longer than the limit.  An
     * over-long body is read and dropped up to 16 times the limit, so that the
     * client, still sending, gets to see the answer; past that the connection closes.
     */
    private byte[] readBody(HttpExchange ex) throws IOException, HttpError {
        long limit = opt.maxBodyBytes;
        String declared = ex.getRequestHeaders().getFirst("Content-Length");
        long length = -1;
        if (declared != null) {
            try {
                length = Long.parseLong(declared.strip());
            } catch (NumberFormatException e) {
                throw new HttpError(400, "invalid Content-Length \"" + shorten(declared) + "\"");
            }
        }
        InputStream in = ex.getRequestBody();
        if (length > limit) {
            if (length <= limit * 16) in.skipNBytes(length);
            throw tooLarge(length + " bytes");
        }
        byte[] body = in.readNBytes((int) limit + 1);
        if (body.length > limit) {
            long more = 0;
            while (more < limit * 16) {
                long k = in.skip(limit * 16 - more);
                if (k <= 0) break;
                more += k;
            }
            throw tooLarge("more than " + limit + " bytes");
        }
        return body;
    }

    private HttpError tooLarge(String what) {
        return new HttpError(413, "request body too large: " + what + " (limit " + opt.maxBodyBytes + " bytes)",
                Map.of("Connection", "close"));
    }

    private Snapshot current() throws InterruptedException, HttpError {
        Optional<Snapshot> s = sampler.latest();
        if (s.isPresent()) return s.get();
        try {
            return sampler.awaitFirst(opt.interval.multipliedBy(3).plusSeconds(5));
        } catch (IllegalStateException e) {
            throw new HttpError(503, "no sample yet: " + e.getMessage(), Map.of("Retry-After", "1"));
        }
    }

    private Map<String, Object> workers(Snapshot s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("hive_id", opt.hiveId);
        m.put("ts", s.timestamp().toString());
        m.put("workers", s.workers().stream().map(Wire::worker).toList());
        if (!s.errors().isEmpty()) m.put("errors", s.errors());
        return m;
    }

    // ---- event stream -------------------------------------------------------------------------

    private boolean stream(HttpExchange ex) throws IOException, HttpError {
        if (!streams.reserve())
            throw new HttpError(503, "too many event streams (limit " + opt.maxStreams + "): try again later",
                    Map.of("Retry-After", "5"));
        try {
            Headers h = ex.getResponseHeaders();
            h.set("Content-Type", "text/event-stream; charset=utf-8");
            h.set("Cache-Control", "no-cache");
            h.set("X-Accel-Buffering", "no");
            ex.sendResponseHeaders(200, 0);
        } catch (IOException | RuntimeException e) {
            streams.release();
            throw e;
        }
        streams.attach(ex);
        return true;
    }

    // ---- control ------------------------------------------------------------------------------

    private boolean stop(HttpExchange ex, String rawGroup, String rawInstance) throws HttpError {
        if (!opt.allowControl)
            throw new HttpError(403, "control is disabled: start rbee-mon serve with --allow-control to stop workers over HTTP");
        if (opt.token.isPresent()) {
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            byte[] want = ("Bearer " + opt.token.get()).getBytes(StandardCharsets.UTF_8);
            if (auth == null || !MessageDigest.isEqual(auth.strip().getBytes(StandardCharsets.UTF_8), want))
                throw new HttpError(401, (auth == null ? "missing" : "wrong") + " token: send \"Authorization: Bearer TOKEN\"",
                        Map.of("WWW-Authenticate", "Bearer realm=\"rbee-mon\""));
        } else if (!ex.getRemoteAddress().getAddress().isLoopbackAddress()) {
            throw new HttpError(403, "control is allowed only from loopback (configure --token to allow it from "
                    + ex.getRemoteAddress().getAddress().getHostAddress() + ")");
        }
        String group = name("group", rawGroup), instance = name("instance", rawInstance);
        Duration grace = grace(ex.getRequestURI().getRawQuery());
        if (!stops.tryAcquire())
            throw new HttpError(503, "too many stops in progress (limit " + opt.maxConcurrentStops + ")",
                    Map.of("Retry-After", "1"));
        try {
            // This can take the whole grace period: the exchange has a virtual thread of its own.
            Optional<ExitReport> r = monitor.stop(group, instance, grace);
            if (r.isEmpty()) throw new HttpError(404, "no live worker " + group + "/" + instance);
            reply(ex, 200, Map.of(), JSON, Wire.json(Wire.exitReport(r.get())).getBytes(StandardCharsets.UTF_8));
        } catch (IOException | InterruptedException | RuntimeException e) {
            throw new HttpError(500, "stopping " + group + "/" + instance + " failed: " + e.getMessage());
        } finally {
            stops.release();
        }
        return false;
    }

    private static String name(String what, String raw) throws HttpError {
        String v;
        try {
            v = URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new HttpError(400, "invalid " + what + ": bad percent-encoding in \"" + shorten(raw) + "\"");
        }
        try {
            return Names.check(what, v);
        } catch (IllegalArgumentException e) {
            throw new HttpError(400, e.getMessage());
        }
    }

    private Duration grace(String rawQuery) throws HttpError {
        Duration grace = Duration.ofSeconds(10);
        if (rawQuery == null || rawQuery.isEmpty()) return grace;
        for (String kv : rawQuery.split("&")) {
            int eq = kv.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? kv : kv.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8);
            if (!k.equals("grace")) throw new HttpError(400, "unknown query parameter \"" + shorten(k) + "\" (known: grace)");
            try {
                grace = Durations.parse(v);
            } catch (IllegalArgumentException e) {
                throw new HttpError(400, "grace: " + e.getMessage());
            }
            if (grace.compareTo(opt.maxGrace) > 0)
                throw new HttpError(400, "grace " + v + " is longer than the limit " + Format.duration(opt.maxGrace));
        }
        return grace;
    }

    // ---- replies ------------------------------------------------------------------------------

    private static void reply(HttpExchange ex, int status, Map<String, String> headers, String type, byte[] body) {
        try {
            Headers h = ex.getResponseHeaders();
            headers.forEach(h::set);
            h.set("Content-Type", type);
            h.set("Cache-Control", "no-store");
            ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
            if (body.length > 0) ex.getResponseBody().write(body);
        } catch (IOException | RuntimeException e) {
            // the client went away (or headers were already sent): nothing more to say to it
        }
    }

    /** A value for an error message: at most 200 characters, control characters escaped. */
    static String shorten(String v) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < v.length() && i < 200; i++) {
            char c = v.charAt(i);
            if (c < 0x20 || c == 0x7f) b.append(String.format("\\x%02x", (int) c));
            else b.append(c);
        }
        if (v.length() > 200) b.append("...");
        return b.toString();
    }

    /** Each task on a new virtual thread, at most {@code max} at once; beyond that execute() throws. */
    static final class BoundedExecutor implements Executor {
        private final int max;
        private final Semaphore permits;
        private final ThreadFactory threads = Thread.ofVirtual().name("rbee-http-", 1).factory();

        BoundedExecutor(int max) {
            this.max = max;
            this.permits = new Semaphore(max);
        }

        @Override
        public void execute(Runnable task) {
            // Rejected: the JDK server closes that connection.
            if (!permits.tryAcquire()) throw new RejectedExecutionException(max + " exchanges in progress");
            try {
                threads.newThread(() -> {
                    try {
                        task.run();
                    } finally {
                        permits.release();
                    }
                }).start();
            } catch (RuntimeException | Error e) {
                permits.release();
                throw e;
            }
        }

        int active() {
            return max - permits.availablePermits();
        }

        boolean awaitIdle(Duration timeout) throws InterruptedException {
            if (!permits.tryAcquire(max, timeout.toMillis(), TimeUnit.MILLISECONDS)) return false;
            permits.release(max);
            return true;
        }
    }

    /** An answer other than 200, with its message. */
    static final class HttpError extends Exception {
        final int status;
        final Map<String, String> headers;

        HttpError(int status, String message) {
            this(status, message, Map.of());
        }

        HttpError(int status, String message, Map<String, String> headers) {
            super(message, null, false, false);
            this.status = status;
            this.headers = headers;
        }
    }

    /** Stops serving and sampling: closes the listener, every stream and the request pool. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        sampler.removeListener(listener);
        sampler.close();
        streams.closeAll();
        http.stop(0);
        try {
            exchanges.awaitIdle(Duration.ofSeconds(5));
            streams.awaitThreads(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
