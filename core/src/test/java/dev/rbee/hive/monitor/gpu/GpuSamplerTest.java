package dev.rbee.hive.monitor.gpu;

import dev.rbee.hive.monitor.model.GpuDevice;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GpuSampler and the NVML binding against the stand-in libnvidia-ml.so.1.  The
 * figures are distinctive on purpose: a struct layout off by one field reads
 * other bytes, and these tests fail.
 */
class GpuSamplerTest {
    @TempDir Path dir;

    static final String UUID0 = "GPU-11111111-2222-3333-4444-555555555555";
    static final String UUID1 = "GPU-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
    static final long TOTAL0 = 85_899_345_920L, USED0 = 12_345_678_901L, TOTAL1 = 25_769_803_776L, USED1 = 3_456_789_012L;

    /** Two GPUs; pid 4242 runs on both, pid 5151's memory is "not available". */
    String[] twoGpus(String... extra) {
        List<String> lines = new java.util.ArrayList<>(List.of(
                "device " + UUID0 + " " + TOTAL0 + " " + USED0 + " 37 21 64 NVIDIA H100 80GB HBM3",
                "device " + UUID1 + " " + TOTAL1 + " " + USED1 + " 5 3 41 NVIDIA L4",
                "process 0 4242 123456789",
                "process 0 4343 987654321",
                "process 1 4242 222333444",
                "process 1 5151 NA",
                "sample 0 4242 1700000000000100 99 1",   // older sample of the same pid: the newest counts
                "sample 0 4242 1700000000000123 37 11",
                "sample 0 4343 1700000000000456 12 4",
                "sample 1 4242 1700000000000789 21 6",
                "log " + dir.resolve("calls.log")));
        lines.addAll(List.of(extra));
        return lines.toArray(String[]::new);
    }

    static final List<GpuDevice> DEVICES = List.of(
            new GpuDevice(0, UUID0, "NVIDIA H100 80GB HBM3", TOTAL0, USED0, OptionalInt.of(37), OptionalInt.of(64)),
            new GpuDevice(1, UUID1, "NVIDIA L4", TOTAL1, USED1, OptionalInt.of(5), OptionalInt.of(41)));
    static final List<GpuProcess> PROCESSES = List.of(
            new GpuProcess(0, 4242, OptionalLong.of(123456789), OptionalInt.of(37)),
            new GpuProcess(0, 4343, OptionalLong.of(987654321), OptionalInt.of(12)),
            new GpuProcess(1, 4242, OptionalLong.of(222333444), OptionalInt.of(21)),
            new GpuProcess(1, 5151, OptionalLong.empty(), OptionalInt.empty()));

    /** A sampler with room for a loaded test machine: the tests of the 200 ms bound itself use {@link #bounded}. */
    GpuSampler sampler(String variant) {
        return new GpuSampler(Optional.of(FakeNvml.library(variant)), Duration.ofSeconds(5));
    }

    GpuSampler bounded(String variant) {
        return new GpuSampler(Optional.of(FakeNvml.library(variant)), Duration.ofMillis(200));
    }

    List<String> log() throws IOException {
        return Files.readAllLines(dir.resolve("calls.log"));
    }

    @Test
    void missingLibraryIsAbsentWithTheLoadersReason() {
        try (GpuSampler s = new GpuSampler(Optional.of(dir.resolve("libnvidia-ml.so.1")), Duration.ofMillis(200))) {
            GpuSnapshot snap = s.sample();
            assertFalse(snap.present());
            String why = snap.absentReason().orElseThrow();
            assertTrue(why.startsWith("NVML not found: ") && why.contains("cannot open shared object file"), why);
            assertEquals(List.of(), snap.devices());
            assertEquals(0, snap.errorCount(), "no library is normal, not an error");
            assertEquals(new GpuUsage(OptionalLong.empty(), List.of(), Map.of(), OptionalDouble.empty()), snap.usageOf(Set.of(1L)));
        }
    }

    @Test
    void noGpuIsAbsentNotZero() throws IOException {
        FakeNvml.script(dir, "count 0");
        try (GpuSampler s = sampler("")) {
            GpuSnapshot snap = s.sample();
            assertEquals(Optional.of("no GPU: nvmlDeviceGetCount returned 0"), snap.absentReason());
            assertEquals(0, snap.errorCount());
            assertTrue(snap.usageOf(Set.of(1L)).vramBytes().isEmpty());
        }
    }

    @Test
    void driverNotLoadedIsAbsentWithNvmlsText() throws IOException {
        FakeNvml.script(dir, "init-error 9");
        try (GpuSampler s = sampler("")) {
            GpuSnapshot snap = s.sample();
            assertEquals(Optional.of("NVML init failed: Driver Not Loaded (9)"), snap.absentReason());
            assertEquals(0, snap.errorCount());
        }
    }

