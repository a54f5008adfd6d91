package dev.rbee.hive.monitor.read;

import dev.rbee.hive.monitor.model.Counters.Field;

/** A file of one value on one line (memory.current, pids.max); "max" reads as {@link Long#MAX_VALUE}. */
public final class SingleValueFile implements StatFile {
    private final String name;
    private final Field field;
    private final String missingFileReason;
    /** The file holds something other than one number or "max", or a line without its newline. */
    private final String malformedReason;

    public SingleValueFile(String name, Field field, String missingFileReason) {
        this.name = name;
        this.field = field;
        this.missingFileReason = missingFileReason;
        this.malformedReason = "malformed or truncated " + name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public void parse(AsciiBuffer b, CgroupCounters into) {
        long v = b.nextLine() ? b.unsigned() : AsciiBuffer.INVALID;
        if (v != AsciiBuffer.INVALID && b.atLineEnd()) into.set(field, v);
        else into.absent(field, malformedReason);
    }

    @Override
    public void absent(CgroupCounters into) {
        into.absent(field, missingFileReason);
    }
}
