package dev.rbee.hive.monitor.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text exposition format 0.0.4, stricter
 * than Prometheus itself where our output should never differ: every line is
 * a HELP, a TYPE or a sample (no blank lines, no other comments); each family
 * has exactly one HELP and one TYPE, both before its first sample; a family's
 * samples are contiguous; sample names match their family; counters end in
 * {@code _total} and are not negative; label names are valid and not
 * repeated; label values use only the escapes \\ \" \n; values parse as Go
 * floats; no series appears twice; the text ends with a line feed.
 * Throws {@link IllegalArgumentException} naming the line at the first fault.
 */
final class PromText {
    static final Pattern METRIC = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    static final Pattern LABEL = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    static final Pattern FLOAT = Pattern.compile("[+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?Inf|NaN");
    static final Set<String> TYPES = Set.of("counter", "gauge", "histogram", "summary", "untyped");

    record Sample(String name, Map<String, String> labels, double value) {}

    record Family(String name, String type, String help, List<Sample> samples) {}

    private PromText() {}

    /**
     * OpenMetrics 1.0 text, read by the same rules after checking what differs:
     * it ends with "# EOF"; a counter family is named without "_total" and
     * every sample of it has "_total"; an info family is named without "_info"
     * and every sample has "_info" and the value 1; HELP escapes the double quote.
     * Returns the families under their 0.0.4 names (counters with _total, info as gauge).
     */
    static Map<String, Family> parseOpenMetrics(String text) {
        if (!text.endsWith("\n# EOF\n")) throw new IllegalArgumentException("OpenMetrics text must end with # EOF");
        StringBuilder as004 = new StringBuilder();
        Map<String, String> rename = new HashMap<>();
        for (String line : text.substring(0, text.length() - "# EOF\n".length()).split("\n")) {
            if (line.startsWith("# TYPE ")) {
                String[] p = line.split(" ", 4);
                if (p[3].equals("counter")) rename.put(p[2], p[2] + "_total");
                else if (p[3].equals("info")) rename.put(p[2], p[2] + "_info");
                if (p[3].equals("counter") && p[2].endsWith("_total"))
                    throw new IllegalArgumentException("OpenMetrics names a counter family without _total: " + line);
                as004.append("# TYPE ").append(rename.getOrDefault(p[2], p[2])).append(' ')
                        .append(p[3].equals("info") ? "gauge" : p[3]).append('\n');
            } else if (line.startsWith("# HELP ")) {
                String[] p = line.split(" ", 4);
                if (p[3].matches(".*[^\\\\]\".*")) throw new IllegalArgumentException("unescaped \" in OpenMetrics HELP: " + line);
                String name = p[2];
                // The TYPE line comes after HELP: rename by the suffix the samples will show.
                as004.append("# HELP ").append(name).append("\u0000 ").append(p[3].replace("\\\"", "\"")).append('\n');
            } else {
                as004.append(line).append('\n');
            }
        }
        // Now that every TYPE is known, give HELP lines their 0.0.4 names.
        String t = as004.toString();
        for (Map.Entry<String, String> e : rename.entrySet()) t = t.replace("# HELP " + e.getKey() + "\u0000 ", "# HELP " + e.getValue() + " ");
        t = t.replaceAll("# HELP (\\S+)\u0000 ", "# HELP $1 ");
        Map<String, Family> f = parse(t);
        for (Map.Entry<String, String> e : rename.entrySet()) {
            Family fam = f.get(e.getValue());
            if (fam == null) continue;
            for (Sample x : fam.samples()) {
                if (!x.name().equals(e.getValue())) throw new IllegalArgumentException("sample " + x.name() + " of " + e.getKey());
                if (e.getValue().endsWith("_info") && x.value() != 1) throw new IllegalArgumentException("info value not 1: " + x);
            }
        }
        return f;
    }

    static Map<String, Family> parse(String text) {
        if (text.isEmpty()) throw new IllegalArgumentException("empty exposition");
        if (!text.endsWith("\n")) throw new IllegalArgumentException("the text does not end with a line feed");
        Map<String, String> help = new HashMap<>(), type = new HashMap<>();
        Map<String, Family> families = new LinkedHashMap<>();
        Set<String> series = new HashSet<>();
        Set<String> finished = new HashSet<>();
        String current = null;
        String[] lines = text.substring(0, text.length() - 1).split("\n", -1);
        for (int n = 0; n < lines.length; n++) {
            String line = lines[n];
            String where = "line " + (n + 1) + " \"" + line + "\": ";
            if (line.isEmpty()) throw new IllegalArgumentException(where + "blank line");
            if (line.startsWith("#")) {
                String[] p = line.split(" ", 4);
                if (p.length < 4 || !p[0].equals("#") || !(p[1].equals("HELP") || p[1].equals("TYPE")))
                    throw new IllegalArgumentException(where + "only '# HELP name text' and '# TYPE name type' comments expected");
                String name = p[2];
                if (!METRIC.matcher(name).matches()) throw new IllegalArgumentException(where + "invalid metric name");
                if (finished.contains(name) || families.containsKey(name))
                    throw new IllegalArgumentException(where + p[1] + " after the samples of " + name);
                if (current != null && !current.equals(name)) {
                    finished.add(current);
                    current = null;
                }
                if (p[1].equals("HELP")) {
                    if (help.put(name, unescapeHelp(p[3], where)) != null) throw new IllegalArgumentException(where + "second HELP");
                } else {
                    if (!TYPES.contains(p[3])) throw new IllegalArgumentException(where + "unknown type");
                    if (type.put(name, p[3]) != null) throw new IllegalArgumentException(where + "second TYPE");
                    if (p[3].equals("counter") && !name.endsWith("_total"))
                        throw new IllegalArgumentException(where + "a counter's name must end in _total");
                }
                continue;
            }
            Sample s = sample(line, where);
            String family = familyOf(s.name, type);
            if (family == null) throw new IllegalArgumentException(where + "sample before its TYPE line");
            if (!help.containsKey(family)) throw new IllegalArgumentException(where + "sample before its HELP line");
            if (finished.contains(family)) throw new IllegalArgumentException(where + "samples of " + family + " not contiguous");
            if (current != null && !current.equals(family)) finished.add(current);
            current = family;
            if (type.get(family).equals("counter") && !(s.value >= 0))
                throw new IllegalArgumentException(where + "negative or NaN counter");
            if (!series.add(s.name + new TreeMap<>(s.labels)))
                throw new IllegalArgumentException(where + "duplicate series");
            families.computeIfAbsent(family, f -> new Family(f, type.get(f), help.get(f), new ArrayList<>())).samples().add(s);
        }
        for (String f : type.keySet())
            if (!families.containsKey(f)) throw new IllegalArgumentException("family " + f + " has a TYPE but no samples");
        return families;
    }