    @Test
    void twoDevicesWithProcessesReadExactly() throws IOException {
        FakeNvml.script(dir, twoGpus());
        GpuSnapshot snap;
        try (GpuSampler s = sampler("")) {
            snap = s.sample();
            assertEquals(Optional.empty(), snap.absentReason());
            assertEquals(DEVICES, snap.devices());
            assertEquals(PROCESSES, snap.processes());
            assertTrue(snap.processesComplete());
            assertEquals(0, snap.errorCount(), () -> snap.lastError().toString());

            // The next sample asks only for samples newer than those seen, per device.
            GpuSnapshot again = s.sample();
            assertEquals(DEVICES, again.devices());
            assertTrue(again.processes().stream().allMatch(p -> p.smUtilPct().isEmpty()), again.processes().toString());
            assertTrue(log().contains("nvmlDeviceGetProcessUtilization 0 count_in=0 lastSeen=1700000000000456 -> 6 count_out=0"));
            assertTrue(log().contains("nvmlDeviceGetProcessUtilization 1 count_in=0 lastSeen=1700000000000789 -> 6 count_out=0"));
        }
        assertTrue(log().contains("nvmlShutdown -> 0"), "close shuts NVML down");
    }

    @Test
    void attributionSumsEveryPidOverDevices() throws IOException {
        FakeNvml.script(dir, twoGpus());
        try (GpuSampler s = sampler("")) {
            GpuSnapshot snap = s.sample();
            // Per GPU, never summed over GPUs: 37 + 12 on GPU 0, 21 on GPU 1; the mean of the two is the worker's figure.
            assertEquals(new GpuUsage(OptionalLong.of(123456789L + 987654321L + 222333444L), List.of(0, 1),
                            Map.of(0, 37 + 12, 1, 21), OptionalDouble.of((37 + 12 + 21) / 2.0)),
                    snap.usageOf(Set.of(4242L, 4343L, 99L)));
            // Memory "not available" for a matched process: no sum that would look exact.
            assertEquals(new GpuUsage(OptionalLong.empty(), List.of(1), Map.of(), OptionalDouble.empty()), snap.usageOf(Set.of(5151L)));
            // Not on any GPU, and every list was read: truly zero.
            assertEquals(new GpuUsage(OptionalLong.of(0), List.of(), Map.of(), OptionalDouble.of(0)), snap.usageOf(Set.of(7L)));
        }
    }

    @Test
    void processBufferGrowsWhenTheListGrowsBetweenCalls() throws IOException {
        FakeNvml.script(dir, twoGpus("insufficient-size-once 9"));
        try (GpuSampler s = sampler("")) {
            GpuSnapshot snap = s.sample();
            assertEquals(PROCESSES, snap.processes());
            assertEquals(0, snap.errorCount(), () -> snap.lastError().toString());
        }
        List<String> v3 = log().stream().filter(l -> l.startsWith("nvmlDeviceGetComputeRunningProcesses_v3 0 ")).toList();
        // size (2 processes), offer 2 + slack = 7, told 7 + 9 = 16, offer 16 + slack = 28: success
        assertEquals(List.of(
                "nvmlDeviceGetComputeRunningProcesses_v3 0 count_in=0 -> 7 count_out=2",
                "nvmlDeviceGetComputeRunningProcesses_v3 0 count_in=7 -> 7 count_out=16",
                "nvmlDeviceGetComputeRunningProcesses_v3 0 count_in=28 -> 0 count_out=2"), v3);
    }

    @Test
    void v2OnlyDriverUsesTheV2Call() throws IOException {
        FakeNvml.script(dir, twoGpus());
        try (GpuSampler s = sampler("v2only")) {
            GpuSnapshot snap = s.sample();
            assertEquals(DEVICES, snap.devices());
            assertEquals(PROCESSES, snap.processes());
        }
        assertTrue(log().stream().anyMatch(l -> l.startsWith("nvmlDeviceGetComputeRunningProcesses_v2 1 ")));
        assertTrue(log().stream().noneMatch(l -> l.startsWith("nvmlDeviceGetComputeRunningProcesses_v3")));
    }

    @Test
    void v1OnlyDriverUsesTheLegacyCallAndLayout() throws IOException {
        FakeNvml.script(dir, twoGpus());
        try (GpuSampler s = sampler("v1only")) {
            assertEquals(PROCESSES, s.sample().processes());
        }
        assertTrue(log().stream().anyMatch(l -> l.startsWith("nvmlDeviceGetComputeRunningProcesses 1 ")));
    }

