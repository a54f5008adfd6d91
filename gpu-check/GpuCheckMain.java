package dev.rbee.hive.monitor.gpu;

import dev.rbee.hive.monitor.model.GpuDevice;
import java.util.Set;

/**
 * {@code make gpu-check} (gpu-check/run.sh): prints what rbee's NVML binding
 * reports for one pid, to be read next to nvidia-smi.  A program, not part of
 * the library (which prints nothing): the script compiles it with javac
 * together with the gpu and model packages, on which alone it depends.
 *
 * <p>Usage: {@code GpuCheckMain PID [EXPECTED_MIB]}.  Exits 1 when NVML is
 * absent or the pid is not seen within about 10 s.
 */
public final class GpuCheckMain {
    private GpuCheckMain() {}

    public static void main(String[] args) throws InterruptedException {
        long pid = Long.parseLong(args[0]);
        String expected = args.length > 1 ? args[1] + " MiB requested by cudaMalloc" : "?";
        try (GpuSampler sampler = new GpuSampler()) {
            GpuSnapshot snap = sampler.sample();
            // NVML may still be starting, and the worker's context may take a moment to be listed.
            for (int i = 0; i < 40 && !seen(snap, pid); i++) {
                if (!snap.present() && !snap.absentReason().get().startsWith(GpuSampler.STARTING)) break;
                Thread.sleep(250);
                snap = sampler.sample();
            }
            if (!snap.present()) {
                System.out.println("rbee: NVML absent: " + snap.absentReason().get());
                System.exit(1);
            }
            System.out.println("rbee devices:");
            for (GpuDevice d : snap.devices()) {
                System.out.printf("  %d %s %s  memory used %d MiB of %d MiB  util %s  temp %s%n", d.index(), d.uuid(),
                        d.name(), d.memoryUsedBytes() >> 20, d.memoryTotalBytes() >> 20,
                        d.utilizationPct().isPresent() ? d.utilizationPct().getAsInt() + "%" : "n/a",
                        d.temperatureC().isPresent() ? d.temperatureC().getAsInt() + "C" : "n/a");
            }
            System.out.println("rbee compute processes (pid, used_memory as nvidia-smi rounds it, bytes, SM):");
            for (GpuProcess p : snap.processes()) {
                System.out.printf("  device %d  %d, %s, %s, %s%n", p.deviceIndex(), p.pid(),
                        p.usedMemoryBytes().isPresent() ? (p.usedMemoryBytes().getAsLong() >> 20) + " MiB" : "[N/A]",
                        p.usedMemoryBytes().isPresent() ? p.usedMemoryBytes().getAsLong() + " B" : "-",
                        p.smUtilPct().isPresent() ? p.smUtilPct().getAsInt() + "%" : "no sample");
            }
            GpuUsage u = snap.usageOf(Set.of(pid));
            System.out.printf("rbee usage of pid %d: vram %s, devices %s, SM %s (expected: at least %s)%n", pid,
                    u.vramBytes().isPresent() ? (u.vramBytes().getAsLong() >> 20) + " MiB (" + u.vramBytes().getAsLong() + " B)" : "absent",
                    u.deviceIndexes(), u.smUtilPct().isPresent() ? u.smUtilPct().getAsDouble() + "% (per GPU " + u.smUtilPctByDevice() + ")" : "absent", expected);
            // Again a second later: only samples newer than the first reading count.
            Thread.sleep(1000);
            GpuSnapshot later = sampler.sample();
            GpuUsage u2 = later.usageOf(Set.of(pid));
            System.out.println("rbee SM of pid " + pid + " one second later: "
                    + (u2.smUtilPct().isPresent() ? u2.smUtilPct().getAsDouble() + "%" : "absent")
                    + later.absentReason().map(r -> " (" + r + ")").orElse(""));
            System.out.println("rbee NVML errors: " + later.errorCount() + later.lastError().map(e -> " (last: " + e + ")").orElse(""));
            if (u.deviceIndexes().isEmpty()) {
                System.out.println("rbee: pid " + pid + " not seen on any GPU");
                System.exit(1);
            }
        }
    }

    private static boolean seen(GpuSnapshot snap, long pid) {
        return snap.processes().stream().anyMatch(p -> p.pid() == pid);
    }
}
