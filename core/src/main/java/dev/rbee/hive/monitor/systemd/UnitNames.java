package dev.rbee.hive.monitor.systemd;

import java.nio.charset.StandardCharsets;

/**
 * systemd's unit-name rules (src/basic/unit-name.c), written again: escaping
 * as {@code systemd-escape STRING} does, and the check of a plain unit name.
 *
 * <p>Stateless: thread-safe.
 */
public final class UnitNames {
    /** UNIT_NAME_MAX - 1: the longest name systemd accepts. */
    public static final int MAX_LENGTH = 255;

    private UnitNames() {}

    /**
     * {@code systemd-escape STRING}: "/" becomes "-"; a leading "." and every byte
     * outside {@code [A-Za-z0-9:_.]} (so "-", "\", non-ASCII UTF-8 bytes) becomes {@code \xNN}.
     *
     * @param s any string
     * @return a string that is a valid unit-name prefix (if not empty)
     */
    public static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length() * 2);
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < bytes.length; i++) {
            int c = bytes[i] & 0xff;
            if (c == '/') b.append('-');
            else if ((i == 0 && c == '.') || !plain(c)) b.append(String.format("\\x%02x", c));
            else b.append((char) c);
        }
        return b.toString();
    }

    private static boolean plain(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' || c == '_' || c == '.';
    }

    /**
     * Checks a plain (not template) unit name of the given type.
     *
     * @param what   what the name is for, for the message
     * @param name   the name, e.g. "rbee-hive.scope"
     * @param suffix the unit type with its dot, e.g. ".scope"
     * @return {@code name}, if valid
     * @throws IllegalArgumentException naming the value and what is wrong
     */
    public static String check(String what, String name, String suffix) {
        String problem = problem(name, suffix);
        if (problem != null)
            throw new IllegalArgumentException("invalid " + what + " \"" + name + "\": " + problem
                    + " (systemd unit names: [A-Za-z0-9:_.\\\\-]+" + suffix + ", at most " + MAX_LENGTH
                    + " characters; escape other text with systemd-escape)");
        return name;
    }

    private static String problem(String name, String suffix) {
        if (name == null || name.isEmpty()) return "empty";
        if (name.length() > MAX_LENGTH) return "longer than " + MAX_LENGTH + " characters";
        if (!name.endsWith(suffix)) return "does not end in " + suffix;
        String prefix = name.substring(0, name.length() - suffix.length());
        if (prefix.isEmpty()) return "nothing before " + suffix;
        for (int i = 0; i < prefix.length(); i++) {
            char c = prefix.charAt(i);
            if (c == '@') return "\"@\" makes a template or instance name";
            if (!(c < 0x80 && plain(c)) && c != '-' && c != '\\')
                return "character '" + (c < 0x20 ? String.format("\\x%02x", (int) c) : String.valueOf(c)) + "' at index "
                        + i + " is not allowed";
        }
        if (suffix.equals(".slice") && !prefix.equals("-")
                && (prefix.startsWith("-") || prefix.endsWith("-") || prefix.contains("--")))
            return "a slice name's dashes name its parents: no leading, trailing or double dash";
        return null;
    }

    /**
     * The cgroup path, relative to the cgroup2 root, of a unit in a slice: systemd
     * nests slices by their dashes ({@code a-b.slice} lives in {@code a.slice}).
     *
     * @param slice a valid slice name (or "-.slice", the root slice)
     * @param unit  the unit's name
     * @return e.g. "rbee.slice/rbee-hive.slice/rbee-hive.scope"
     */
    public static String cgroupPath(String slice, String unit) {
        StringBuilder b = new StringBuilder();
        if (!slice.equals("-.slice")) {
            String prefix = slice.substring(0, slice.length() - ".slice".length());
            int dash = -1;
            while ((dash = prefix.indexOf('-', dash + 1)) >= 0) b.append(prefix, 0, dash).append(".slice/");
            b.append(slice).append('/');
        }
        return b.append(unit).toString();
    }
}
