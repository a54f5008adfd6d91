package dev.rbee.hive.monitor.gpu;

import dev.rbee.hive.monitor.model.GpuDevice;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The NVML calls rbee needs, bound with FFM.  Not thread-safe: {@link GpuSampler}
 * makes every call on its one NVML thread, so that a call that hangs in the
 * driver holds up only that thread.
 *
 * <p>Nothing here throws to the caller: a missing library or driver, or no GPU,
 * makes the instance "absent" with a reason; a failing call is reported in
 * {@link Reading#errors()}.
 */
final class Nvml implements AutoCloseable {
    static final String SONAME = "libnvidia-ml.so.1";

    static final int SUCCESS = 0, ERROR_NOT_SUPPORTED = 3, ERROR_NOT_FOUND = 6, ERROR_INSUFFICIENT_SIZE = 7;
    /** usedGpuMemory when the driver cannot tell (MIG, WDDM): ULLONG_MAX. */
    static final long VALUE_NOT_AVAILABLE = -1L;
    static final int TEMPERATURE_GPU = 0;
    /** NVML_DEVICE_UUID_V2_BUFFER_SIZE and NVML_DEVICE_NAME_V2_BUFFER_SIZE are both 96. */
    static final int STRING_BUFFER = 96;

    // C layouts (x86-64 and aarch64 LP64: unsigned int 4 bytes, unsigned long long 8, natural alignment).
    static final StructLayout MEMORY = MemoryLayout.structLayout(
            JAVA_LONG.withName("total"), JAVA_LONG.withName("free"), JAVA_LONG.withName("used"));
    static final StructLayout UTILIZATION = MemoryLayout.structLayout(
            JAVA_INT.withName("gpu"), JAVA_INT.withName("memory"));
    /** nvmlProcessInfo_v1_t: the legacy unversioned call. */
    static final StructLayout PROCESS_INFO_V1 = MemoryLayout.structLayout(
            JAVA_INT.withName("pid"), MemoryLayout.paddingLayout(4), JAVA_LONG.withName("usedGpuMemory"));
    /** nvmlProcessInfo_v2_t, also what _v3 fills on most drivers. */
    static final StructLayout PROCESS_INFO_V2 = MemoryLayout.structLayout(
            JAVA_INT.withName("pid"), MemoryLayout.paddingLayout(4), JAVA_LONG.withName("usedGpuMemory"),
            JAVA_INT.withName("gpuInstanceId"), JAVA_INT.withName("computeInstanceId"));
    /** What _v3 fills on the drivers that briefly added usedGpuCcProtectedMemory to it. */
    static final StructLayout PROCESS_INFO_CC = MemoryLayout.structLayout(
            JAVA_INT.withName("pid"), MemoryLayout.paddingLayout(4), JAVA_LONG.withName("usedGpuMemory"),
            JAVA_INT.withName("gpuInstanceId"), JAVA_INT.withName("computeInstanceId"),
            JAVA_LONG.withName("usedGpuCcProtectedMemory"));
    static final StructLayout SAMPLE = MemoryLayout.structLayout(
            JAVA_INT.withName("pid"), MemoryLayout.paddingLayout(4), JAVA_LONG.withName("timeStamp"),
            JAVA_INT.withName("smUtil"), JAVA_INT.withName("memUtil"),
            JAVA_INT.withName("encUtil"), JAVA_INT.withName("decUtil"));

    /**
     * One sample's result; {@code errors} are the failed calls, as text.  {@code lastSeen}:
     * per device index, the newest utilization sample timestamp, to pass to the next read.
     */
    record Reading(List<GpuDevice> devices, List<GpuProcess> processes, Optional<String> absentReason,
                   boolean processesComplete, List<String> errors, Map<Integer, Long> lastSeen) {
        static Reading absent(String reason, List<String> errors) {
            return new Reading(List.of(), List.of(), Optional.of(reason), false, errors, Map.of());
        }
    }

    /** Which running-processes call the library has, and the element layout it fills. */
    record ProcessCall(String symbol, StructLayout layout, MethodHandle handle) {}

    private static final Linker LINKER = Linker.nativeLinker();
    private static final FunctionDescriptor INT_DEV_PTR = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
    private static final FunctionDescriptor INT_DEV_PTR_PTR = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
    private static final FunctionDescriptor INT_DEV_BUF_LEN = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT);

    private final Optional<String> absent;
    private final String library;
    private MethodHandle shutdown, errorString, getCount, getHandle, getUuid, getName, getMemory;
    private Optional<MethodHandle> getUtilization = Optional.empty(), getTemperature = Optional.empty(),
            getProcessUtilization = Optional.empty();
    private Optional<ProcessCall> processCall = Optional.empty();
    private boolean initialized;

    private Nvml(String library, Optional<String> absent) {
        this.library = library;
        this.absent = absent;
    }

    /** Loads the library ({@code libnvidia-ml.so.1} by the loader's search, or the given file) and calls nvmlInit_v2. */
    static Nvml open(Optional<Path> path) {
        String name = path.map(Path::toString).orElse(SONAME);
        SymbolLookup lookup;
        try {
            // Global arena: the library is never unloaded.  A call that timed out may still be running
            // inside it, and NVML does not promise that unloading it is safe.
            lookup = path.isPresent() ? SymbolLookup.libraryLookup(path.get(), Arena.global())
                                      : SymbolLookup.libraryLookup(SONAME, Arena.global());
        } catch (IllegalArgumentException e) {
            return new Nvml(name, Optional.of("NVML not found: " + Dl.whyNot(name).orElse(e.getMessage())));
        }
        Nvml n = new Nvml(name, Optional.empty());
        Optional<String> why = n.bind(lookup);
        return why.isPresent() ? new Nvml(name, why) : n;
    }

    /** Binds the symbols and initializes NVML; returns why NVML is absent, if it is. */
    private Optional<String> bind(SymbolLookup lib) {
        try {
            for (String required : List.of("nvmlInit_v2", "nvmlShutdown", "nvmlErrorString", "nvmlDeviceGetCount_v2",
                    "nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetUUID", "nvmlDeviceGetName", "nvmlDeviceGetMemoryInfo")) {
                if (lib.find(required).isEmpty()) return Optional.of("NVML unusable: " + library + " lacks " + required);
            }
            MethodHandle init = handle(lib, "nvmlInit_v2", FunctionDescriptor.of(JAVA_INT));
            shutdown = handle(lib, "nvmlShutdown", FunctionDescriptor.of(JAVA_INT));
            errorString = handle(lib, "nvmlErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
            getCount = handle(lib, "nvmlDeviceGetCount_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            getHandle = handle(lib, "nvmlDeviceGetHandleByIndex_v2", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
            getUuid = handle(lib, "nvmlDeviceGetUUID", INT_DEV_BUF_LEN);
            getName = handle(lib, "nvmlDeviceGetName", INT_DEV_BUF_LEN);
            getMemory = handle(lib, "nvmlDeviceGetMemoryInfo", INT_DEV_PTR);
            getUtilization = optionalHandle(lib, "nvmlDeviceGetUtilizationRates", INT_DEV_PTR);
            getTemperature = optionalHandle(lib, "nvmlDeviceGetTemperature",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
            getProcessUtilization = optionalHandle(lib, "nvmlDeviceGetProcessUtilization",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
            processCall = probeProcessCall(lib);

            int rc = (int) init.invokeExact();
            if (rc != SUCCESS) return Optional.of("NVML init failed: " + describe(rc));
            initialized = true;
            return Optional.empty();
        } catch (Throwable t) {
            return Optional.of("NVML unusable: " + t);
        }
    }

    /**
     * The newest running-processes call the library exports.  Drivers that export
     * nvmlDeviceGetConfComputeMemSizeInfo but not nvmlDeviceGetRunningProcessDetailList
     * fill _v3 with the 32-byte layout; all others fill the 24-byte v2 layout.
     * Reading one layout as the other turns every element after the first into garbage.
     */
    private static Optional<ProcessCall> probeProcessCall(SymbolLookup lib) {
        String v3 = "nvmlDeviceGetComputeRunningProcesses_v3", v2 = "nvmlDeviceGetComputeRunningProcesses_v2",
                v1 = "nvmlDeviceGetComputeRunningProcesses";
        if (lib.find(v3).isPresent()) {
            boolean cc = lib.find("nvmlDeviceGetConfComputeMemSizeInfo").isPresent()
                    && lib.find("nvmlDeviceGetRunningProcessDetailList").isEmpty();
            return Optional.of(new ProcessCall(v3, cc ? PROCESS_INFO_CC : PROCESS_INFO_V2, handle(lib, v3, INT_DEV_PTR_PTR)));
        }
        if (lib.find(v2).isPresent()) return Optional.of(new ProcessCall(v2, PROCESS_INFO_V2, handle(lib, v2, INT_DEV_PTR_PTR)));
        if (lib.find(v1).isPresent()) return Optional.of(new ProcessCall(v1, PROCESS_INFO_V1, handle(lib, v1, INT_DEV_PTR_PTR)));
        return Optional.empty();
    }

    private static MethodHandle handle(SymbolLookup lib, String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(lib.find(name).orElseThrow(), fd);
    }

    private static Optional<MethodHandle> optionalHandle(SymbolLookup lib, String name, FunctionDescriptor fd) {
        return lib.find(name).map(s -> LINKER.downcallHandle(s, fd));
    }

    Optional<String> absentReason() {
        return absent;
    }

    /** The symbol used for running processes, e.g. "nvmlDeviceGetComputeRunningProcesses_v3 (24-byte entries)". */
    Optional<String> processCallName() {
        return processCall.map(c -> c.symbol() + " (" + c.layout().byteSize() + "-byte entries)");
    }

    /**
     * Reads every device and its processes.  {@code lastSeen} (from the previous
     * reading the caller used) makes NVML return only newer utilization samples;
     * the caller keeps it, so that a reading it dropped (too late) loses no samples.
     */
    Reading read(Map<Integer, Long> lastSeen) {
        if (absent.isPresent()) return Reading.absent(absent.get(), List.of());
        List<String> errors = new ArrayList<>();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment countOut = a.allocate(JAVA_INT);
            int rc = (int) getCount.invokeExact(countOut);
            if (rc != SUCCESS) {
                errors.add("nvmlDeviceGetCount_v2: " + describe(rc));
                return Reading.absent("NVML error: " + errors.getLast(), errors);
            }
            int count = countOut.get(JAVA_INT, 0);
            if (count == 0) return Reading.absent("no GPU: nvmlDeviceGetCount returned 0", errors);

            List<GpuDevice> devices = new ArrayList<>();
            List<GpuProcess> processes = new ArrayList<>();
            Map<Integer, Long> seen = new HashMap<>(lastSeen);
            boolean complete = processCall.isPresent();
            if (!complete) errors.add("NVML: " + library + " exports no nvmlDeviceGetComputeRunningProcesses call");
            for (int i = 0; i < count; i++) {
                Optional<MemorySegment> dev = device(a, i, errors);
                Optional<GpuDevice> d = dev.isPresent() ? readDevice(a, i, dev.get(), errors) : Optional.empty();
                if (d.isEmpty()) {
                    complete = false; // its processes are unknown
                    continue;
                }
                devices.add(d.get());
                Optional<List<GpuProcess>> ps = readProcesses(a, i, dev.get(), seen, errors);
                if (ps.isPresent()) processes.addAll(ps.get()); else complete = false;
            }
            return new Reading(devices, processes, Optional.empty(), complete, errors, Map.copyOf(seen));
        } catch (Throwable t) {
            errors.add("NVML binding failed: " + t);
            return Reading.absent("NVML error: " + errors.getLast(), errors);
        }
    }

    private Optional<MemorySegment> device(Arena a, int i, List<String> errors) throws Throwable {
        MemorySegment out = a.allocate(ADDRESS);
        int rc = (int) getHandle.invokeExact(i, out);
        if (rc != SUCCESS) {
            errors.add("nvmlDeviceGetHandleByIndex_v2(" + i + "): " + describe(rc));
            return Optional.empty();
        }
        return Optional.of(out.get(ADDRESS, 0));
    }

    /** UUID, name and memory are required: without them the device is left out (and the error counted). */
    private Optional<GpuDevice> readDevice(Arena a, int i, MemorySegment dev, List<String> errors) {
        try {
            Optional<String> uuid = string(a, getUuid, "nvmlDeviceGetUUID", i, dev, errors);
            Optional<String> name = string(a, getName, "nvmlDeviceGetName", i, dev, errors);
            MemorySegment mem = a.allocate(MEMORY);
            int rc = (int) getMemory.invokeExact(dev, mem);
            if (rc != SUCCESS) errors.add(where("nvmlDeviceGetMemoryInfo", i) + describe(rc));
            if (uuid.isEmpty() || name.isEmpty() || rc != SUCCESS) return Optional.empty();

            OptionalInt util = OptionalInt.empty(), temp = OptionalInt.empty();
            if (getUtilization.isPresent()) {
                MemorySegment u = a.allocate(UTILIZATION);
                rc = (int) getUtilization.get().invokeExact(dev, u);
                if (ok(rc, "nvmlDeviceGetUtilizationRates", i, errors)) {
                    util = OptionalInt.of(u.get(JAVA_INT, UTILIZATION.byteOffset(groupElement("gpu"))));
                }
            }
            if (getTemperature.isPresent()) {
                MemorySegment t = a.allocate(JAVA_INT);
                rc = (int) getTemperature.get().invokeExact(dev, TEMPERATURE_GPU, t);
                if (ok(rc, "nvmlDeviceGetTemperature", i, errors)) temp = OptionalInt.of(t.get(JAVA_INT, 0));
            }
            return Optional.of(new GpuDevice(i, uuid.get(), name.get(),
                    mem.get(JAVA_LONG, MEMORY.byteOffset(groupElement("total"))),
                    mem.get(JAVA_LONG, MEMORY.byteOffset(groupElement("used"))), util, temp));
        } catch (Throwable t) {
            errors.add(where("NVML binding", i) + t);
            return Optional.empty();
        }
    }

    /** Not supported is a property of the device, not an error; anything else is counted. */
    private boolean ok(int rc, String fn, int i, List<String> errors) {
        if (rc == SUCCESS) return true;
        if (rc != ERROR_NOT_SUPPORTED) errors.add(where(fn, i) + describe(rc));
        return false;
    }

    private Optional<String> string(Arena a, MethodHandle fn, String name, int i, MemorySegment dev,
                                    List<String> errors) throws Throwable {
        MemorySegment buf = a.allocate(STRING_BUFFER);
        int rc = (int) fn.invokeExact(dev, buf, STRING_BUFFER);
        if (rc != SUCCESS) {
            errors.add(where(name, i) + describe(rc));
            return Optional.empty();
        }
        return Optional.of(buf.getString(0));
    }

    /** The compute processes of one device with their SM utilization; empty when the list could not be read. */
    private Optional<List<GpuProcess>> readProcesses(Arena a, int i, MemorySegment dev, Map<Integer, Long> lastSeen,
                                                     List<String> errors) throws Throwable {
        if (processCall.isEmpty()) return Optional.empty();
        ProcessCall call = processCall.get();
        long stride = call.layout().byteSize();
        long pidAt = call.layout().byteOffset(groupElement("pid"));
        long memAt = call.layout().byteOffset(groupElement("usedGpuMemory"));
        MemorySegment countIo = a.allocate(JAVA_INT);
        MemorySegment buf = MemorySegment.NULL;
        // Size with count 0, then allocate with slack (processes start between the calls) and
        // retry while the driver still says the buffer is too small.
        int n;
        for (int attempt = 0; ; attempt++) {
            int offered = buf.equals(MemorySegment.NULL) ? 0 : (int) (buf.byteSize() / stride);
            countIo.set(JAVA_INT, 0, offered);
            int rc = (int) call.handle().invokeExact(dev, countIo, buf);
            n = countIo.get(JAVA_INT, 0);
            if (rc == SUCCESS) {
                n = Math.min(n, offered); // offered 0: nothing was sized, there are no processes
                break;
            }
            if (rc != ERROR_INSUFFICIENT_SIZE || attempt == 4) {
                errors.add(where(call.symbol(), i) + describe(rc));
                return Optional.empty();
            }
            int want = Math.max(n, offered);
            buf = a.allocate(call.layout(), want + want / 2 + 4);
        }
        Map<Long, Integer> sm = smUtilization(a, i, dev, lastSeen, errors);
        List<GpuProcess> list = new ArrayList<>(n);
        for (int k = 0; k < n; k++) {
            long base = k * stride;
            long pid = Integer.toUnsignedLong(buf.get(JAVA_INT, base + pidAt));
            long used = buf.get(JAVA_LONG, base + memAt);
            OptionalLong mem = used == VALUE_NOT_AVAILABLE ? OptionalLong.empty() : OptionalLong.of(used);
            Integer s = sm.get(pid);
            list.add(new GpuProcess(i, pid, mem, s == null ? OptionalInt.empty() : OptionalInt.of(s)));
        }
        return Optional.of(list);
    }

    /**
     * pid -> SM utilization of the newest sample newer than the last one seen on this
     * device.  Samples of pids that are not compute processes (graphics) are not
     * attributed.  Not supported or no new samples: an empty map, not an error.
     * Advances {@code lastSeen} for this device.
     */
    private Map<Long, Integer> smUtilization(Arena a, int i, MemorySegment dev, Map<Integer, Long> lastSeen,
                                             List<String> errors) throws Throwable {
        Map<Long, Integer> sm = new HashMap<>();
        if (getProcessUtilization.isEmpty()) return sm;
        MethodHandle fn = getProcessUtilization.get();
        long since = lastSeen.getOrDefault(i, 0L);
        MemorySegment countIo = a.allocate(JAVA_INT);
        MemorySegment buf = MemorySegment.NULL;
        int rc;
        for (int attempt = 0; ; attempt++) {
            int offered = buf.equals(MemorySegment.NULL) ? 0 : (int) (buf.byteSize() / SAMPLE.byteSize());
            countIo.set(JAVA_INT, 0, offered);
            rc = (int) fn.invokeExact(dev, buf, countIo, since);
            if (rc != ERROR_INSUFFICIENT_SIZE || attempt == 4) break;
            int n = Math.max(countIo.get(JAVA_INT, 0), offered);
            buf = a.allocate(SAMPLE, n + n / 2 + 4);
        }
        if (rc == ERROR_NOT_FOUND || rc == ERROR_NOT_SUPPORTED) return sm;
        if (rc != SUCCESS) {
            errors.add(where("nvmlDeviceGetProcessUtilization", i) + describe(rc));
            return sm;
        }
        if (buf.equals(MemorySegment.NULL)) return sm;
        int n = countIo.get(JAVA_INT, 0);
        long pidAt = SAMPLE.byteOffset(groupElement("pid")), tsAt = SAMPLE.byteOffset(groupElement("timeStamp")),
                smAt = SAMPLE.byteOffset(groupElement("smUtil"));
        Map<Long, Long> newest = new HashMap<>();
        long maxTs = since;
        for (int k = 0; k < n; k++) {
            long base = k * SAMPLE.byteSize();
            long pid = Integer.toUnsignedLong(buf.get(JAVA_INT, base + pidAt));
            long ts = buf.get(JAVA_LONG, base + tsAt);
            int util = buf.get(JAVA_INT, base + smAt);
            if (Long.compareUnsigned(ts, newest.getOrDefault(pid, 0L)) >= 0) {
                newest.put(pid, ts);
                sm.put(pid, util);
            }
            if (Long.compareUnsigned(ts, maxTs) > 0) maxTs = ts;
        }
        lastSeen.put(i, maxTs);
        return sm;
    }

    private static String where(String fn, int device) {
        return fn + "(device " + device + "): ";
    }

    /** "Driver Not Loaded (9)": NVML's text and the code. */
    String describe(int rc) {
        try {
            MemorySegment p = (MemorySegment) errorString.invokeExact(rc);
            if (!p.equals(MemorySegment.NULL)) return p.reinterpret(256).getString(0) + " (" + rc + ")";
        } catch (Throwable ignored) {
            // fall through to the bare code
        }
        return "NVML error " + rc;
    }

    @Override
    public void close() {
        if (!initialized) return;
        initialized = false;
        try {
            int ignored = (int) shutdown.invokeExact(); // a failed shutdown leaves nothing to do
        } catch (Throwable ignored) {
            // closing: nobody to tell
        }
    }

    /** dlopen's own reason, which SymbolLookup.libraryLookup does not pass on. */
    static final class Dl {
        private static final int RTLD_LAZY = 1;

        static Optional<String> whyNot(String name) {
            try (Arena a = Arena.ofConfined()) {
                SymbolLookup libc = LINKER.defaultLookup();
                Optional<MemorySegment> open = libc.find("dlopen"), error = libc.find("dlerror"),
                        close = libc.find("dlclose");
                if (open.isEmpty() || error.isEmpty() || close.isEmpty()) return Optional.empty();
                MethodHandle dlopen = LINKER.downcallHandle(open.get(), FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
                MethodHandle dlerror = LINKER.downcallHandle(error.get(), FunctionDescriptor.of(ADDRESS));
                MethodHandle dlclose = LINKER.downcallHandle(close.get(), FunctionDescriptor.of(JAVA_INT, ADDRESS));
                MemorySegment h = (MemorySegment) dlopen.invokeExact(a.allocateFrom(name), RTLD_LAZY);
                if (!h.equals(MemorySegment.NULL)) {
                    int ignored = (int) dlclose.invokeExact(h);
                    return Optional.empty();
                }
                MemorySegment msg = (MemorySegment) dlerror.invokeExact();
                return msg.equals(MemorySegment.NULL) ? Optional.empty()
                        : Optional.of(msg.reinterpret(4096).getString(0));
            } catch (Throwable t) {
                return Optional.empty();
            }
        }
    }
}
