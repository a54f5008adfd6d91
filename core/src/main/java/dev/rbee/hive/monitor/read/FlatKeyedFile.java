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
        if (keys.length > Long.SIZE) throw new IllegalArgumentException("more than 64 keys for " + name + ": " + keys.length);
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
        long set = 0; // bit k: key k read (at most 64 keys: see the constructor)
        int next = 0; // the key after the last one found: where the kernel's order puts the next line's
        while (b.nextLine()) {
            int k = b.word(keys, next);
            if (k < 0) continue;
            next = k + 1;
            long v = b.unsigned();
            if (v == AsciiBuffer.INVALID) continue;
            into.set(fields[k], v);
            set |= 1L << k;
        }
        for (int i = 0; i < fields.length; i++)
            if ((set & (1L << i)) == 0) into.absent(fields[i], missingKeyReasons[i]);
    }

    @Override
    public void absent(CgroupCounters into) {
        for (Field f : fields) into.absent(f, missingFileReason);
    }
}
