package dev.rbee.hive.monitor.testing;

import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;

/**
 * A stand-in supervisor for tests that need a second JVM: spawns one
 * {@code sleep} worker per instance in GROUP, prints "ready", then waits to be
 * killed (or exits at once with "exit").
 * Usage: Supervisor GROUP wait|exit INSTANCE...
 */
public final class Supervisor {
    public static void main(String[] args) throws Exception {
        ProcessMonitor m = ProcessMonitor.create();
        for (int i = 2; i < args.length; i++) {
            Worker w = m.spawn(WorkerSpec.command("/bin/sh", "-c", "sleep 1000 & sleep 1000; wait").withMonitoring(args[0], args[i]).build());
            System.out.println("worker " + args[i] + " " + w.pid());
        }
        System.out.println("ready");
        System.out.flush();
        if (args[1].equals("wait")) Thread.sleep(600_000);
        Runtime.getRuntime().halt(0); // like a crash: no cleanup of any kind
    }
}
