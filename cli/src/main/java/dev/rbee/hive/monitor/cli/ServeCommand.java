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
    private ServeCommand() {}

    static int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        Args a = Args.parse(argv, 1, Set.of("bind", "port", "interval", "token", "token-file", "hive-id", "max-streams", "backend"),
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
        Duration interval = a.get("interval").map(Durations::parse).orElse(Duration.ofSeconds(1));
        if (interval.compareTo(Duration.ofMillis(100)) < 0) throw new UsageException("--interval must be at least 100ms");
        o.interval(interval);
        o.allowControl(a.has("allow-control"));
        if (a.has("token") && a.has("token-file")) throw new UsageException("give --token or --token-file, not both");
        if (a.has("token")) o.token(a.get("token").orElseThrow());
        if (a.has("token-file")) o.token(readToken(Path.of(a.get("token-file").orElseThrow())));
        a.get("hive-id").ifPresent(o::hiveId);

        Server server = Server.start(Backends.monitor(a), o);
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            done.countDown();
        }, "rbee-serve-stop"));
        String where = "http://" + hostForUrl(server.address().getAddress()) + ":" + server.port();
        err.println("rbee-mon: serving hive " + o.hiveId + " on " + where + "/ (" + Server.STREAM + ", " + Server.WORKERS
                + ", " + Server.METRICS + "); control " + (!o.allowControl ? "disabled"
                : o.token.isPresent() ? "enabled with a bearer token" : "enabled from loopback only"));
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
