package dev.rbee.hive.monitor.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A small option parser: {@code --name value}, {@code --name=value}, flags,
 * and everything after {@code --} as operands.  For a command that runs a
 * program, the first operand also ends the options (POSIX, like env(1)):
 * what follows belongs to the program, even if it looks like an option.
 */
final class Args {
    private final Map<String, String> values = new HashMap<>();
    private final List<String> rest = new ArrayList<>();

    static Args parse(String[] argv, int from, Set<String> withValue, Set<String> flags) throws UsageException {
        return parse(argv, from, withValue, flags, false);
    }

    /** As above; with {@code operandEndsOptions}, the first operand and all after it are operands. */
    static Args parse(String[] argv, int from, Set<String> withValue, Set<String> flags, boolean operandEndsOptions)
            throws UsageException {
        Args a = new Args();
        Set<String> valued = new java.util.HashSet<>(withValue);
        valued.addAll(Backends.OPTIONS); // every command takes the backend and placement options
        withValue = valued;
        for (int i = from; i < argv.length; i++) {
            String s = argv[i];
            if (s.equals("--")) {
                for (int j = i + 1; j < argv.length; j++) a.rest.add(argv[j]);
                break;
            }
            if (!s.startsWith("--")) {
                if (operandEndsOptions) {
                    for (int j = i; j < argv.length; j++) a.rest.add(argv[j]);
                    break;
                }
                a.rest.add(s);
                continue;
            }
            int eq = s.indexOf('=');
            String name = eq < 0 ? s.substring(2) : s.substring(2, eq);
            if (withValue.contains(name)) {
                String v;
                if (eq >= 0) v = s.substring(eq + 1);
                else if (i + 1 < argv.length) v = argv[++i];
                else throw new UsageException("option --" + name + " needs a value");
                a.values.put(name, v);
            } else if (flags.contains(name) && eq < 0) {
                a.values.put(name, "");
            } else {
                throw new UsageException("unknown option " + (eq < 0 ? s : s.substring(0, eq)));
            }
        }
        return a;
    }

    Optional<String> get(String name) {
        return Optional.ofNullable(values.get(name));
    }

    boolean has(String name) {
        return values.containsKey(name);
    }

    String require(String name) throws UsageException {
        String v = values.get(name);
        if (v == null) throw new UsageException("missing --" + name);
        return v;
    }

    List<String> rest() {
        return rest;
    }
}