    private static String familyOf(String sample, Map<String, String> type) {
        if (type.containsKey(sample)) {
            String t = type.get(sample);
            return t.equals("histogram") || t.equals("summary") ? null : sample;
        }
        for (String suffix : new String[] {"_bucket", "_sum", "_count"}) {
            if (!sample.endsWith(suffix)) continue;
            String base = sample.substring(0, sample.length() - suffix.length());
            String t = type.get(base);
            if ("histogram".equals(t) || ("summary".equals(t) && !suffix.equals("_bucket"))) return base;
        }
        return null;
    }

    static Sample sample(String line, String where) {
        int i = 0;
        while (i < line.length() && line.charAt(i) != '{' && line.charAt(i) != ' ') i++;
        String name = line.substring(0, i);
        if (!METRIC.matcher(name).matches()) throw new IllegalArgumentException(where + "invalid metric name \"" + name + "\"");
        Map<String, String> labels = new LinkedHashMap<>();
        if (i < line.length() && line.charAt(i) == '{') {
            i++;
            while (true) {
                if (i >= line.length()) throw new IllegalArgumentException(where + "unterminated label set");
                if (line.charAt(i) == '}') {
                    i++;
                    break;
                }
                int eq = line.indexOf('=', i);
                if (eq < 0) throw new IllegalArgumentException(where + "label without '='");
                String label = line.substring(i, eq);
                if (!LABEL.matcher(label).matches() || label.startsWith("__"))
                    throw new IllegalArgumentException(where + "invalid label name \"" + label + "\"");
                i = eq + 1;
                if (i >= line.length() || line.charAt(i) != '"') throw new IllegalArgumentException(where + "label value not quoted");
                i++;
                StringBuilder v = new StringBuilder();
                while (true) {
                    if (i >= line.length()) throw new IllegalArgumentException(where + "unterminated label value");
                    char c = line.charAt(i++);
                    if (c == '"') break;
                    if (c == '\\') {
                        if (i >= line.length()) throw new IllegalArgumentException(where + "dangling backslash");
                        char e = line.charAt(i++);
                        switch (e) {
                            case '\\' -> v.append('\\');
                            case '"' -> v.append('"');
                            case 'n' -> v.append('\n');
                            default -> throw new IllegalArgumentException(where + "invalid escape \\" + e);
                        }
                    } else {
                        v.append(c);
                    }
                }
                if (labels.put(label, v.toString()) != null) throw new IllegalArgumentException(where + "label " + label + " twice");
                if (i < line.length() && line.charAt(i) == ',') i++;
                else if (i >= line.length() || line.charAt(i) != '}')
                    throw new IllegalArgumentException(where + "expected ',' or '}' after a label");
            }
        }
        if (i >= line.length() || line.charAt(i) != ' ') throw new IllegalArgumentException(where + "no space before the value");
        String[] rest = line.substring(i + 1).split(" ", -1);
        if (rest.length > 2) throw new IllegalArgumentException(where + "extra fields");
        if (!FLOAT.matcher(rest[0]).matches()) throw new IllegalArgumentException(where + "value \"" + rest[0] + "\" is not a float");
        if (rest.length == 2 && !rest[1].matches("-?[0-9]+")) throw new IllegalArgumentException(where + "bad timestamp");
        String v = rest[0];
        double value = v.endsWith("Inf") ? (v.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY)
                : v.equals("NaN") ? Double.NaN : Double.parseDouble(v);
        return new Sample(name, labels, value);
    }

    private static String unescapeHelp(String text, String where) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c != '\\') {
                b.append(c);
                continue;
            }
            if (++i >= text.length()) throw new IllegalArgumentException(where + "dangling backslash in HELP");
            char e = text.charAt(i);
            if (e == '\\') b.append('\\');
            else if (e == 'n') b.append('\n');
            else throw new IllegalArgumentException(where + "invalid escape \\" + e + " in HELP");
        }
        return b.toString();
    }
}
