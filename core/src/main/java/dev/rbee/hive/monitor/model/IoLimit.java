package dev.rbee.hive.monitor.model;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.regex.Pattern;

/**
 * One device's line of {@code io.max}: {@code MAJ:MIN rbps= wbps= riops= wiops=}.
 * Unset fields are left out of the line, so the kernel keeps them at "max".
 *
 * <p>Immutable: thread-safe, to share between threads as it is.
 *
 * @param device    {@code MAJ:MIN} of a block device
 * @param readBps   rbps: bytes read per second
 * @param writeBps  wbps: bytes written per second
 * @param readIops  riops: read operations per second
 * @param writeIops wiops: write operations per second
 */
public record IoLimit(String device, OptionalLong readBps, OptionalLong writeBps,
                      OptionalLong readIops, OptionalLong writeIops) {
    private static final Pattern DEVICE = Pattern.compile("[0-9]{1,4}:[0-9]{1,7}");

    /** Checks the device and that at least one limit is set. */
    public IoLimit {
        if (device == null || !DEVICE.matcher(device).matches())
            throw new IllegalArgumentException("invalid io device " + Names.quote(String.valueOf(device))
                    + ": expected MAJOR:MINOR, e.g. 8:0");
        if (readBps.isEmpty() && writeBps.isEmpty() && readIops.isEmpty() && writeIops.isEmpty())
            throw new IllegalArgumentException("io limit for " + device + " sets nothing");
    }

    /**
     * Parses "8:0 rbps=1M wbps=max riops=100" (sizes as in {@link Size#parse}).
     *
     * @param spec the line
     * @return the limit
     * @throws IllegalArgumentException naming the part that is wrong
     */
    public static IoLimit parse(String spec) {
        String[] parts = spec.strip().split("\\s+");
        OptionalLong[] v = {OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty()};
        List<String> keys = List.of("rbps", "wbps", "riops", "wiops");
        for (int i = 1; i < parts.length; i++) {
            int eq = parts[i].indexOf('=');
            int k = eq < 0 ? -1 : keys.indexOf(parts[i].substring(0, eq));
            if (k < 0)
                throw new IllegalArgumentException("invalid io limit " + Names.quote(spec) + ": "
                        + Names.quote(parts[i]) + " is not one of rbps=, wbps=, riops=, wiops=");
            v[k] = OptionalLong.of(Size.parse(parts[i].substring(eq + 1)).bytes());
        }
        return new IoLimit(parts[0], v[0], v[1], v[2], v[3]);
    }

    /**
     * The line written to io.max.
     *
     * @return e.g. "8:0 rbps=1048576"
     */
    public String kernelLine() {
        List<String> f = new ArrayList<>();
        f.add(device);
        add(f, "rbps", readBps);
        add(f, "wbps", writeBps);
        add(f, "riops", readIops);
        add(f, "wiops", writeIops);
        return String.join(" ", f);
    }

    private static void add(List<String> f, String key, OptionalLong v) {
        v.ifPresent(x -> f.add(key + "=" + (x == Long.MAX_VALUE ? "max" : Long.toString(x))));
    }
}
