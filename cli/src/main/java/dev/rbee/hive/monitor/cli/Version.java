package dev.rbee.hive.monitor.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** This build's version, from version.properties (filled in by Maven); "unknown" when run from unfiltered classes. */
final class Version {
    private Version() {}

    static String get() {
        try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
            if (in == null) return "unknown";
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty("version", "unknown");
            return v.contains("${") ? "unknown" : v;
        } catch (IOException e) {
            return "unknown";
        }
    }
}
