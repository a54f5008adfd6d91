package dev.rbee.hive.monitor.read;

import dev.rbee.hive.monitor.model.Counters.Field;

/**
 * A flat-keyed file ("key value\n" per line: cpu.stat, memory.stat,
 * memory.events).  Keys it does not know are skipped; a key that is not there
 * leaves its field absent with that key's reason.
 */
public final class FlatKeyedFile implements StatFile {
    private final String name;
    private final byte[][] keys;
    private final Field[] fields;
    private final String[] missingKeyReasons;
    private final String missingFileReason;

    /**
     * @param keys              the keys to read, as the kernel spells them
     * @param fields            the field of each key
     * @param missingKeyReasons the reason of each key's absence when the file has no such line
     * @param missingFileReason the reason of every field's absence when the file is missing
     */
    public FlatKeyedFile(String name, String[] keys, Field[] fields, String[] missingKeyReasons, String missingFileReason) {
        if (keys.length != fields.length || keys.length != missingKeyReasons.length)
            throw new IllegalArgumentException("keys, fields and reasons differ in length for " + name);
        this.name = name;
        this.keys = AsciiBuffer.names(keys);
        this.fields = fields.clone();
        this.missingKeyReasons = missingKeyReasons.clone();
        this.missingFileReason = missingFileReason;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public void parse(AsciiBuffer b, CgroupCounters into) {
        for (int i = 0; i < fields.length; i++) into.absent(fields[i], missingKeyReasons[i]);
        while (b.nextLine()) {
            int k = b.word(keys);
            if (k < 0) continue;
            long v = b.unsigned();
            if (v != AsciiBuffer.INVALID) into.set(fields[k], v);
        }
    }

    @Override
    public void absent(CgroupCounters into) {
        for (Field f : fields) into.absent(f, missingFileReason);
    }
}
