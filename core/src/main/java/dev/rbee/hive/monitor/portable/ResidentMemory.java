package dev.rbee.hive.monitor.portable;

import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Structure;
import com.sun.jna.platform.mac.SystemB;
import com.sun.jna.platform.win32.BaseTSD;
import com.sun.jna.platform.win32.Kernel32;
import com.sun.jna.platform.win32.WinNT;
import com.sun.jna.win32.StdCallLibrary;
import com.sun.jna.win32.W32APIOptions;

import java.util.OptionalLong;

/**
 * Resident memory of one process where there is no /proc and no cgroup:
 * Windows (Psapi GetProcessMemoryInfo: working set) and macOS (proc_pidinfo
 * PROC_PIDTASKINFO: resident size), through jna-platform's bindings.  Compiled
 * everywhere; run only on those systems (see the README).
 */
public final class ResidentMemory {
    private static final int PROCESS_QUERY_LIMITED_INFORMATION = 0x1000, PROCESS_VM_READ = 0x0010;

    private ResidentMemory() {}

    /** Why {@link #of} gives nothing on this system, or null where it is implemented. */
    public static String unsupportedReason() {
        if (Platform.isWindows() || Platform.isMac()) return null;
        return "portable backend: resident memory is read only on Windows and macOS (on Linux use the cgroup2 or proctree backend)";
    }

    /** The process's resident bytes; empty where unsupported or the process is gone or not ours to read. */
    public static OptionalLong of(long pid) {
        if (Platform.isWindows()) return windows((int) pid);
        if (Platform.isMac()) return mac((int) pid);
        return OptionalLong.empty();
    }

    private static OptionalLong windows(int pid) {
        WinNT.HANDLE h = Kernel32.INSTANCE.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_VM_READ, false, pid);
        if (h == null) return OptionalLong.empty();
        try {
            ProcessMemoryCounters c = new ProcessMemoryCounters();
            c.cb = c.size();
            if (!PsapiMemory.INSTANCE.GetProcessMemoryInfo(h, c, c.size())) return OptionalLong.empty();
            return OptionalLong.of(c.WorkingSetSize.longValue());
        } finally {
            Kernel32.INSTANCE.CloseHandle(h);
        }
    }

    private static OptionalLong mac(int pid) {
        SystemB.ProcTaskInfo info = new SystemB.ProcTaskInfo();
        int n = SystemB.INSTANCE.proc_pidinfo(pid, SystemB.PROC_PIDTASKINFO, 0, info, info.size());
        return n == info.size() ? OptionalLong.of(info.pti_resident_size) : OptionalLong.empty();
    }

    /** psapi.dll's GetProcessMemoryInfo, which jna-platform does not bind; loaded on Windows only. */
    interface PsapiMemory extends StdCallLibrary {
        PsapiMemory INSTANCE = Native.load("psapi", PsapiMemory.class, W32APIOptions.DEFAULT_OPTIONS);

        boolean GetProcessMemoryInfo(WinNT.HANDLE process, ProcessMemoryCounters counters, int cb);
    }

    /** PROCESS_MEMORY_COUNTERS. */
    @Structure.FieldOrder({"cb", "PageFaultCount", "PeakWorkingSetSize", "WorkingSetSize", "QuotaPeakPagedPoolUsage",
            "QuotaPagedPoolUsage", "QuotaPeakNonPagedPoolUsage", "QuotaNonPagedPoolUsage", "PagefileUsage",
            "PeakPagefileUsage"})
    public static final class ProcessMemoryCounters extends Structure {
        public int cb, PageFaultCount;
        public BaseTSD.SIZE_T PeakWorkingSetSize, WorkingSetSize, QuotaPeakPagedPoolUsage, QuotaPagedPoolUsage,
                QuotaPeakNonPagedPoolUsage, QuotaNonPagedPoolUsage, PagefileUsage, PeakPagefileUsage;
    }
}
