package dev.rbee.hive.monitor.gpu;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
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
 *
 * <p>Starting is slow but normal: binding and first calling the functions in a cold
 * JVM takes a few hundred ms, and nvmlInit_v2 can take seconds on GPUs without
 * persistence mode.  Until the first read has returned, late answers are reported
 * as "NVML starting", not counted as errors, for at most {@link #STARTUP_GRACE}.
 */
public final class GpuSampler implements AutoCloseable {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(200);
    /** System property naming the NVML library file to load instead of {@value Nvml#SONAME}. */
    public static final String LIBRARY_PROPERTY = "rbee.nvml.library";
    public static final Duration STARTUP_GRACE = Duration.ofSeconds(10);
    public static final String STARTING = "NVML starting";

    private final Optional<Path> library;
    private final Duration timeout;
    private final ExecutorService nvmlThread;
    private Nvml nvml;                        // touched only on nvmlThread
    private Future<Nvml.Reading> inFlight;
    private long errorCount;
    private Optional<String> lastError = Optional.empty();
    private Map<Integer, Long> lastSeen = Map.of(); // of the last reading returned to a caller
    private boolean closed;
    private long firstSubmit;                 // System.nanoTime() of the first sample
    private volatile boolean started;         // set on nvmlThread once the first read has returned

    /** Environment variable naming the NVML library, when the system property is not set. */
    public static final String LIBRARY_ENV = "RBEE_NVML_LIBRARY";

    /**
     * The library from {@value #LIBRARY_PROPERTY}, else from ${@value #LIBRARY_ENV}, else
     * {@value Nvml#SONAME}; 200 ms per sample.
     */
    public GpuSampler() {
        this(Optional.ofNullable(System.getProperty(LIBRARY_PROPERTY))
                .or(() -> Optional.ofNullable(System.getenv(LIBRARY_ENV))).filter(s -> !s.isEmpty()).map(Path::of),
                DEFAULT_TIMEOUT);
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
            return late("NVML busy: a call from an earlier sample has not returned");
        }
        if (firstSubmit == 0) firstSubmit = System.nanoTime();
        Map<Integer, Long> since = lastSeen;
        inFlight = nvmlThread.submit(() -> readOnNvmlThread(since));
        Nvml.Reading r;
        try {
            r = inFlight.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            return late("NVML did not answer within " + timeout.toMillis() + " ms");
        } catch (ExecutionException e) {
            return failed("NVML binding failed: " + e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return GpuSnapshot.absent("interrupted while waiting for NVML", errorCount, lastError);
        }
        if (r.absentReason().isEmpty()) lastSeen = r.lastSeen();
        if (!r.errors().isEmpty()) {
            errorCount += r.errors().size();
            lastError = Optional.of(r.errors().getLast());
        }
        return r.absentReason().isPresent()
                ? GpuSnapshot.absent(r.absentReason().get(), errorCount, lastError)
                : new GpuSnapshot(r.devices(), r.processes(), Optional.empty(), r.processesComplete(),
                                  errorCount, lastError);
    }

    /** No answer in time: an error, unless NVML is still starting within the grace period. */
    private GpuSnapshot late(String error) {
        long ms = (System.nanoTime() - firstSubmit) / 1_000_000;
        if (!started && ms < STARTUP_GRACE.toMillis()) {
            return GpuSnapshot.absent(STARTING + ": loading the library and nvmlInit_v2 (" + ms + " ms so far)",
                                      errorCount, lastError);
        }
        return failed(started ? error : "NVML did not start within " + STARTUP_GRACE.toSeconds() + " s");
    }

    private GpuSnapshot failed(String error) {
        errorCount++;
        lastError = Optional.of(error);
        return GpuSnapshot.absent(error, errorCount, lastError);
    }

    private Nvml.Reading readOnNvmlThread(Map<Integer, Long> since) {
        try {
            if (nvml == null) nvml = Nvml.open(library); // lazily: most hosts never sample a GPU
            Nvml.Reading r = nvml.read(since);
            started = true; // the first read runs each call for the first time: part of starting
            return r;
        } catch (Throwable t) {
            started = true;
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
