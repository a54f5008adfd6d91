package dev.rbee.hive.monitor.cli;

import dev.rbee.hive.monitor.model.ExitReport;
import dev.rbee.hive.monitor.model.Names;
import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.Sampler;
import dev.rbee.hive.monitor.model.Snapshot;
import dev.rbee.hive.monitor.json.Prometheus;
import dev.rbee.hive.monitor.json.Wire;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.VirtualThreadPool;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * The HTTP face of a hive monitor, on Jetty 12 (core, no servlets):
 * <ul>
 * <li>{@code GET /v1/heartbeats/stream}: server-sent events, one HiveTelemetry JSON per sampling round,
 *     each with an id; {@code Last-Event-ID} replays what a reconnecting client missed;</li>
 * <li>{@code GET /v1/workers}: the last round's workers as JSON;</li>
 * <li>{@code GET /metrics}: Prometheus text 0.0.4, or OpenMetrics 1.0 when the Accept header asks;</li>
 * <li>{@code GET /}: the live page ({@link Page}), fed by the event stream;</li>
 * <li>{@code POST /v1/workers/{group}/{instance}/stop[?grace=10s]}: only with
 *     {@link Options#allowControl}; the Host must be one of this server's names,
 *     a browser's Origin this server itself, and the client on loopback, or,
 *     with a token, {@code Authorization: Bearer TOKEN} from anywhere.</li>
 * </ul>
 * GET endpoints also answer HEAD; every endpoint answers OPTIONS.
 *
 * <p>Why Jetty and not the JDK's HttpServer (the first version): that server
 * reads request heads on its executor with no deadline (a client that sends
 * nothing holds a slot; its only timeouts are JVM-wide {@code sun.net.httpserver.*}
 * properties), gives no hook at accept time to count connections per client,
 * and warns on stderr for HEAD.  Jetty reads with non-blocking I/O (an idle
 * socket costs no thread), has per-connection idle timeouts and connection
 * listeners; {@link ConnectionGuard} adds the head deadline and the per-client
 * and total bounds (503 beyond).
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
    private static final String GET_ALLOW = "GET, HEAD, OPTIONS", POST_ALLOW = "POST, OPTIONS";

    /** Settings; the defaults are those of {@code rbee-mon serve}. */
    public static final class Options {
        InetAddress bind = InetAddress.getLoopbackAddress();
        int port = 7835;
        Duration interval = Duration.ofSeconds(1);
        boolean allowControl;
        Optional<String> token = Optional.empty();
        String hiveId = Format.hostName();
        Set<String> allowedHosts = new LinkedHashSet<>();
        int maxStreams = 256;
        int maxBodyBytes = 64 * 1024;
        int maxConnections = 1024;
        int maxConnectionsPerClient = 64;
        int maxConcurrentStops = 16;
        int replayEvents = 120;
        long replayBytes = 32L << 20;
        Duration headerTimeout = Duration.ofSeconds(10);
        Duration bodyTimeout = Duration.ofSeconds(10);
        Duration idleTimeout = Duration.ofSeconds(30);
        Duration maxGrace = Duration.ofMinutes(10);
        Duration stallTimeout = Duration.ofSeconds(30);
        boolean gpu = true;

        public Options bind(InetAddress a) { bind = a; return this; }
        /** 0: any free port (see {@link Server#port()}). */
        public Options port(int p) { port = p; return this; }
        public Options interval(Duration d) { interval = d; return this; }
        public Options allowControl(boolean b) { allowControl = b; return this; }
        public Options token(String t) {
            if (t == null || t.isBlank()) throw new IllegalArgumentException("the token must not be blank");
            token = Optional.of(t);
            return this;
        }
        public Options hiveId(String id) { hiveId = id; return this; }
        /** A further name clients may use in Host and Origin for control (beside loopback names and the bind address). */
        public Options allowHost(String h) { allowedHosts.add(h.toLowerCase(Locale.ROOT)); return this; }
        public Options maxStreams(int n) { maxStreams = n; return this; }
        public Options maxBodyBytes(int n) { maxBodyBytes = n; return this; }
        /** Connections open at once, all clients together; beyond it, 503. */
        public Options maxConnections(int n) { maxConnections = n; return this; }
        /** Connections open at once from one IP address; beyond it, 503. */
        public Options maxConnectionsPerClient(int n) { maxConnectionsPerClient = n; return this; }
        /** Events kept for Last-Event-ID replay (and at most this many bytes of them). */
        public Options replay(int events, long bytes) { replayEvents = events; replayBytes = bytes; return this; }
        /** A request head (line and headers) must be complete this long after the connection opened. */
        public Options headerTimeout(Duration d) { headerTimeout = d; return this; }
        /** A request body must be complete this long after its head. */
        public Options bodyTimeout(Duration d) { bodyTimeout = d; return this; }
        /** A keep-alive connection's next request head must be complete this long after the last response. */
        public Options idleTimeout(Duration d) { idleTimeout = d; return this; }
        /** An event-stream client that takes nothing for this long (and at least 3 intervals) is disconnected. */
        public Options stallTimeout(Duration d) { stallTimeout = d; return this; }
        public Options gpu(boolean b) { gpu = b; return this; }
    }

    private final ProcessMonitor monitor;
    private final Options opt;
    private final Sampler sampler;
    private final org.eclipse.jetty.server.Server jetty;
    private final ServerConnector connector;
    private final ConnectionGuard guard;
    private final EventStreams streams;
    private final Semaphore stops;
    private final Consumer<Snapshot> listener;
    private final Set<String> hostNames;
    private final byte[] tokenDigest;
    private final Thread sweeper;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final String version = Version.get();
    private final Page page;

    private Server(ProcessMonitor monitor, Options opt) throws IOException {
        this.monitor = monitor;
        this.opt = opt;
        this.stops = new Semaphore(opt.maxConcurrentStops);
        this.tokenDigest = opt.token.map(Server::sha256).orElse(new byte[0]);
        this.hostNames = hostNames(opt);
        this.page = Page.load(opt.hiveId, !opt.allowControl ? "off" : opt.token.isPresent() ? "token" : "loopback");
        this.streams = new EventStreams(opt.maxStreams, opt.interval, opt.replayEvents, opt.replayBytes);
        this.guard = new ConnectionGuard(opt.maxConnectionsPerClient, opt.maxConnections, opt.headerTimeout, opt.idleTimeout);

        // Virtual threads for the acceptor, the selector and every task: no pool of platform threads to size,
        // and a handler that waits (the first sample) parks cheaply.
        VirtualThreadPool pool = new VirtualThreadPool(opt.maxConnections + 16);
        pool.setName("rbee-http");
        jetty = new org.eclipse.jetty.server.Server(pool);
        HttpConfiguration hc = new HttpConfiguration();
        hc.setSendServerVersion(false);
        hc.setSendDateHeader(true);
        hc.setRequestHeaderSize(16 * 1024);
        // "%2e%2e" and "%2F" in a name reach our own check (Names.check, with a clear 400), not Jetty's HTML error page.
        hc.setUriCompliance(org.eclipse.jetty.http.UriCompliance.from(org.eclipse.jetty.http.UriCompliance.AMBIGUOUS_VIOLATIONS));
        hc.addCustomizer((request, responseHeaders) -> {
            guard.headComplete(request.getConnectionMetaData().getConnection());
            return request;
        });
        connector = new ServerConnector(jetty, 1, 1, new HttpConnectionFactory(hc));
        connector.setHost(opt.bind.getHostAddress());
        connector.setPort(opt.port);
        connector.setIdleTimeout(Math.max(opt.idleTimeout.toMillis(), opt.headerTimeout.toMillis()));
        connector.setAcceptQueueSize(128);
        connector.addEventListener(guard);
        jetty.addConnector(connector);
        jetty.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                Connection c = request.getConnectionMetaData().getConnection();
                Server.this.handle(request, response, new Callback() {
                    @Override
                    public void succeeded() {
                        guard.exchangeDone(c);
                        callback.succeeded();
                    }

                    @Override
                    public void failed(Throwable x) {
                        guard.exchangeDone(c);
                        callback.failed(x);
                    }
                });
                return true;
            }
        });
        // What Jetty refuses itself (a malformed request line, headers too large): plain text like ours, not HTML.
        jetty.setErrorHandler((request, response, callback) -> {
            Object m = request.getAttribute(org.eclipse.jetty.server.handler.ErrorHandler.ERROR_MESSAGE);
            byte[] body = ((m == null ? "error " + response.getStatus() : m.toString()) + "\n").getBytes(StandardCharsets.UTF_8);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, TEXT);
            response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
            response.write(true, ByteBuffer.wrap(body), callback);
            return true;
        });
        jetty.setStopTimeout(2000);

        this.sampler = monitor.sampler().interval(opt.interval).gpu(opt.gpu).start();
        this.listener = snap -> streams.publish(Wire.json(Wire.hiveTelemetry(opt.hiveId, snap)));
        sampler.addListener(listener);
        try {
            jetty.start();
        } catch (Exception e) {
            sampler.removeListener(listener);
            sampler.close();
            try {
                jetty.stop();
            } catch (Exception ignored) {
                // it did not start: nothing more to stop
            }
            Throwable cause = e instanceof IOException && e.getCause() != null ? e.getCause() : e;
            throw new IOException("cannot listen on " + opt.bind.getHostAddress() + ":" + opt.port + ": " + cause.getMessage(), e);
        }
        sweeper = Thread.ofVirtual().name("rbee-http-deadlines").start(this::sweep);
    }

    /** Starts sampling {@code monitor} and serving; {@link #close} stops both. */
    public static Server start(ProcessMonitor monitor, Options options) throws IOException {
        return new Server(monitor, options);
    }

    /** The port bound (the one chosen by the system for port 0). */
    public int port() {
        return connector.getLocalPort();
    }

    public InetSocketAddress address() {
        return new InetSocketAddress(opt.bind, port());
    }

    /** Event streams now open. */
    public int openStreams() {
        return streams.open();
    }

    /** Connections now open, all clients. */
    public int openConnections() {
        return guard.open();
    }

    /** Connections now open from {@code client}. */
    public int openConnections(InetAddress client) {
        return guard.openFrom(client);
    }

    /** Connections closed so far because their request head (or next request) was overdue. */
    public long timedOutConnections() {
        return guard.timedOut();
    }

    /** Connections answered 503 so far for being over a connection bound. */
    public long refusedConnections() {
        return guard.refused();
    }

    /** Closes the connections whose request head is overdue, four times a second. */
    private void sweep() {
        while (!closed.get()) {
            guard.sweep();
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    // ---- routing ------------------------------------------------------------------------------

    /** One exchange; {@code done} is completed by whoever writes the last of the answer. */
    private void handle(Request req, Response resp, Callback done) {
        try {
            if (guard.rejected(req.getConnectionMetaData().getConnection())) {
                InetAddress client = ConnectionGuard.address(req.getConnectionMetaData().getRemoteSocketAddress());
                throw new HttpError(503, "too many connections (at most " + guard.maxPerClient() + " from one address, "
                        + guard.maxTotal() + " in all; " + client.getHostAddress() + " has " + guard.openFrom(client)
                        + "): try again later", Map.of("Retry-After", "5", "Connection", "close"));
            }
            readBody(req).whenComplete((body, failure) -> {
                if (failure != null) {
                    Throwable f = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                            ? failure.getCause() : failure;
                    error(req, resp, done, f);
                    return;
                }
                try {
                    route(req, resp, done);
                } catch (Throwable e) {
                    error(req, resp, done, e);
                }
            });
        } catch (Throwable e) {
            error(req, resp, done, e);
        }
    }

    private void error(Request req, Response resp, Callback done, Throwable e) {
        if (e instanceof HttpError h) {
            reply(req, resp, done, h.status, h.headers, TEXT, (h.getMessage() + "\n").getBytes(StandardCharsets.UTF_8));
        } else {
            reply(req, resp, done, 500, Map.of(), TEXT, ("internal error: " + e + "\n").getBytes(StandardCharsets.UTF_8));
        }
    }

    private void route(Request req, Response resp, Callback done) throws Exception {
        // The raw (still percent-encoded) path: names are decoded and checked one segment at a time.
        String raw = req.getHttpURI().getPath() == null ? "/" : req.getHttpURI().getPath();
        String method = req.getMethod();
        boolean options = method.equals("OPTIONS");
        if (raw.equals(STREAM)) {
            if (options || !only(req, GET_ALLOW)) { options(resp, done, GET_ALLOW); return; }
            stream(req, resp, done);
            return;
        }
        if (raw.equals(WORKERS)) {
            if (options || !only(req, GET_ALLOW)) { options(resp, done, GET_ALLOW); return; }
            reply(req, resp, done, 200, Map.of(), JSON, Wire.json(Wire.workers(opt.hiveId, current())).getBytes(StandardCharsets.UTF_8));
            return;
        }
        if (raw.equals(METRICS)) {
            if (options || !only(req, GET_ALLOW)) { options(resp, done, GET_ALLOW); return; }
            long start = System.nanoTime();
            Prometheus.Format f = Prometheus.Format.negotiate(req.getHeaders().get(HttpHeader.ACCEPT));
            String text = Prometheus.metrics(current(), new Prometheus.Scrape(f, version, start));
            reply(req, resp, done, 200, Map.of("Vary", "Accept"), f.contentType(), text.getBytes(StandardCharsets.UTF_8));
            return;
        }
        if ("*".equals(raw)) {
            options(resp, done, "GET, HEAD, POST, OPTIONS");
            return;
        }
        Page.Asset asset = page.asset(raw);
        if (asset != null) {
            if (options || !only(req, GET_ALLOW)) { options(resp, done, GET_ALLOW); return; }
            reply(req, resp, done, 200, Page.HEADERS, asset.type(), asset.bytes());
            return;
        }
        String[] seg = raw.split("/", -1); // "", "v1", "workers", group, instance, "stop"
        if (seg.length == 6 && seg[0].isEmpty() && seg[1].equals("v1") && seg[2].equals("workers") && seg[5].equals("stop")) {
            if (options || !only(req, POST_ALLOW)) { options(resp, done, POST_ALLOW); return; }
            stop(req, resp, done, seg[3], seg[4]);
            return;
        }
        throw new HttpError(404, "no such endpoint: " + shorten(method) + " " + shorten(raw)
                + " (endpoints: GET /, GET " + STREAM + ", GET " + WORKERS + ", GET " + METRICS
                + ", POST " + WORKERS + "/{group}/{instance}/stop)");
    }

    /** True for OPTIONS (answered by the caller); throws 405 for a method not in {@code allow}. */
    private static boolean only(Request req, String allow) throws HttpError {
        String m = req.getMethod();
        if (m.equals("OPTIONS")) return false;
        for (String a : allow.split(", ")) if (a.equals(m)) return true;
        throw new HttpError(405, "method " + shorten(m) + " not allowed on " + shorten(req.getHttpURI().getPath())
                + ": use " + allow.replace(", OPTIONS", "").replace(", HEAD", ""), Map.of("Allow", allow));
    }

    /** OPTIONS: the methods, and no CORS headers (no other origin may call this server from a browser). */
    private static void options(Response resp, Callback done, String allow) {
        resp.setStatus(204);
        resp.getHeaders().put(HttpHeader.ALLOW, allow);
        resp.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        resp.write(true, null, done);
    }

    /**
     * The request body, at most {@code maxBodyBytes}, complete within the
     * body timeout: 413 beyond the size (the connection then closes), 408 beyond the time.
     */
    private CompletableFuture<byte[]> readBody(Request req) throws HttpError {
        long declared = req.getLength();
        if (declared > opt.maxBodyBytes) throw tooLarge(declared + " bytes");
        if (declared == 0) return CompletableFuture.completedFuture(new byte[0]);
        CompletableFuture<byte[]> body = new CompletableFuture<>();
        Content.Source.asByteArrayAsync(req, opt.maxBodyBytes, new org.eclipse.jetty.util.Promise.Invocable<byte[]>() {
            @Override
            public void succeeded(byte[] b) {
                body.complete(b);
            }

            @Override
            public void failed(Throwable x) {
                body.completeExceptionally(x);
            }
        });
        return body.orTimeout(opt.bodyTimeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
                .exceptionallyCompose(e -> {
                    Throwable c = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
                    if (c instanceof TimeoutException)
                        return CompletableFuture.failedFuture(new HttpError(408, "request body not complete within "
                                + Format.duration(opt.bodyTimeout), Map.of("Connection", "close")));
                    if (c instanceof IllegalArgumentException || String.valueOf(c.getMessage()).contains("too large")
                            || String.valueOf(c.getMessage()).contains("exceed"))
                        return CompletableFuture.failedFuture(tooLarge("more than " + opt.maxBodyBytes + " bytes"));
                    return CompletableFuture.failedFuture(c);
                });
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

    // ---- event stream -------------------------------------------------------------------------

    private void stream(Request req, Response resp, Callback done) throws HttpError {
        HttpFields.Mutable h = resp.getHeaders();
        if (req.getMethod().equals("HEAD")) {
            h.put(HttpHeader.CONTENT_TYPE, "text/event-stream; charset=utf-8");
            h.put(HttpHeader.CACHE_CONTROL, "no-cache");
            resp.setStatus(200);
            resp.write(true, null, done);
            return;
        }
        if (!streams.reserve())
            throw new HttpError(503, "too many event streams (limit " + opt.maxStreams + "): try again later",
                    Map.of("Retry-After", "5"));
        h.put(HttpHeader.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        h.put(HttpHeader.CACHE_CONTROL, "no-cache");
        h.put("X-Accel-Buffering", "no");
        resp.setStatus(200);
        // A stream writes every interval; a client that takes nothing for the stall timeout is dropped.
        long stall = Math.max(opt.stallTimeout.toMillis(), opt.interval.toMillis() * 3);
        req.getConnectionMetaData().getConnection().getEndPoint().setIdleTimeout(stall);
        String last = req.getHeaders().get("Last-Event-ID");
        streams.attach(resp, done, Optional.ofNullable(last).filter(s -> !s.isBlank()));
    }

    // ---- control ------------------------------------------------------------------------------

    private void stop(Request req, Response resp, Callback done, String rawGroup, String rawInstance) throws HttpError {
        if (!opt.allowControl)
            throw new HttpError(403, "control is disabled: start rbee-mon serve with --allow-control to stop workers over HTTP");
        checkHostAndOrigin(req);
        InetAddress client = ConnectionGuard.address(req.getConnectionMetaData().getRemoteSocketAddress());
        if (opt.token.isPresent()) {
            checkToken(req.getHeaders().get(HttpHeader.AUTHORIZATION));
        } else if (!client.isLoopbackAddress()) {
            throw new HttpError(403, "control is allowed only from loopback (configure --token-file to allow it from "
                    + client.getHostAddress() + ")");
        }
        String group = name("group", rawGroup), instance = name("instance", rawInstance);
        Duration grace = grace(req.getHttpURI().getQuery());
        if (!stops.tryAcquire())
            throw new HttpError(503, "too many stops in progress (limit " + opt.maxConcurrentStops + ")",
                    Map.of("Retry-After", "1"));
        // This can take the whole grace period: a virtual thread of its own, not one of Jetty's.
        Thread.ofVirtual().name("rbee-stop-" + group + "-" + instance).start(() -> {
            try {
                Optional<ExitReport> r = monitor.stop(group, instance, grace);
                if (r.isEmpty()) throw new HttpError(404, "no live worker " + group + "/" + instance);
                reply(req, resp, done, 200, Map.of(), JSON, Wire.json(Wire.exitReport(r.get())).getBytes(StandardCharsets.UTF_8));
            } catch (HttpError e) {
                error(req, resp, done, e);
            } catch (IOException | InterruptedException | RuntimeException e) {
                error(req, resp, done, new HttpError(500, "stopping " + group + "/" + instance + " failed: " + e.getMessage()));
            } finally {
                stops.release();
            }
        });
    }

    /**
     * Refuses a request whose Host is not one of this server's names (DNS
     * rebinding: a page of evil.example resolved to 127.0.0.1 still sends
     * Host: evil.example) or whose Origin is another site (a page posting
     * cross-origin).  No Origin (curl, scripts) is fine.
     */
    private void checkHostAndOrigin(Request req) throws HttpError {
        String host = req.getHeaders().get(HttpHeader.HOST);
        if (host == null || !allowedHost(hostPart(host)))
            throw new HttpError(403, "Host \"" + shorten(String.valueOf(host)) + "\" is not a name of this server ("
                    + String.join(", ", hostNames) + "; add one with --allow-host)");
        String origin = req.getHeaders().get(HttpHeader.ORIGIN);
        if (origin != null) {
            URI o;
            try {
                o = new URI(origin.strip());
            } catch (java.net.URISyntaxException e) {
                throw new HttpError(403, "cross-origin request refused: Origin \"" + shorten(origin) + "\" is not this server");
            }
            int p = o.getPort() < 0 ? ("https".equalsIgnoreCase(o.getScheme()) ? 443 : 80) : o.getPort();
            if (!"http".equalsIgnoreCase(o.getScheme()) || o.getHost() == null || !allowedHost(stripBrackets(o.getHost()))
                    || p != port())
                throw new HttpError(403, "cross-origin request refused: Origin \"" + shorten(origin) + "\" is not this server");
        }
        String site = req.getHeaders().get("Sec-Fetch-Site");
        if (site != null && site.strip().equalsIgnoreCase("cross-site"))
            throw new HttpError(403, "cross-origin request refused (Sec-Fetch-Site: cross-site)");
    }

    /** The host of a Host header value ("[::1]:7835" -> "::1", "Localhost:7835" -> "localhost"). */
    static String hostPart(String host) {
        String h = host.strip().toLowerCase(Locale.ROOT);
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return end < 0 ? h : h.substring(1, end);
        }
        int colon = h.indexOf(':');
        return colon < 0 ? h : h.substring(0, colon);
    }

    private static String stripBrackets(String h) {
        String l = h.toLowerCase(Locale.ROOT);
        return l.startsWith("[") && l.endsWith("]") ? l.substring(1, l.length() - 1) : l;
    }

    private boolean allowedHost(String h) {
        if (hostNames.contains(h)) return true;
        // Any 127.x.y.z literal is loopback.
        return h.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}");
    }

    /** Loopback names always; the bind address and this machine's name when bound beyond loopback; --allow-host names. */
    static Set<String> hostNames(Options opt) {
        Set<String> s = new LinkedHashSet<>(Set.of("localhost", "127.0.0.1", "::1", "0:0:0:0:0:0:0:1"));
        if (!opt.bind.isLoopbackAddress()) {
            if (!opt.bind.isAnyLocalAddress()) s.add(opt.bind.getHostAddress().toLowerCase(Locale.ROOT));
            s.add(Format.hostName().toLowerCase(Locale.ROOT));
        }
        s.addAll(opt.allowedHosts);
        return s;
    }

    /** {@code Bearer TOKEN}, the scheme in any case (RFC 9110), the token compared in constant time. */
    private void checkToken(String auth) throws HttpError {
        Map<String, String> challenge = Map.of("WWW-Authenticate", "Bearer realm=\"rbee-mon\"");
        if (auth == null) throw new HttpError(401, "missing token: send \"Authorization: Bearer TOKEN\"", challenge);
        String a = auth.strip();
        int sp = a.indexOf(' ');
        if (sp < 0 || !a.substring(0, sp).equalsIgnoreCase("Bearer"))
            throw new HttpError(401, "wrong authorization scheme: send \"Authorization: Bearer TOKEN\"", challenge);
        // Digests of equal length: the comparison takes the same time whatever the token's length or content.
        if (!MessageDigest.isEqual(sha256(a.substring(sp + 1).strip()), tokenDigest))
            throw new HttpError(401, "wrong token", challenge);
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from this JDK", e);
        }
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
            String k, v;
            try {
                k = URLDecoder.decode(eq < 0 ? kv : kv.substring(0, eq), StandardCharsets.UTF_8);
                v = eq < 0 ? "" : URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw new HttpError(400, "bad percent-encoding in the query \"" + shorten(rawQuery) + "\"");
            }
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

    /** A complete answer; HEAD gets the same status and headers (Content-Length included) without the body. */
    private static void reply(Request req, Response resp, Callback done, int status, Map<String, String> headers, String type,
                              byte[] body) {
        try {
            HttpFields.Mutable h = resp.getHeaders();
            headers.forEach(h::put);
            h.put(HttpHeader.CONTENT_TYPE, type);
            h.put(HttpHeader.CACHE_CONTROL, "no-store");
            h.put(HttpHeader.CONTENT_LENGTH, Long.toString(body.length));
            resp.setStatus(status);
            boolean head = req.getMethod().equals("HEAD");
            resp.write(true, head || body.length == 0 ? null : ByteBuffer.wrap(body), done);
        } catch (RuntimeException e) {
            // Headers already committed (the client went away mid-answer): nothing more to say to it.
            done.failed(e);
        }
    }

    /** A value for an error message: at most 200 characters, control characters escaped. */
    static String shorten(String v) {
        if (v == null) return "";
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < v.length() && i < 200; i++) {
            char c = v.charAt(i);
            if (c < 0x20 || c == 0x7f) b.append(String.format("\\x%02x", (int) c));
            else b.append(c);
        }
        if (v.length() > 200) b.append("...");
        return b.toString();
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

    /**
     * Stops serving and sampling: every event stream gets a final "shutdown"
     * event and a clean end (up to 2 s), then the listener, the connections
     * and the threads are closed.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        sampler.removeListener(listener);
        sampler.close();
        sweeper.interrupt();
        try {
            streams.closeAll(Duration.ofSeconds(2));
            sweeper.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            jetty.stop();
        } catch (Exception e) {
            System.err.println("rbee-mon: stopping the HTTP server: " + e);
        }
    }
}
