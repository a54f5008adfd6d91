package dev.rbee.hive.monitor.proc;

import dev.rbee.hive.monitor.model.NodeStats;
import dev.rbee.hive.monitor.gpu.GpuSnapshot;
import dev.rbee.hive.monitor.read.AsciiBuffer;
import dev.rbee.hive.monitor.read.KeptOpenFile;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/** Node CPU % and RAM from /proc/stat and /proc/meminfo, kept open and re-read. */
public final class NodeReader implements AutoCloseable {
    private static final byte[][] CPU = AsciiBuffer.names("cpu");
    private static final byte[][] MEM = AsciiBuffer.names("MemTotal:", "MemAvailable:");
    private static final double MIB = 1024.0 * 1024.0;

    private final AsciiBuffer buf = new AsciiBuffer();
    private final KeptOpenFile stat, meminfo;
    private long prevBusy = -1, prevTotal = -1;

    public NodeReader() throws IOException {
        this(Path.of("/proc/stat"), Path.of("/proc/meminfo"));
    }

    NodeReader(Path stat, Path meminfo) throws IOException {
        this.stat = new KeptOpenFile(stat, buf, false);
        this.meminfo = new KeptOpenFile(meminfo, buf, false);
        this.stat.open();
        this.meminfo.open();
    }

    public synchronized NodeStats read(Optional<GpuSnapshot> gpu) throws IOException {
        Map<String, String> absent = new LinkedHashMap<>();
        OptionalDouble cpu = OptionalDouble.empty();
        if (stat.read() > 0 && buf.nextLine() && buf.word(CPU) == 0) {
            // user nice system idle iowait irq softirq steal (guest time is already in user)
            long total = 0, idle = 0;
            for (int i = 0; i < 8; i++) {
                long v = buf.unsigned();
                if (v < 0) break;
                total += v;
                if (i == 3 || i == 4) idle += v;
            }
            long busy = total - idle;
            if (prevTotal >= 0 && total > prevTotal)
                cpu = OptionalDouble.of(100.0 * (busy - prevBusy) / (total - prevTotal));
            prevBusy = busy;
            prevTotal = total;
        }
        if (cpu.isEmpty()) absent.put("cpu_pct", prevTotal < 0 ? "/proc/stat unreadable" : "first sample: no rate yet");
        long memTotal = -1, memAvail = -1;
        if (meminfo.read() > 0) {
            while (buf.nextLine()) {
                int k = buf.word(MEM);
                if (k == 0) memTotal = buf.unsigned();
                else if (k == 1) memAvail = buf.unsigned();
            }
        }
        OptionalDouble total = memTotal > 0 ? OptionalDouble.of(memTotal * 1024 / MIB) : OptionalDouble.empty();
        OptionalDouble used = memTotal > 0 && memAvail >= 0 ? OptionalDouble.of((memTotal - memAvail) * 1024 / MIB) : OptionalDouble.empty();
        if (total.isEmpty()) absent.put("ram_total_mb", "no MemTotal in /proc/meminfo");
        if (used.isEmpty()) absent.put("ram_used_mb", "no MemAvailable in /proc/meminfo");
        List<dev.rbee.hive.monitor.model.GpuDevice> gpus = gpu.map(GpuSnapshot::devices).orElse(List.of());
        if (gpus.isEmpty()) absent.put("gpus", gpu.flatMap(GpuSnapshot::absentReason).orElse("GPU sampling not enabled"));
        return new NodeStats(cpu, used, total, gpus, absent);
    }

    @Override
    public void close() {
        stat.close();
        meminfo.close();
    }
}
