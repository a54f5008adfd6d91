package dev.rbee.hive.monitor;

import dev.rbee.hive.monitor.model.ProcessStats;
import dev.rbee.hive.monitor.model.Snapshot;
import dev.rbee.hive.monitor.gpu.GpuSampler;
import dev.rbee.hive.monitor.gpu.GpuSnapshot;
import dev.rbee.hive.monitor.proc.NodeReader;
import dev.rbee.hive.monitor.stats.StatsCollector;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One thread that samples every worker (and the node) at a fixed interval,
 * publishes an immutable {@link Snapshot} and notifies listeners.  A listener
 * or a worker that fails never stops the others.
 *
 * <pre>{@code
 * try (Sampler s = monitor.sampler().interval(Duration.ofSeconds(1)).start()) {
 *     s.addListener(snap -> queen.send(Wire.hiveTelemetry("hive-1", snap)));
 * }
 * }</pre>
 */
public final class Sampler implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Sampler.class.getName());

    private final ProcessMonitor monitor;
    private final Duration interval;
    private final StatsCollector collector;
    private final NodeReader node;
    private final Optional<GpuSampler> gpu;
    private final List<Consumer<Snapshot>> listeners = new CopyOnWriteArrayList<>();
    private final Thread thread;
    private final CountDownLatch firstRound = new CountDownLatch(1);
    private volatile Snapshot latest;
    private volatile boolean running = true;

    private Sampler(Builder b) throws IOException {
        this.monitor = b.monitor;
        this.interval = b.interval;
        this.gpu = b.gpu ? Optional.of(new GpuSampler()) : Optional.empty();
        this.collector = monitor.newCollector(b.alpha, gpu);
        this.node = new NodeReader();
        this.thread = new Thread(this::loop, "rbee-sampler");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /** The last published snapshot; empty before the first round has finished. */
    public Optional<Snapshot> latest() {
        return Optional.ofNullable(latest);
    }

    /** Waits for the first round (its rates are absent: rates need two rounds). */
    public Snapshot awaitFirst(Duration timeout) throws InterruptedException {
        if (!firstRound.await(timeout.toMillis(), TimeUnit.MILLISECONDS))
            throw new IllegalStateException("no sample within " + timeout);
        return latest;
    }

    public void addListener(Consumer<Snapshot> l) {
        listeners.add(l);
    }

    public void removeListener(Consumer<Snapshot> l) {
        listeners.remove(l);
    }

    public Duration interval() {
        return interval;
    }

    private void loop() {
        long next = System.nanoTime();
        while (running) {
            try {
                round();
            } catch (Throwable t) {
                LOG.log(System.Logger.Level.ERROR, "sampling round failed", t);
            }
            next += interval.toNanos();
            long wait = next - System.nanoTime();
            if (wait < 0) next = System.nanoTime(); // fell behind: do not try to catch up in a burst
            else {
                try {
                    TimeUnit.NANOSECONDS.sleep(wait);
                } catch (InterruptedException e) {
                    if (!running) return;
                }
            }
        }
    }

    private void round() throws IOException {
        List<ProcessStats> workers = collector.collect(p -> true);
        Optional<GpuSnapshot> g = collector.lastGpu();
        Snapshot s = new Snapshot(Instant.now(), monitor.backend(), node.read(g), workers, collector.errors());
        latest = s;
        firstRound.countDown();
        for (Consumer<Snapshot> l : listeners) {
            try {
                l.accept(s);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "sampler listener failed", e);
            }
        }
    }

    /** Stops the thread and closes every kept-open file. */
    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        collector.close();
        node.close();
        gpu.ifPresent(GpuSampler::close);
    }

    public static final class Builder {
        private final ProcessMonitor monitor;
        private Duration interval = Duration.ofSeconds(1);
        private double alpha = 1;
        private boolean gpu = true;

        Builder(ProcessMonitor monitor) {
            this.monitor = monitor;
        }

        /** Time between rounds (default 1 s). */
        public Builder interval(Duration d) {
            if (d.isNegative() || d.isZero()) throw new IllegalArgumentException("interval must be positive: " + d);
            interval = d;
            return this;
        }

        /** EMA smoothing of rates: weight of the newest value, (0, 1]; 1 (default) = none. */
        public Builder smoothing(double alpha) {
            if (!(alpha > 0 && alpha <= 1)) throw new IllegalArgumentException("smoothing must be in (0, 1]: " + alpha);
            this.alpha = alpha;
            return this;
        }

        /** Whether to sample GPUs through NVML (default true; absent with a reason where there is none). */
        public Builder gpu(boolean on) {
            gpu = on;
            return this;
        }

        public Sampler start() throws IOException {
            return new Sampler(this);
        }
    }
}
