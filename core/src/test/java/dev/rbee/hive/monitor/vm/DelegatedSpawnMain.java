package dev.rbee.hive.monitor.vm;

import dev.rbee.hive.monitor.model.ExitReport;
import dev.rbee.hive.monitor.model.Limits;
import dev.rbee.hive.monitor.model.Output;
import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.model.SpawnException;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The unprivileged supervisor of {@link DelegationVmTest}: runs as the user
 * that owns DELEGATED, inside it, and prints "result KEY=VALUE" lines.
 * Usage: DelegatedSpawnMain DELEGATED OTHER LAUNCHER VM_HELPER
 */
public final class DelegatedSpawnMain {
    private DelegatedSpawnMain() {}

    public static void main(String[] args) throws Exception {
        Path delegated = Path.of(args[0]), other = Path.of(args[1]), launcher = Path.of(args[2]);
        String helper = args[3];
        result("uid", Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        result("self.cgroup", Files.readString(Path.of("/proc/self/cgroup")).strip());

        // Inside the delegated subtree: a worker with a pids limit.
        ProcessMonitor inside = ProcessMonitor.builder().root(delegated.resolve("rbee.slice")).launcher(launcher).build();
        result("inside.backend", inside.backend().kind());
        Worker w = inside.spawn(WorkerSpec.command(helper, "alloc", "1", "hold").withMonitoring("g", "i")
                .limits(Limits.builder().pidsMax(8).build()).output(Output.pipe()).build());
        BufferedReader out = new BufferedReader(new InputStreamReader(w.process().orElseThrow().getInputStream(), StandardCharsets.US_ASCII));
        result("inside.line", out.readLine());
        Path leaf = w.cgroup().orElseThrow();
        result("inside.cgroup", Files.readString(Path.of("/proc/" + w.pid() + "/cgroup")).strip());
        result("inside.pids.max", Files.readString(leaf.resolve("pids.max")).strip());
        result("inside.leaf.owner", Files.getAttribute(leaf, "unix:uid"));
        ExitReport r = w.stop(Duration.ofSeconds(5));
        result("inside.report", r.summary());
        result("inside.removed", r.cgroupRemoved());

        // Outside: another subtree this user owns, but outside the one it runs in.
        ProcessMonitor outside = ProcessMonitor.builder().root(other.resolve("rbee.slice")).launcher(launcher).build();
        result("outside.backend", outside.backend().kind());
        try {
            Worker escaped = outside.spawn(WorkerSpec.command("/bin/true").withMonitoring("g", "i").build());
            result("outside.step", "none: spawned pid " + escaped.pid());
            escaped.onExit().join();
        } catch (SpawnException e) {
            result("outside.step", e.step());
            result("outside.errno", e.errno().orElse("none"));
            result("outside.message", e.getMessage());
        }
        result("outside.left", Files.exists(other.resolve("rbee.slice")));

        // The delegation root's limit files were not given away.
        try {
            Files.writeString(delegated.resolve("pids.max"), "max");
            result("root.pids.max.write", "allowed");
        } catch (java.io.IOException e) {
            result("root.pids.max.write", e.getClass().getSimpleName());
        }
    }

    private static void result(String key, Object value) {
        System.out.println("result " + key + "=" + String.valueOf(value).replace('\n', ' '));
    }
}
