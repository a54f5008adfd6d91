package dev.rbee.hive.monitor.spawn;

import dev.rbee.hive.monitor.model.Output;
import dev.rbee.hive.monitor.model.SpawnException;
import dev.rbee.hive.monitor.model.SpawnException.Step;
import dev.rbee.hive.monitor.model.WorkerSpec;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** A spec's environment and output applied to a ProcessBuilder (the launcher's and the portable spawn alike). */
public final class Redirects {
    private Redirects() {}

    public static void apply(ProcessBuilder pb, WorkerSpec spec) throws SpawnException {
        if (spec.clearEnvironment()) pb.environment().clear();
        pb.environment().putAll(spec.environment());
        Optional<Path> log = spec.output().file(spec.logName());
        if (log.isPresent()) {
            try {
                Path parent = log.get().toAbsolutePath().getParent();
                if (parent != null) Files.createDirectories(parent);
            } catch (IOException e) {
                throw new SpawnException(Step.LAUNCHER, null, "cannot create log directory for " + log.get() + ": " + e, e);
            }
            // Both streams appended to one file; no stdin for a worker that logs.
            pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.get().toFile()));
            pb.redirectError(ProcessBuilder.Redirect.appendTo(log.get().toFile()));
            pb.redirectInput(ProcessBuilder.Redirect.from(new File(File.separatorChar == '/' ? "/dev/null" : "NUL")));
        } else if (spec.output() instanceof Output.Journal) {
            // rbee-launch puts the journal socket on fds 1 and 2; until then they point nowhere (no pipes to drain)
            pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
            pb.redirectError(ProcessBuilder.Redirect.DISCARD);
            pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        } else if (spec.output() instanceof Output.Inherit) {
            pb.inheritIO();
        }
    }
}
