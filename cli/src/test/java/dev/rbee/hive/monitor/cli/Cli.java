package dev.rbee.hive.monitor.cli;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs rbee-mon in a child JVM, as a user would, with this test's classpath. */
final class Cli {
    record Result(int exit, String out, String err) {}

    private Cli() {}

    static Process start(String... args) throws Exception {
        return start(java.util.Map.of(), args);
    }

    /** With extra environment variables for the child. */
    static Process start(java.util.Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), RbeeMon.class.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env);
        return pb.start();
    }

    static Result run(String... args) throws Exception {
        return run(java.util.Map.of(), args);
    }

    static Result run(java.util.Map<String, String> env, String... args) throws Exception {
        Process p = start(env, args);
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p, true));
        String out = read(p, false);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("rbee-mon did not finish: " + String.join(" ", args));
        }
        return new Result(p.exitValue(), out, err.get());
    }

    private static String read(Process p, boolean stderr) {
        try {
            return new String((stderr ? p.getErrorStream() : p.getInputStream()).readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
