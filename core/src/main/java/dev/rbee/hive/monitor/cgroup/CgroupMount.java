package dev.rbee.hive.monitor.cgroup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A cgroup2 mount point, found in /proc/self/mountinfo (never hard-coded: pure
 * v2 hosts mount it at /sys/fs/cgroup, hybrid hosts elsewhere, e.g.
 * /sys/fs/cgroup/unified).
 *
 * @param mountPoint where it is mounted (escapes such as \040 decoded)
 * @param root       the cgroup this mount shows as its root ("/" unless bind-mounted or namespaced)
 */
public record CgroupMount(Path mountPoint, String root) {
    public static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

    /** The cgroup2 mount to use: the first whose root is "/", else the first one. */
    public static Optional<CgroupMount> find(Path mountinfo) throws IOException {
        List<CgroupMount> all = parse(Files.readAllLines(mountinfo));
        return all.stream().filter(m -> m.root().equals("/")).findFirst().or(() -> all.stream().findFirst());
    }

    /** Every cgroup2 mount in a mountinfo text, in order. */
    public static List<CgroupMount> parse(List<String> lines) {
        List<CgroupMount> out = new ArrayList<>();
        for (String line : lines) {
            // id parent maj:min root mountpoint options [optional fields...] - fstype source superopts
            int dash = line.indexOf(" - ");
            if (dash < 0) continue;
            String[] pre = line.substring(0, dash).split(" ");
            String[] post = line.substring(dash + 3).split(" ");
            if (pre.length < 6 || post.length < 1 || !post[0].equals("cgroup2")) continue;
            out.add(new CgroupMount(Path.of(unescape(pre[4])), unescape(pre[3])));
        }
        return out;
    }

    /** mountinfo escapes space, tab, newline and backslash as \ooo octal. */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) return s;
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && isOctal(s, i + 1) && isOctal(s, i + 2) && isOctal(s, i + 3)) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static boolean isOctal(String s, int i) {
        return i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '7';
    }
}
