package dev.rbee.hive.monitor.cli;


import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/** rbee-mon serve: the hive's heartbeats, workers and metrics over HTTP until SIGINT/SIGTERM. */
final class ServeCommand {
    /** The environment variable that may hold the control token (not visible in ps, unlike an argument). */
    static final String TOKEN_ENV = "RBEE_MON_TOKEN";

    private ServeCommand() {}

    static int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        return run(argv, out, err, System.getenv());
    }

    static int run(String[] argv, PrintStream out, PrintStream err, java.util.Map<String, String> env) throws Exception {
        Args a = Args.parse(argv, 1, Set.of("bind", "port", "interval", "token", "token-file", "hive-id", "max-streams", "backend",
                        "allow-host", "max-connections", "max-connections-per-client", "header-timeout"),
                Set.of("allow-control"));
        if (!a.rest().isEmpty()) throw new UsageException("unexpected argument \"" + a.rest().get(0) + "\"");
        Server.Options o = new Server.Options();
        if (a.has("bind")) {
            String b = a.get("bind").orElseThrow();
            try {
                o.bind(InetAddress.getByName(b));
            } catch (UnknownHostException e) {
                throw new UsageException("--bind: unknown address \"" + b + "\"");
            }
        }
        if (a.has("port")) o.port(intOption(a, "port", 0, 65535));
        if (a.has("max-streams")) o.maxStreams(intOption(a, "max-streams", 1, 100_000));
        if (a.has("max-connections")) o.maxConnections(intOption(a, "max-connections", 1, 1_000_000));
        if (a.has("max-connections-per-client")) o.maxConnectionsPerClient(intOption(a, "max-connections-per-client", 1, 1_000_000));
        if (a.has("header-timeout")) o.headerTimeout(a.get("header-timeout").map(v -> Durations.parse("--header-timeout", v, Duration.ZERO)).orElseThrow());
        for (String h : a.get("allow-host").map(v -> v.split(",")).orElse(new String[0]))
            if (!h.isBlank()) o.allowHost(h.strip());
        Duration interval = a.get("interval").map(v -> Durations.parse("--interval", v, RunCommand.MIN_INTERVAL)).orElse(Duration.ofSeconds(1));
        if (interval.compareTo(Duration.ofMillis(100)) < 0) throw new UsageException("--interval must be at least 100ms");
        o.interval(interval);
        o.allowControl(a.has("allow-control"));
        int tokens = (a.has("token") ? 1 : 0) + (a.has("token-file") ? 1 : 0) + (env.containsKey(TOKEN_ENV) ? 1 : 0);
        if (tokens > 1) throw new UsageException("give one of --token-file, $" + TOKEN_ENV + " and --token, not several");
        if (a.has("token")) {
            // Kept for old scripts, but every user of the machine sees it in ps.
            err.println("rbee-mon: warning: --token is visible to every user in ps; use --token-file FILE or $" + TOKEN_ENV);
            String t = a.get("token").orElseThrow();
            if (t.isBlank()) throw new UsageException("--token must not be blank");
            o.token(t);
        }
        if (a.has("token-file")) {
            Path f = Path.of(a.get("token-file").orElseThrow());
            o.token(readToken(f));
            try {
                var perms = Files.getPosixFilePermissions(f);
                if (perms.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_READ))
                    err.println("rbee-mon: warning: --token-file " + f + " is readable by every user (chmod 600 it)");
            } catch (IOException | UnsupportedOperationException e) {
                // permissions unknown: nothing to warn about
            }
        }
        if (env.containsKey(TOKEN_ENV)) {
            String t = env.get(TOKEN_ENV).strip();
            if (t.isEmpty()) throw new UsageException("$" + TOKEN_ENV + " is set but empty");
            o.token(t);
        }
        a.get("hive-id").ifPresent(o::hiveId);

        dev.rbee.hive.monitor.ProcessMonitor monitor = Backends.monitor(a);
        err.println("rbee-mon: backend " + monitor.backend()); // in the journal of a service: which placement, and why
        Server server = Server.start(monitor, o);
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            done.countDown();
        }, "rbee-serve-stop"));
        String where = "http://" + hostForUrl(server.address().getAddress()) + ":" + server.port();
        err.println("rbee-mon: serving hive " + o.hiveId + " on " + where + "/ (the live page; " + Server.STREAM + ", " + Server.WORKERS
                + ", " + Server.METRICS + "); control " + (!o.allowControl ? "disabled"
                : o.token.isPresent() ? "enabled with a bearer token" : "enabled from loopback only")
                + (o.allowControl && o.bind.isAnyLocalAddress() && o.token.isEmpty() ? " (bound to all addresses: remote stops need a token)" : ""));
        done.await();
        return 0;
    }

    private static String hostForUrl(InetAddress a) {
        String h = a.getHostAddress();
        return h.contains(":") ? "[" + h + "]" : h;
    }

    private static String readToken(Path p) throws UsageException {
        try {
            String t = Files.readString(p).strip();
            if (t.isEmpty()) throw new UsageException("--token-file " + p + " is empty");
            return t;
        } catch (IOException e) {
            throw new UsageException("--token-file: cannot read " + p + ": " + e.getMessage());
        }
    }

    private static int intOption(Args a, String name, int min, int max) throws UsageException {
        String v = a.get(name).orElseThrow();
        try {
            int n = Integer.parseInt(v);
            if (n < min || n > max) throw new UsageException("--" + name + " must be in " + min + ".." + max + ": " + v);
            return n;
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + ": not a number: \"" + v + "\"");
        }
    }
}
