package dev.rbee.hive.monitor.cli;

import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Control as a browser page, a DNS-rebinding page and a client with a token
 * would try it, over raw HTTP/1.1 (so that Host and Origin are exactly what
 * the test says); HEAD and OPTIONS; and the token read from a file by
 * {@code rbee-mon serve} itself, with nothing on its stderr but its own line.
 */
class ControlSecurityTest {
    final String group = TestEnv.uniqueGroup("ctl");
    final ProcessMonitor monitor = TestEnv.monitor();
    Worker worker;
    Server server;

    @BeforeEach
    void spawn() throws Exception {
        worker = monitor.spawn(WorkerSpec.command("/bin/sleep", "600").withMonitoring(group, "8080").build());
    }

    @AfterEach
    void cleanup() throws Exception {
        if (server != null) server.close();
        if (worker.isAlive()) worker.stop(Duration.ofSeconds(1));
        TestEnv.destroyTree(TestEnv.cgroupMount().resolve("rbee.slice").resolve(group));
    }

    Server start(Server.Options o) throws IOException {
        server = Server.start(monitor, o.bind(InetAddress.getLoopbackAddress()).port(0).interval(Duration.ofMillis(200)).gpu(false));
        return server;
    }

    /** One raw request ("Connection: close" added); the whole answer. */
    static String http(int port, String method, String path, String... headers) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(30_000);
            StringBuilder req = new StringBuilder(method + " " + path + " HTTP/1.1\r\n");
            for (String h : headers) req.append(h).append("\r\n");
            req.append("Connection: close\r\n\r\n");
            s.getOutputStream().write(req.toString().getBytes(StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    String stopPath() {
        return "/v1/workers/" + group + "/8080/stop?grace=2s";
    }

    @Test
    void aCrossOriginPostIsRefusedAndASameOriginOneWorks() throws Exception {
        Server s = start(new Server.Options().allowControl(true));
        String host = "Host: 127.0.0.1:" + s.port();
        String r = http(s.port(), "POST", stopPath(), host, "Origin: http://evil.example", "Content-Length: 0");
        assertTrue(r.startsWith("HTTP/1.1 403 "), r);
        assertTrue(r.contains("cross-origin request refused: Origin \"http://evil.example\" is not this server"), r);
        r = http(s.port(), "POST", stopPath(), host, "Origin: http://127.0.0.1:" + (s.port() + 1), "Content-Length: 0");
        assertTrue(r.startsWith("HTTP/1.1 403 "), "another port is another origin: " + r);
        r = http(s.port(), "POST", stopPath(), host, "Sec-Fetch-Site: cross-site", "Content-Length: 0");
        assertTrue(r.startsWith("HTTP/1.1 403 "), r);
        assertTrue(worker.isAlive(), "no refused request stopped the worker");
        r = http(s.port(), "POST", stopPath(), host, "Origin: http://localhost:" + s.port(), "Content-Length: 0");
        assertTrue(r.startsWith("HTTP/1.1 200 "), "this server's own page may: " + r);
        assertFalse(worker.isAlive());
    }

    @Test
    void aForgedHostIsRefused() throws Exception {
        Server s = start(new Server.Options().allowControl(true));
        // DNS rebinding: evil.example now resolves to 127.0.0.1, but the browser still says whom it thinks it talks to.
        String r = http(s.port(), "POST", stopPath(), "Host: evil.example:" + s.port(), "Content-Length: 0");
        assertTrue(r.startsWith("HTTP/1.1 403 "), r);
        assertTrue(r.contains("Host \"evil.example:" + s.port() + "\" is not a name of this server"), r);
        assertTrue(worker.isAlive());
        // GET stays open for scrapers, whatever name they use.
        assertTrue(http(s.port(), "GET", Server.METRICS, "Host: evil.example").startsWith("HTTP/1.1 200 "));
        r = http(s.port(), "POST", stopPath(), "Host: LOCALHOST:" + s.port(), "Content-Length: 0");
        assertTrue(r.startsWith("HTTP/1.1 200 "), r);
    }

    @Test
    void otherNamesAreAllowedOnlyWhenBindOrAllowHostSaySo() throws Exception {
        Server s = start(new Server.Options().allowControl(true).allowHost("Hive.Example"));
        String r = http(s.port(), "POST", stopPath(), "Host: node1.example:" + s.port(), "Content-Length: 0");
        assertTrue(r.startsWith("HTTP/1.1 403 "), r);
        assertEquals(java.util.Set.of("localhost", "127.0.0.1", "::1", "0:0:0:0:0:0:0:1"), Server.hostNames(new Server.Options()),
                "bound to loopback: loopback names only");
        java.util.Set<String> any = Server.hostNames(new Server.Options().bind(InetAddress.getByName("0.0.0.0")));
        assertTrue(any.contains(Format.hostName().toLowerCase()), "bound to every address: this machine's name too, " + any);
        java.util.Set<String> one = Server.hostNames(new Server.Options().bind(InetAddress.getByName("192.0.2.7")));
        assertTrue(one.contains("192.0.2.7"), "bound to one address: that address too, " + one);
        r = http(s.port(), "POST", stopPath(), "Host: hive.example:" + s.port(), "Origin: http://hive.example:" + s.port(),
                "Content-Length: 0");
        assertTrue(r.startsWith("HTTP/1.1 200 "), "--allow-host names a further name: " + r);
    }

    @Test
    void theTokenSchemeIsCaseInsensitiveAndTheTokenMustMatch() throws Exception {
        Server s = start(new Server.Options().allowControl(true).token("s3cret-token"));
        String host = "Host: localhost:" + s.port();
        String r = http(s.port(), "POST", stopPath(), host, "Authorization: Bearer s3cret-tokeN", "Content-Length: 0");
        assertTrue(r.startsWith("HTTP/1.1 401 ") && r.contains("wrong token"), r);
        r = http(s.port(), "POST", stopPath(), host, "Authorization: Basic czNjcmV0LXRva2Vu", "Content-Length: 0");
        assertTrue(r.startsWith("HTTP/1.1 401 ") && r.contains("wrong authorization scheme"), r);
        r = http(s.port(), "POST", stopPath(), host, "Authorization: Bearer s3cret-token-and-more", "Content-Length: 0");
        assertTrue(r.startsWith("HTTP/1.1 401 "), r);
        assertTrue(worker.isAlive());
        r = http(s.port(), "POST", stopPath(), host, "Authorization: bearer s3cret-token", "Content-Length: 0");
        assertTrue(r.startsWith("HTTP/1.1 200 "), "RFC 9110: the scheme is case-insensitive: " + r);
    }

    @Test
    void headAndOptionsAreAnswered() throws Exception {
        Server s = start(new Server.Options());
        String get = http(s.port(), "GET", Server.METRICS, "Host: localhost");
        String head = http(s.port(), "HEAD", Server.METRICS, "Host: localhost");
        assertTrue(head.startsWith("HTTP/1.1 200 "), head);
        assertTrue(head.endsWith("\r\n\r\n"), "no body after the head: " + head);
        assertTrue(header(head, "Content-Length").matches("\\d+"), head);
        assertTrue(header(get, "Content-Type").startsWith("text/plain; version=0.0.4"), get);
        assertEquals(header(get, "Content-Type"), header(head, "Content-Type"));
        String opt = http(s.port(), "OPTIONS", Server.METRICS, "Host: localhost");
        assertTrue(opt.startsWith("HTTP/1.1 204 "), opt);
        assertEquals("GET, HEAD, OPTIONS", header(opt, "Allow"));
        opt = http(s.port(), "OPTIONS", stopPath(), "Host: localhost", "Origin: http://evil.example",
                "Access-Control-Request-Method: POST");
        assertEquals("POST, OPTIONS", header(opt, "Allow"));
        assertFalse(opt.toLowerCase().contains("access-control-allow-origin"), "no CORS grant for other origins: " + opt);
        assertTrue(http(s.port(), "HEAD", Server.STREAM, "Host: localhost").startsWith("HTTP/1.1 200 "));
    }

    static String header(String response, String name) {
        for (String line : response.split("\r\n")) {
            if (line.isEmpty()) break;
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).equalsIgnoreCase(name)) return line.substring(colon + 1).strip();
        }
        return "";
    }

