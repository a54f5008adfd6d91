package dev.rbee.hive.monitor.bench;

import java.util.Map;

/**
 * How cgroup files are usually parsed in Java (Elasticsearch's OsProbe, most
 * hand-written monitors): split each line on spaces, then on '=', parse the
 * numbers, keep them in a map by name.  The baseline of the sample benchmarks.
 */
final class NaiveParse {
    private NaiveParse() {}

    static void line(String file, String line, Map<String, Long> out) {
        if (line.isBlank()) return;
        String[] fields = line.trim().split("\\s+");
        if (file.equals("cgroup.procs")) {
            out.put("pid." + fields[0], Long.parseLong(fields[0]));
        } else if (fields.length == 1) {                       // memory.current: "123"
            out.put(file, number(fields[0]));
        } else if (fields.length == 2 && !fields[1].contains("=")) { // flat keyed: "usage_usec 123"
            out.put(file + "." + fields[0], number(fields[1]));
        } else {                                               // nested keyed: "some avg10=0.00 ..." / "8:0 rbytes=1 ..."
            for (int i = 1; i < fields.length; i++) {
                String[] kv = fields[i].split("=", 2);
                if (kv.length == 2) out.put(file + "." + fields[0] + "." + kv[0], number(kv[1]));
            }
        }
    }

    private static long number(String s) {
        if (s.equals("max")) return Long.MAX_VALUE;
        if (s.indexOf('.') >= 0) return Math.round(Double.parseDouble(s) * 100);
        return Long.parseLong(s);
    }
}