    @Test
    void v3WithTheConfidentialComputeLayoutIsProbed() throws IOException {
        FakeNvml.script(dir, twoGpus());
        try (GpuSampler s = sampler("ccv3")) {
            assertEquals(PROCESSES, s.sample().processes());
        }
    }

    @Test
    void errorCodeIsCountedAndReportedNotThrown() throws IOException {
        FakeNvml.script(dir, twoGpus("error nvmlDeviceGetTemperature 999",
                                     "error nvmlDeviceGetUtilizationRates 3")); // not supported: no error
        try (GpuSampler s = sampler("")) {
            GpuSnapshot snap = s.sample();
            assertTrue(snap.present());
            assertEquals(List.of(OptionalInt.empty(), OptionalInt.empty()),
                    snap.devices().stream().map(GpuDevice::temperatureC).toList());
            assertEquals(List.of(OptionalInt.empty(), OptionalInt.empty()),
                    snap.devices().stream().map(GpuDevice::utilizationPct).toList());
            assertEquals(2, snap.errorCount());
            assertEquals(Optional.of("nvmlDeviceGetTemperature(device 1): Unknown Error (999)"), snap.lastError());
            assertEquals(4, s.sample().errorCount(), "the count is cumulative");
        }
    }

    @Test
    void failedProcessListMakesUsageUnknownNotZero() throws IOException {
        FakeNvml.script(dir, twoGpus("error nvmlDeviceGetComputeRunningProcesses_v3 15 1"));
        try (GpuSampler s = sampler("")) {
            GpuSnapshot snap = s.sample();
            assertFalse(snap.processesComplete());
            assertEquals(PROCESSES.subList(2, 4), snap.processes(), "device 1 was still read");
            assertEquals(Optional.of("nvmlDeviceGetComputeRunningProcesses_v3(device 0): GPU is lost (15)"), snap.lastError());
            assertEquals(new GpuUsage(OptionalLong.empty(), List.of(), Map.of(), OptionalDouble.empty()), snap.usageOf(Set.of(7L)));
            assertEquals(OptionalLong.empty(), snap.usageOf(Set.of(4242L)).vramBytes());
        }
    }

    @Test
    void hungCallIsBoundedCountedAndRecovers() throws Exception {
        // The second nvmlDeviceGetCount_v2 call (second sample) hangs for 1.5 s.
        FakeNvml.script(dir, twoGpus("hang nvmlDeviceGetCount_v2 1500 1 1"));
        try (GpuSampler s = bounded("")) {
            assertTrue(awaitPresent(s).present());

            long t0 = System.nanoTime();
            GpuSnapshot first = s.sample();
            long firstMs = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(Optional.of("NVML did not answer within 200 ms"), first.absentReason());
            assertEquals(1, first.errorCount());
            assertEquals(first.absentReason(), first.lastError());
            assertTrue(firstMs < 1000, "sample took " + firstMs + " ms");

            t0 = System.nanoTime();
            GpuSnapshot busy = s.sample();
            long busyMs = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(Optional.of("NVML busy: a call from an earlier sample has not returned"), busy.absentReason());
            assertEquals(2, busy.errorCount());
            assertTrue(busyMs < 100, "busy sample took " + busyMs + " ms");

            GpuSnapshot later = awaitPresent(s);
            assertEquals(DEVICES, later.devices(), "NVML answers again once the call returns");
            assertTrue(later.errorCount() >= 2);
        }
    }

    @Test
    void slowStartIsNotAnError() throws Exception {
        FakeNvml.script(dir, twoGpus("hang nvmlInit_v2 700 1"));
        try (GpuSampler s = bounded("")) {
            GpuSnapshot first = s.sample();
            assertTrue(first.absentReason().orElseThrow().startsWith("NVML starting: "), first.toString());
            GpuSnapshot later = awaitPresent(s);
            assertEquals(DEVICES, later.devices());
            assertEquals(PROCESSES, later.processes(), "the dropped late reading used up no utilization samples");
            assertEquals(0, later.errorCount());
        }
    }

    /** Samples every 100 ms until NVML answers (10 s at most). */
    static GpuSnapshot awaitPresent(GpuSampler s) throws InterruptedException {
        GpuSnapshot snap = s.sample();
        for (long end = System.nanoTime() + 10_000_000_000L; !snap.present() && System.nanoTime() < end; ) {
            Thread.sleep(100);
            snap = s.sample();
        }
        return snap;
    }

    @Test
    void closedSamplerAnswersAbsent() throws IOException {
        FakeNvml.script(dir, twoGpus());
        GpuSampler s = sampler("");
        s.close();
        assertEquals(Optional.of("GPU sampler closed"), s.sample().absentReason());
    }
}
