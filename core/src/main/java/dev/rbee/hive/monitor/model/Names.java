package dev.rbee.hive.monitor.model;

/**
 * Group and instance names become cgroup directory names, so they are checked
 * before any file-system call: {@code [A-Za-z0-9][A-Za-z0-9._-]{0,63}}.  This
 * refuses "..", "/", empty names, control characters and NUL, which would
 * otherwise let a caller escape rbee.slice.  Names of cgroup interface files
 * ({@code cgroup.procs}, {@code memory.max}: a known prefix, a dot) are refused
 * too: the kernel already has a file of that name in every cgroup directory.
 *
 * <p>Stateless: thread-safe.
 */
public final class Names {
    /** The longest name allowed. */
    public static final int MAX_LENGTH = 64;
    /** Prefixes of cgroup v2 interface files: "cgroup." and every controller's (irq.pressure has no controller). */
    private static final java.util.Set<String> INTERFACE_PREFIXES = java.util.Set.of("cgroup", "cpu", "cpuset", "io",
            "memory", "pids", "hugetlb", "rdma", "misc", "irq", "dmem", "freezer", "perf_event", "net_cls", "net_prio",
            "devices", "blkio");

    private Names() {}

    /**
     * Checks a group or instance name.
     *
     * @param what  what the name is, for the message ("group", "instance")
     * @param value the name
     * @return {@code value}, if valid
     * @throws IllegalArgumentException naming {@code what}, the value and the problem
     */
    public static String check(String what, String value) {
        if (value == null) throw new IllegalArgumentException(what + " must not be null");
        String problem = problem(value);
        if (problem != null)
            throw new IllegalArgumentException("invalid " + what + " " + quote(value) + ": " + problem
                    + " (allowed: [A-Za-z0-9][A-Za-z0-9._-]{0,63})");
        return value;
    }

    /**
     * Whether {@code value} is a valid group or instance name.
     *
     * @param value the name
     * @return true if {@link #check} would accept it
     */
    public static boolean isValid(String value) {
        return value != null && problem(value) == null;
    }

    private static String problem(String v) {
        if (v.isEmpty()) return "empty";
        if (v.length() > MAX_LENGTH) return "longer than " + MAX_LENGTH + " characters";
        if (!alnum(v.charAt(0))) return "must start with a letter or digit";
        for (int i = 1; i < v.length(); i++) {
            char c = v.charAt(i);
            if (!(alnum(c) || c == '.' || c == '_' || c == '-'))
                return "character " + quote(String.valueOf(c)) + " at index " + i + " is not allowed";
        }
        int dot = v.indexOf('.');
        if (dot > 0 && INTERFACE_PREFIXES.contains(v.substring(0, dot)))
            return "names of the form " + v.substring(0, dot) + ".* are cgroup interface files";
        return null;
    }

    private static boolean alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    }

    /** Quotes a value for an error message, showing control characters as escapes. */
    static String quote(String v) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < v.length() && i < 100; i++) {
            char c = v.charAt(i);
            if (c < 0x20 || c == 0x7f) b.append(String.format("\\x%02x", (int) c));
            else if (c == '"' || c == '\\') b.append('\\').append(c);
            else b.append(c);
        }
        if (v.length() > 100) b.append("...");
        return b.append('"').toString();
    }
}
