package dev.rbee.hive.monitor.proc;

import dev.rbee.hive.monitor.model.MonitorConfig;
import dev.rbee.hive.monitor.model.Names;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Without cgroups there is no tree to find workers in after a restart, so the
 * process-tree backend keeps one small file per worker in the private runtime
 * directory: {@code proctree/{group}/{instance}} holding "PID STARTTICKS".  The
 * start time guards against pid reuse: an entry whose process is gone, or
 * whose pid now names another process, is stale.
 */
public final class ProcTreeRegistry {
    private final Path dir;

    public ProcTreeRegistry(Path runtimeDir) {
        this.dir = runtimeDir.resolve("proctree");
    }

    /** A registered worker whose main process still runs. */
    public record Entry(MonitorConfig worker, long pid, long startTicks) {}

    public void record(MonitorConfig w, long pid, long startTicks) throws IOException {
        Path f = file(w);
        Files.createDirectories(f.getParent());
        Path tmp = f.resolveSibling("." + w.instance() + ".tmp");
        Files.writeString(tmp, pid + " " + startTicks + "\n", StandardCharsets.US_ASCII);
        Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    public void remove(MonitorConfig w) {
        try {
            Files.deleteIfExists(file(w));
            Files.deleteIfExists(file(w).getParent()); // fails while other instances remain: fine
        } catch (IOException ignored) {
            // a non-empty group directory, or already gone
        }
    }

    /** The live entry for {@code w}, if its process still runs. */
    public Optional<Entry> live(MonitorConfig w) {
        try {
            String[] f = Files.readString(file(w), StandardCharsets.US_ASCII).strip().split(" ");
            long pid = Long.parseLong(f[0]), start = Long.parseLong(f[1]);
            Optional<ProcStat> st = ProcStat.read(pid);
            if (st.isPresent() && st.get().startTimeTicks() == start && st.get().state() != 'Z')
                return Optional.of(new Entry(w, pid, start));
        } catch (IOException | RuntimeException e) {
            // missing or unreadable: not live
        }
        return Optional.empty();
    }

    /** Every registered worker, live or stale. */
    public List<MonitorConfig> all() throws IOException {
        List<MonitorConfig> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) return out;
        try (var groups = Files.list(dir)) {
            for (Path g : groups.sorted().toList()) {
                if (!Files.isDirectory(g) || !Names.isValid(g.getFileName().toString())) continue;
                try (var inst = Files.list(g)) {
                    for (Path i : inst.sorted().toList())
                        if (Names.isValid(i.getFileName().toString()))
                            out.add(new MonitorConfig(g.getFileName().toString(), i.getFileName().toString()));
                }
            }
        }
        return out;
    }

    private Path file(MonitorConfig w) {
        return dir.resolve(w.group()).resolve(w.instance());
    }
}
