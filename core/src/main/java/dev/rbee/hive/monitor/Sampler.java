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

import static dev.rbee.hive.monitor.internal.Log.LOG;

/**
 * One thread that samples every worker (and the node) at a fixed interval,
 * publishes an immutable {@link Snapshot} and notifies listeners.  A listener
 * or a worker that fails never stops the others (the failure is logged).
 *
 * <pre>{@code
 * Sampler s = monitor.sampler().interval(Duration.ofSeconds(1))
 *         .listener(snap -> queen.send(Wire.json(Wire.hiveTelemetry("hive-1", snap))))   // sees the first round too
 *         .start();
 * ...
 * s.close();   // or monitor.close(), which closes the samplers it started
 * }</pre>
 *
 * <p>Thread-safe: any thread may add or remove listeners, read {@link #latest()}
 * and close it.  Listeners run on the sampler's own thread ("rbee-sampler"), one
 * after the other in the order they were added, after each round; a slow listener
 * delays the next round, so hand long work to another thread.  A listener given to
 * {@link Builder#listener} is called from the first round on; one added with
 * {@link #addListener} after {@code start()} from the next round that begins after.
 *
 * <p>Files: the sampler reads the same kept-open files as the monitor's
 * {@code collectAllWorkers()} and every other sampler of this JVM (4 fds per
 * worker in all); its rates are its own (it keeps its own previous counters).
 * Tiers: see {@link Builder#slowTierEvery}.
 */
public final class Sampler implements AutoCloseable {
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
    private boolean closed;

    private Sampler(Builder b) throws IOException {
        this.monitor = b.monitor;
        this.interval = b.interval;
        this.gpu = b.gpu ? Optional.of(new GpuSampler()) : Optional.empty();
        this.collector = monitor.newCollector(b.alpha, gpu, b.slowEvery);
        this.node = new NodeReader();
        listeners.addAll(b.listeners); // before the thread starts: they see its first round
        this.thread = new Thread(this::loop, "rbee-sampler");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /**
     * The last published snapshot.
     *
     * @return it; empty before the first round has finished
     */
    public Optional<Snapshot> latest() {
        return Optional.ofNullable(latest);
    }

    /**
     * Waits for the first round (its rates are absent: rates need two rounds).
     *
     * @param timeout how long to wait
     * @return the first round's snapshot
     * @throws InterruptedException  if interrupted while waiting
     * @throws IllegalStateException if no round finished within {@code timeout}
     */
    public Snapshot awaitFirst(Duration timeout) throws InterruptedException {
        if (!firstRound.await(timeout.toMillis(), TimeUnit.MILLISECONDS))
            throw new IllegalStateException("no sample within " + timeout);
        return latest;
    }

    /**
     * Adds a listener, called on the sampler's thread after every later round.
     *
     * @param l the listener
     */
    public void addListener(Consumer<Snapshot> l) {
        listeners.add(l);
    }

    /**
     * Removes a listener; a round under way may still call it once.
     *
     * @param l the listener
     */
    public void removeListener(Consumer<Snapshot> l) {
        listeners.remove(l);
    }

    /**
     * The time between rounds.
     *
     * @return the interval
     */
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

    /**
     * Stops the thread (waiting up to 5 s for a round under way) and closes every
     * kept-open file.  Idempotent.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
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
        monitor.forget(this);
    }

    /** How to sample; {@link ProcessMonitor#sampler()} makes one.  Not thread-safe (one thread builds). */
    public static final class Builder {
        private final ProcessMonitor monitor;
        private final List<Consumer<Snapshot>> listeners = new java.util.ArrayList<>();
        private Duration interval = Duration.ofSeconds(1);
        private double alpha = 1;
        private boolean gpu = true;
        private int slowEvery = StatsCollector.SLOW_EVERY;

        Builder(ProcessMonitor monitor) {
            this.monitor = monitor;
        }

        /**
         * Time between rounds (default 1 s).
         *
         * @param d a positive duration
         * @return this builder
         */
        public Builder interval(Duration d) {
            if (d.isNegative() || d.isZero()) throw new IllegalArgumentException("interval must be positive: " + d);
            interval = d;
            return this;
        }

        /**
         * EMA smoothing of rates: weight of the newest value, (0, 1]; 1 (default) = none.
         *
         * @param alpha the weight
         * @return this builder
         */
        public Builder smoothing(double alpha) {
            if (!(alpha > 0 && alpha <= 1)) throw new IllegalArgumentException("smoothing must be in (0, 1]: " + alpha);
            this.alpha = alpha;
            return this;
        }

        /**
         * Every how many rounds to read the slow tier (default 10): memory.stat,
         * memory.events, memory.peak/max/high, io.stat, pids.max and the pressure
         * files.  Every round reads cpu.stat, memory.current, pids.current and
         * cgroup.procs; between slow rounds a sample carries the slow tier's last
         * values and says how old they are ({@code Counters.slowTierAgeMillis()}).
         * A worker's first sample reads both tiers.
         *
         * @param n 1 (every round, no tiering) or more
         * @return this builder
         */
        public Builder slowTierEvery(int n) {
            if (n < 1) throw new IllegalArgumentException("slowTierEvery must be at least 1: " + n);
            slowEvery = n;
            return this;
        }

        /**
         * Whether to sample GPUs through NVML (default true; absent with a reason where there is none).
         *
         * @param on whether to
         * @return this builder
         */
        public Builder gpu(boolean on) {
            gpu = on;
            return this;
        }

        /**
         * A listener called from the first round on (on the sampler's thread).
         *
         * @param l the listener
         * @return this builder
         */
        public Builder listener(Consumer<Snapshot> l) {
            listeners.add(java.util.Objects.requireNonNull(l));
            return this;
        }

        /**
         * Starts the sampler's thread; its first round begins at once.
         *
         * @return the running sampler
         * @throws IOException           if the node's files cannot be opened
         * @throws IllegalStateException if the monitor is closed
         */
        public Sampler start() throws IOException {
            Sampler s = new Sampler(this);
            monitor.started(s);
            return s;
        }
    }
}
