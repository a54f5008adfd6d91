package dev.rbee.hive.monitor.vm.systemd;

import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.ExitReport;
import dev.rbee.hive.monitor.model.Limits;
import dev.rbee.hive.monitor.model.Output;
import dev.rbee.hive.monitor.model.ProcessStats;
import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.testing.Race;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

/**
 * The unprivileged supervisor of {@link RootlessVmTest}: runs as uid 65534 as
 * the main process of a Delegate=yes service, with the monitor's default
 * (automatic) placement, and prints "result KEY=VALUE" lines.
 * Usage: RootlessMain LAUNCHER VM_HELPER RACE_RUNS.  Single-threaded.
 */
public final class RootlessMain {
    private RootlessMain() {}

    public static void main(String[] args) throws Exception {
        Path launcher = Path.of(args[0]);
        String helper = args[1];
        int raceRuns = Integer.parseInt(args[2]);
        Path mount = Path.of("/sys/fs/cgroup");
        result("uid", Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        String unitCgroup = cgroupOfSelf();
        result("unit.cgroup", unitCgroup);

        try (ProcessMonitor m = ProcessMonitor.builder().launcher(launcher).build()) {
            result("backend", m.backend());
            result("self.cgroup", cgroupOfSelf());

            Worker w = m.spawn(WorkerSpec.command(helper, "alloc", "8", "hold").withMonitoring("rl", "w")
                    .limits(Limits.builder().pidsMax(8).memoryMax("32M").build()).output(Output.pipe()).build());
            BufferedReader out = new BufferedReader(new InputStreamReader(w.process().orElseThrow().getInputStream(), StandardCharsets.US_ASCII));
            result("worker.line", out.readLine());
            Path leaf = w.cgroup().orElseThrow();
            result("worker.cgroup", Files.readString(Path.of("/proc/" + w.pid() + "/cgroup")).strip());
            result("worker.pids.max", Files.readString(leaf.resolve("pids.max")).strip());
            result("worker.memory.max", Files.readString(leaf.resolve("memory.max")).strip());
            ProcessStats s = m.collectInstance("rl", "w").orElseThrow();
            result("stats.pids", s.pids());
            result("stats.rssMb", s.rssMb());
            result("stats.absent", s.absent());
            ExitReport r = w.stop(Duration.ofSeconds(5));
            result("stop.report", r.summary());
            result("stop.removed", r.cgroupRemoved());

            Race.Count c = Race.ourSpawn(m, mount, "race", raceRuns);
            result("race.lines", c.lines());
            result("race.escapes", c.escapes());
            m.cleanupStale();
        }
        // What is left below the unit's cgroup: only the supervisor's own leaf (with this JVM in it).
        Path unit = mount.resolve(unitCgroup.substring(1));
        String self = cgroupOfSelf();
        try (Stream<Path> s = Files.walk(unit)) {
            List<String> left = s.filter(Files::isDirectory).filter(d -> !d.equals(unit))
                    .map(d -> "/" + mount.relativize(d)).filter(d -> !self.equals(d) && !self.startsWith(d + "/")).toList();
            result("left", left);
        }
    }

    private static String cgroupOfSelf() throws java.io.IOException {
        return Files.readString(Path.of("/proc/self/cgroup")).strip().substring(3);
    }

    private static void result(String key, Object value) {
        System.out.println("result " + key + "=" + String.valueOf(value).replace('\n', ' '));
    }
}
