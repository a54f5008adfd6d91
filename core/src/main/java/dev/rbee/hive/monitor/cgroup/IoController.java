package dev.rbee.hive.monitor.cgroup;

import dev.rbee.hive.monitor.model.IoLimit;
import dev.rbee.hive.monitor.model.Limits;
import dev.rbee.hive.monitor.read.AsciiBuffer;
import dev.rbee.hive.monitor.read.CgroupCounters;
import dev.rbee.hive.monitor.model.Counters.Field;
import dev.rbee.hive.monitor.read.StatFile;

import java.util.List;

/** io: writes io.max, one write per device (the kernel takes one line per write); reads io.stat. */
public final class IoController implements Controller {
    public static final IoController INSTANCE = new IoController();

    private IoController() {}

    @Override public String name() { return "io"; }

    @Override public boolean neededForStats() { return true; }

    @Override
    public List<LimitWrite> limitWrites(Limits l) {
        return l.io().stream().map(IoLimit::kernelLine).map(v -> new LimitWrite("io", "io.max", v)).toList();
    }

    // ---- stats ----------------------------------------------------------------

    public static final String NOT_ENABLED = "io controller not enabled";

    private static final byte[][] KEYS = AsciiBuffer.names("rbytes", "wbytes", "rios", "wios");
    private static final Field[] FIELDS = {Field.IO_RBYTES, Field.IO_WBYTES, Field.IO_RIOS, Field.IO_WIOS};

    /**
     * io.stat: one line per device, "MAJ:MIN rbytes=N wbytes=N rios=N wios=N
     * dbytes=N dios=N" (plus cost.* or latency keys where those are on); the
     * fields are sums over every device.  No line at all means no I/O yet: 0,
     * present.
     */
    private static final StatFile IO_STAT = new StatFile() {
        @Override public String name() { return "io.stat"; }

        @Override
        public void parse(AsciiBuffer b, CgroupCounters into) {
            long rbytes = 0, wbytes = 0, rios = 0, wios = 0;
            while (b.nextLine()) {
                if (!b.skipWord()) continue; // MAJ:MIN
                for (int k = b.word(KEYS); k != AsciiBuffer.END; k = b.word(KEYS)) {
                    if (k < 0) continue;
                    long v = b.unsigned();
                    if (v == AsciiBuffer.INVALID) continue;
                    switch (k) {
                        case 0 -> rbytes = AsciiBuffer.addSaturated(rbytes, v);
                        case 1 -> wbytes = AsciiBuffer.addSaturated(wbytes, v);
                        case 2 -> rios = AsciiBuffer.addSaturated(rios, v);
                        default -> wios = AsciiBuffer.addSaturated(wios, v);
                    }
                }
            }
            into.set(Field.IO_RBYTES, rbytes);
            into.set(Field.IO_WBYTES, wbytes);
            into.set(Field.IO_RIOS, rios);
            into.set(Field.IO_WIOS, wios);
        }

        @Override
        public void absent(CgroupCounters into) {
            for (Field f : FIELDS) into.absent(f, NOT_ENABLED);
        }
    };

    /** io.stat, summed over devices. */
    public List<StatFile> statFiles() {
        return List.of(IO_STAT);
    }
}
