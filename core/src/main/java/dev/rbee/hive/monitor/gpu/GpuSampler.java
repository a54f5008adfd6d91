package dev.rbee.hive.monitor.gpu;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Samples NVML without ever stalling or failing the caller's loop.
 *
 * <p>Every NVML call (loading and nvmlInit_v2 included, on the first sample) runs
 * on one dedicated daemon thread, and {@link #sample()} waits for it at most the
 * configured time.  A driver call can hang (a GPU falling off the bus); then that
 * thread stays stuck, later samples return at once as "busy" until it comes back,
 * and each such miss is counted in the snapshot, never thrown.
 *
 * <p>No library, no driver or no GPU is normal: the snapshot is absent with the reason.
 */
public final class GpuSampler implements AutoCloseable {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(200);
    /** System property naming the NVML library file to load instead of {@value Nvml#SONAME}. */
    public static final String LIBRARY_PROPERTY = "rbee.nvml.library";

    private final Optional<Path> library;
    private final Duration timeout;
    private final ExecutorService nvmlThread;
    private Nvml nvml;                        // touched only on nvmlThread
    private Future<Nvml.Reading> inFlight;
    private long errorCount;
    private Optional<String> lastError = Optional.empty();
    private boolean closed;

    /** The library from {@value #LIBRARY_PROPERTY} if set, else {@value Nvml#SONAME}; 200 ms per sample. */
    public GpuSampler() {
        this(Optional.ofNullable(System.getProperty(LIBRARY_PROPERTY)).map(Path::of), DEFAULT_TIMEOUT);
    }

    /**
     * @param library the NVML library file; empty: {@value Nvml#SONAME}, found as the dynamic loader finds it
     * @param timeout how long one {@link #sample()} waits for NVML
     */
    public GpuSampler(Optional<Path> library, Duration timeout) {
        this.library = Objects.requireNonNull(library);
        if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("timeout must be positive");
        this.timeout = timeout;
        this.nvmlThread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "rbee-nvml");
            t.setDaemon(true); // a call hung in the driver must not keep the JVM alive
            return t;
        });
    }

    /** One reading of every GPU; returns within about the timeout and never throws. */
    public synchronized GpuSnapshot sample() {
        if (closed) return GpuSnapshot.absent("GPU sampler closed", errorCount, lastError);
        if (inFlight != null && !inFlight.isDone()) {
            return failed("NVML busy: a call from an earlier sample has not returned");
        }
        inFlight = nvmlThread.submit(this::readOnNvmlThread);
        Nvml.Reading r;
        try {
            r = inFlight.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            return failed("NVML did not answer within " + timeout.toMillis() + " ms");
        } catch (ExecutionException e) {
            return failed("NVML binding failed: " + e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return GpuSnapshot.absent("interrupted while waiting for NVML", errorCount, lastError);
        }
        if (!r.errors().isEmpty()) {
            errorCount += r.errors().size();
            lastError = Optional.of(r.errors().getLast());
        }
        return r.absentReason().isPresent()
                ? GpuSnapshot.absent(r.absentReason().get(), errorCount, lastError)
                : new GpuSnapshot(r.devices(), r.processes(), Optional.empty(), r.processesComplete(),
                                  errorCount, lastError);
    }

    private GpuSnapshot failed(String error) {
        errorCount++;
        lastError = Optional.of(error);
        return GpuSnapshot.absent(error, errorCount, lastError);
    }

    private Nvml.Reading readOnNvmlThread() {
        try {
            if (nvml == null) nvml = Nvml.open(library); // lazily: most hosts never sample a GPU
            return nvml.read();
        } catch (Throwable t) {
            return Nvml.Reading.absent("NVML binding failed: " + t, List.of("NVML binding failed: " + t));
        }
    }

    /**
     * Queues nvmlShutdown behind any call still running and returns; the NVML
     * thread ends after it.  The library itself stays loaded.
     */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        nvmlThread.execute(() -> {
            if (nvml != null) nvml.close();
        });
        nvmlThread.shutdown();
        try {
            nvmlThread.awaitTermination(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
