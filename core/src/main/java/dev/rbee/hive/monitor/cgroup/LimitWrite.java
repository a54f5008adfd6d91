package dev.rbee.hive.monitor.cgroup;

/** One value a controller writes to one file of a leaf to apply a limit. */
public record LimitWrite(String controller, String file, String value) {}
