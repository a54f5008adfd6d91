package dev.rbee.hive.monitor.read;

/**
 * One stats file of a cgroup, as its controller knows it: the name, how to
 * parse it, and what its absence means.  Implementations allocate nothing.
 */
public interface StatFile {
    /** The file name in the cgroup directory, e.g. "memory.stat". */
    String name();

    /**
     * Parses the file's content (cursor before the first line) and sets each of
     * its fields either present or absent with a reason.
     */
    void parse(AsciiBuffer content, CgroupCounters into);

    /** The file does not exist or went away: marks each of its fields absent with the reason. */
    void absent(CgroupCounters into);
}
