package dev.rbee.hive.monitor.cgroup;

import dev.rbee.hive.monitor.read.AsciiBuffer;
import dev.rbee.hive.monitor.read.CgroupCounters;
import dev.rbee.hive.monitor.model.Counters.Field;
import dev.rbee.hive.monitor.read.StatFile;

import java.util.List;

/**
 * Pressure stall information: cpu.pressure, memory.pressure, io.pressure.  Not
 * a controller one enables (so not in {@link Controller#all()}): the files exist
 * in every cgroup when the kernel has PSI on, whatever the controllers.
 *
 * <p>Each file has a "some" line and, since Linux 5.13 also for cpu, a "full"
 * line: {@code some avg10=0.00 avg60=0.00 avg300=0.00 total=0}.  The averages
 * are percentages with two decimals (kept as hundredths); total is cumulative
 * stall time in microseconds.
 */
public final class PressureController {
    public static final PressureController INSTANCE = new PressureController();

    private static final byte[][] KINDS = AsciiBuffer.names("some", "full");
    private static final byte[][] KEYS = AsciiBuffer.names("avg10", "avg60", "avg300", "total");

    private static final StatFile CPU = new PressureFile("cpu",
            Field.PSI_CPU_SOME_AVG10, Field.PSI_CPU_SOME_AVG60, Field.PSI_CPU_SOME_AVG300, Field.PSI_CPU_SOME_TOTAL_USEC,
            Field.PSI_CPU_FULL_AVG10, Field.PSI_CPU_FULL_AVG60, Field.PSI_CPU_FULL_AVG300, Field.PSI_CPU_FULL_TOTAL_USEC);
    private static final StatFile MEMORY = new PressureFile("memory",
            Field.PSI_MEMORY_SOME_AVG10, Field.PSI_MEMORY_SOME_AVG60, Field.PSI_MEMORY_SOME_AVG300, Field.PSI_MEMORY_SOME_TOTAL_USEC,
            Field.PSI_MEMORY_FULL_AVG10, Field.PSI_MEMORY_FULL_AVG60, Field.PSI_MEMORY_FULL_AVG300, Field.PSI_MEMORY_FULL_TOTAL_USEC);
    private static final StatFile IO = new PressureFile("io",
            Field.PSI_IO_SOME_AVG10, Field.PSI_IO_SOME_AVG60, Field.PSI_IO_SOME_AVG300, Field.PSI_IO_SOME_TOTAL_USEC,
            Field.PSI_IO_FULL_AVG10, Field.PSI_IO_FULL_AVG60, Field.PSI_IO_FULL_AVG300, Field.PSI_IO_FULL_TOTAL_USEC);

    private PressureController() {}

    /** The reason of every field of {@code resource}.pressure when the file is missing. */
    public static String notAvailable(String resource) {
        return "PSI not available (" + resource + ".pressure missing)";
    }

    /** cpu.pressure, memory.pressure, io.pressure. */
    public List<StatFile> statFiles() {
        return List.of(CPU, MEMORY, IO);
    }

    /** One resource's pressure file; its 8 fields are some avg10/60/300/total, then full the same. */
    private static final class PressureFile implements StatFile {
        private final String name;
        private final Field[] fields;
        private final String missingFile;
        private final String[] missingLine;

        PressureFile(String resource, Field... fields) {
            this.name = resource + ".pressure";
            this.fields = fields;
            this.missingFile = notAvailable(resource);
            this.missingLine = new String[] {"no some line in " + name, "no full line in " + name};
        }

        @Override public String name() { return name; }

        @Override
        public void parse(AsciiBuffer b, CgroupCounters into) {
            for (int i = 0; i < fields.length; i++) into.absent(fields[i], missingLine[i / 4]);
            while (b.nextLine()) {
                int kind = b.word(KINDS);
                if (kind < 0) continue;
                for (int k = b.word(KEYS); k != AsciiBuffer.END; k = b.word(KEYS)) {
                    if (k < 0) continue;
                    long v = k == 3 ? b.unsigned() : b.hundredths();
                    if (v != AsciiBuffer.INVALID) into.set(fields[kind * 4 + k], v);
                }
            }
        }

        @Override
        public void absent(CgroupCounters into) {
            for (Field f : fields) into.absent(f, missingFile);
        }
    }
}