    /** rbee-mon serve reads its token from --token-file; nothing but its own two lines on stderr (no JDK or Jetty warning). */
    @Test
    void theServeCommandReadsTheTokenFromAFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("token");
        Files.writeString(file, "from-a-file\n");
        Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        Process p = Cli.start("serve", "--port", "0", "--allow-control", "--token-file", file.toString(), "--interval", "200ms");
        try {
            BufferedReader err = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8));
            String backend = err.readLine();
            assertTrue(String.valueOf(backend).startsWith("rbee-mon: backend "), "serve first says its backend: " + backend);
            String first = err.readLine();
            Matcher m = Pattern.compile("on http://127\\.0\\.0\\.1:(\\d+)/").matcher(String.valueOf(first));
            assertTrue(m.find(), "serve says where it listens: " + first);
            assertTrue(first.endsWith("control enabled with a bearer token"), first);
            int port = Integer.parseInt(m.group(1));
            String host = "Host: localhost:" + port;
            String r = http(port, "POST", stopPath(), host, "Content-Length: 0");
            assertTrue(r.startsWith("HTTP/1.1 401 "), r);
            assertTrue(http(port, "HEAD", Server.METRICS, host).startsWith("HTTP/1.1 200 "));
            r = http(port, "POST", stopPath(), host, "Authorization: BEARER from-a-file", "Content-Length: 0");
            assertTrue(r.startsWith("HTTP/1.1 200 "), r);
            assertFalse(worker.isAlive());
            p.toHandle().destroy(); // SIGTERM (Process.destroy would close our end of its stderr too)
            String rest = err.lines().collect(java.util.stream.Collectors.joining("\n"));
            assertTrue(p.waitFor(20, TimeUnit.SECONDS));
            assertEquals("", rest, "nothing on stderr after those two lines");
        } finally {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aTokenOnTheCommandLineIsWarnedAboutAndTheEnvironmentWorksToo() throws Exception {
        Process p = Cli.start("serve", "--port", "0", "--allow-control", "--token", "visible");
        try {
            BufferedReader err = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8));
            assertEquals("rbee-mon: warning: --token is visible to every user in ps; use --token-file FILE or $RBEE_MON_TOKEN",
                    err.readLine());
        } finally {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        p = Cli.start(Map.of(ServeCommand.TOKEN_ENV, "from-env"), "serve", "--port", "0", "--allow-control");
        try {
            BufferedReader err = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8));
            String backend = err.readLine();
            assertTrue(String.valueOf(backend).startsWith("rbee-mon: backend "), backend);
            String first = err.readLine();
            assertTrue(String.valueOf(first).endsWith("control enabled with a bearer token"), first);
        } finally {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        Cli.Result r = Cli.run(Map.of(ServeCommand.TOKEN_ENV, "x"), "serve", "--port", "0", "--token", "y");
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("not several"), r.err());
    }
}
