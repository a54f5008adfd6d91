package dev.rbee.hive.monitor.arch;

import dev.rbee.hive.monitor.ProcessMonitor;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The library's packages depend on each other one way only: values (model) at the
 * bottom, reading primitives (read) below cgroup and stats, the facade on top.
 * jdeps of the running JDK reads the compiled classes, so what is checked is what
 * the bytecode uses (javadoc links and unused imports do not count).
 */
class PackageCyclesTest {
    private static final String BASE = "dev.rbee.hive.monitor";
    // "   dev.rbee.hive.monitor.cgroup.Leaf   -> dev.rbee.hive.monitor.internal.Libc   dev.rbee.hive.monitor"
    private static final Pattern EDGE = Pattern.compile("^\\s+(\\S+)\\s+->\\s+(\\S+)\\s+\\S+\\s*$");

    @Test
    void coreHasNoPackageCycle() throws Exception {
        Path classes = Path.of(ProcessMonitor.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Map<String, Map<String, String>> graph = packageGraph(jdeps(classes));
        // The graph must be the real one: the facade reaches the values and the machinery.
        assertTrue(graph.getOrDefault(BASE, Map.of()).containsKey(BASE + ".model"), graph::toString);
        assertTrue(graph.getOrDefault(BASE + ".cgroup", Map.of()).containsKey(BASE + ".read"), graph::toString);
        findCycle(graph).ifPresent(cycle -> fail("package cycle: " + describe(cycle, graph)));
    }

    /** The detector itself: a cycle through three packages is found and named with a class edge each. */
    @Test
    void aCycleIsFoundAndNamed() {
        List<String> lines = List.of(
                "   a.X -> b.Y   classes",
                "   b.Y -> c.Z   classes",
                "   c.Z -> a.W   classes",
                "   a.X -> java.lang.Object   java.base");
        Map<String, Map<String, String>> graph = packageGraph(lines);
        Optional<List<String>> cycle = findCycle(graph);
        assertTrue(cycle.isPresent());
        String text = describe(cycle.get(), graph);
        assertTrue(text.contains("a -> b (a.X -> b.Y)") && text.contains("c -> a (c.Z -> a.W)"), text);
        assertFalse(findCycle(packageGraph(lines.subList(0, 2))).isPresent());
        assertEquals(Set.of("b"), graph.get("a").keySet());
    }

    private static List<String> jdeps(Path classes) throws IOException, InterruptedException {
        Path jdeps = Path.of(System.getProperty("java.home"), "bin", "jdeps");
        // The module's own requirements must be found for jdeps to read a module.
        Process p = new ProcessBuilder(jdeps.toString(), "--module-path", String.join(File.pathSeparator, requiredJars()),
                "--multi-release", String.valueOf(Runtime.version().feature()), "-verbose:class", "-filter:none", classes.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out.lines().toList();
    }

    /** The jars of the modules core requires, from the tests' class path (Maven puts them there). */
    static List<String> requiredJars() {
        return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(e -> e.matches(".*/(jackson-(core|databind|annotations)|jna|jna-platform)-[0-9][^/]*\\.jar"))
                .toList();
    }

    /** package -> (package it uses -> one class edge that shows it), for our packages only. */
    static Map<String, Map<String, String>> packageGraph(List<String> lines) {
        Map<String, Map<String, String>> all = new TreeMap<>();
        for (String line : lines) {
            Matcher m = EDGE.matcher(line);
            if (!m.matches()) continue;
            String from = packageOf(m.group(1)), to = packageOf(m.group(2));
            all.computeIfAbsent(from, k -> new TreeMap<>());
            if (!from.equals(to)) all.get(from).putIfAbsent(to, m.group(1) + " -> " + m.group(2));
        }
        // Ours are the packages jdeps read classes of; the JDK's and the libraries' only appear as targets.
        all.values().forEach(uses -> uses.keySet().retainAll(all.keySet()));
        all.values().removeIf(Map::isEmpty);
        return all;
    }

    private static String packageOf(String cls) {
        int dot = cls.lastIndexOf('.');
        return dot < 0 ? "" : cls.substring(0, dot);
    }

    /** A cycle as its packages in order (the first repeated at the end), if there is one. */
    static Optional<List<String>> findCycle(Map<String, Map<String, String>> g) {
        Set<String> done = new TreeSet<>();
        for (String start : g.keySet()) {
            Deque<String> path = new ArrayDeque<>();
            Optional<List<String>> c = dfs(start, g, path, done);
            if (c.isPresent()) return c;
        }
        return Optional.empty();
    }

    private static Optional<List<String>> dfs(String p, Map<String, Map<String, String>> g, Deque<String> path, Set<String> done) {
        if (done.contains(p)) return Optional.empty();
        if (path.contains(p)) {
            List<String> onPath = new ArrayList<>(path);
            List<String> cycle = new ArrayList<>(onPath.subList(onPath.indexOf(p), onPath.size()));
            cycle.add(p);
            return Optional.of(cycle);
        }
        path.addLast(p);
        for (String q : g.getOrDefault(p, Map.of()).keySet()) {
            Optional<List<String>> c = dfs(q, g, path, done);
            if (c.isPresent()) return c;
        }
        path.removeLast();
        done.add(p);
        return Optional.empty();
    }

    static String describe(List<String> cycle, Map<String, Map<String, String>> g) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i + 1 < cycle.size(); i++) {
            String a = cycle.get(i), b = cycle.get(i + 1);
            if (!sb.isEmpty()) sb.append(", ");
            sb.append(a).append(" -> ").append(b).append(" (").append(g.get(a).get(b)).append(')');
        }
        return sb.toString();
    }
}
