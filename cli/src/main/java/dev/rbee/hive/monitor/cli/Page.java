package dev.rbee.hive.monitor.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The live page of {@code GET /} and its two assets, read once from the jar.
 * Nothing is fetched from elsewhere, at build time or run time: the charts are
 * SVG polylines drawn by app.js (a charting library such as uPlot, 48 KB
 * minified, would draw the same sparklines with more code than they take).
 * The Content-Security-Policy lets the page load only its own script, style
 * and connections.
 */
final class Page {
    record Asset(String type, byte[] bytes) {}

    /** Sent with every asset: the page runs only what this server sent it, and in no other site's frame. */
    static final Map<String, String> HEADERS = Map.of(
            "Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                    + "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            "X-Content-Type-Options", "nosniff",
            "Referrer-Policy", "no-referrer");

    private final Map<String, Asset> assets;

    private Page(Map<String, Asset> assets) {
        this.assets = assets;
    }

    /** {@code control}: off, loopback or token (what the page's stop buttons need). */
    static Page load(String hiveId, String control) {
        String controlText = switch (control) {
            case "off" -> "off (read-only; start rbee-mon serve with --allow-control to stop workers here)";
            case "token" -> "on, with the token";
            default -> "on, from this machine only";
        };
        String html = text("index.html").replace("{{hive}}", html(hiveId)).replace("{{control}}", control)
                .replace("{{control-text}}", html(controlText));
        return new Page(Map.of(
                "/", new Asset("text/html; charset=utf-8", html.getBytes(StandardCharsets.UTF_8)),
                "/ui/app.js", new Asset("text/javascript; charset=utf-8", bytes("app.js")),
                "/ui/app.css", new Asset("text/css; charset=utf-8", bytes("app.css"))));
    }

    /** The asset at {@code path}, or null. */
    Asset asset(String path) {
        return path == null ? null : assets.get(path);
    }

    /** Bytes of every asset together (the page's total size). */
    long totalBytes() {
        return assets.values().stream().mapToLong(a -> a.bytes().length).sum();
    }

    private static String text(String name) {
        return new String(bytes(name), StandardCharsets.UTF_8);
    }

    private static byte[] bytes(String name) {
        try (InputStream in = Page.class.getResourceAsStream("ui/" + name)) {
            if (in == null) throw new IllegalStateException("ui/" + name + " is missing from the jar");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading ui/" + name + " from the jar", e);
        }
    }

    private static String html(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
