package dev.rbee.hive.monitor.cli;

import dev.rbee.hive.monitor.model.Names;
import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.model.ProcessStats;
import dev.rbee.hive.monitor.Sampler;
import dev.rbee.hive.monitor.model.Snapshot;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * rbee-mon top: every worker of the tree, refreshed each interval.  On a
 * terminal a full-screen table with keys (c, m, i, n: sort; q: quit); else
 * (or with --batch) one plain block per interval.
 */
final class TopCommand {
    private TopCommand() {}

    static int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        Args a = Args.parse(argv, 1, Set.of("interval", "iterations", "group", "sort", "backend"), Set.of("batch"));
        if (!a.rest().isEmpty()) throw new UsageException("unexpected argument \"" + a.rest().get(0) + "\"");
        Duration interval = a.get("interval").map(v -> Durations.parse("--interval", v, RunCommand.MIN_INTERVAL)).orElse(Duration.ofSeconds(1));
        if (interval.compareTo(Duration.ofMillis(100)) < 0) throw new UsageException("--interval must be at least 100ms");
        OptionalInt iterations = OptionalInt.empty();
        if (a.has("iterations")) {
            try {
                iterations = OptionalInt.of(Integer.parseInt(a.get("iterations").orElseThrow()));
            } catch (NumberFormatException e) {
                throw new UsageException("--iterations: not a number: \"" + a.get("iterations").orElseThrow() + "\"");
            }
            if (iterations.getAsInt() < 1) throw new UsageException("--iterations must be at least 1");
        }
        Optional<String> group = a.get("group").map(g -> Names.check("group", g));
        TopTable.Sort sort = a.get("sort").map(TopTable.Sort::parse).orElse(TopTable.Sort.CPU);
        ProcessMonitor monitor = Backends.monitor(a);
        View view = new View(Format.hostName(), Format.duration(interval), group, sort);
        if (a.has("batch") || !Tty.interactive()) return batch(monitor, interval, iterations, view, out, err);
        return live(monitor, interval, iterations, view, out);
    }

    /** What is shown: the filter, the sort order and the last snapshot. */
    static final class View {
        final String hive, interval;
        final Optional<String> group;
        volatile TopTable.Sort sort;
        volatile Snapshot last;

        View(String hive, String interval, Optional<String> group, TopTable.Sort sort) {
            this.hive = hive;
            this.interval = interval;
            this.group = group;
            this.sort = sort;
        }

        List<ProcessStats> workers(Snapshot s) {
            List<ProcessStats> ws = group.isEmpty() ? s.workers()
                    : s.workers().stream().filter(w -> w.group().equals(group.get())).toList();
            return TopTable.sorted(ws, sort);
        }

        /** The screen as plain lines (no escapes): summary, a blank line, the column header, the rows. */
        List<String> lines(Snapshot s, boolean keys) {
            List<ProcessStats> ws = workers(s);
            int nw = TopTable.nameWidth(ws);
            List<String> out = new ArrayList<>(TopTable.summary(s, hive, sort, interval, keys));
            out.add("");
            out.add(TopTable.header(nw));
            for (ProcessStats w : ws) out.add(TopTable.row(w, nw));
            if (ws.isEmpty()) out.add("(no workers" + group.map(g -> " in group " + g).orElse("") + ")");
            return out;
        }
    }

    /** Plain blocks, from the second round on (the first has no rates). */
    private static int batch(ProcessMonitor monitor, Duration interval, OptionalInt iterations, View view,
                             PrintStream out, PrintStream err) throws Exception {
        BlockingQueue<Snapshot> rounds = new ArrayBlockingQueue<>(4);
        try (Sampler sampler = monitor.sampler().interval(interval).start()) {
            sampler.addListener(s -> {
                while (!rounds.offer(s)) rounds.poll();
            });
            Snapshot first = rounds.poll(interval.toMillis() * 3 + 10_000, TimeUnit.MILLISECONDS);
            if (first == null) throw new IllegalStateException("no sample within " + interval.multipliedBy(3).plusSeconds(10));
            for (int n = 0; iterations.isEmpty() || n < iterations.getAsInt(); n++) {
                Snapshot s = rounds.poll(interval.toMillis() * 3 + 10_000, TimeUnit.MILLISECONDS);
                if (s == null) throw new IllegalStateException("the sampler stopped");
                if (n > 0) out.println();
                for (String line : view.lines(s, false)) out.println(line);
                out.flush();
                if (out.checkError()) return 0; // the reader went away (e.g. | head)
                s.errors().forEach(e -> err.println("rbee-mon: not sampled: " + e));
            }
        }
        return 0;
    }

    /** The full-screen table; returns when q is pressed (Ctrl-C exits through the shutdown hook). */
    private static int live(ProcessMonitor monitor, Duration interval, OptionalInt iterations, View view, PrintStream out)
            throws Exception {
        Tty tty = Tty.enter(out);
        Screen screen = new Screen(view, tty);
        CountDownLatch quit = new CountDownLatch(1);
        try (Sampler sampler = monitor.sampler().interval(interval).start()) {
            int[] rendered = {0};
            sampler.addListener(s -> {
                view.last = s;
                screen.render();
                if (iterations.isPresent() && ++rendered[0] >= iterations.getAsInt()) quit.countDown();
            });
            try {
                sun.misc.Signal.handle(new sun.misc.Signal("WINCH"), sig -> {
                    screen.resize();
                    screen.render();
                });
            } catch (IllegalArgumentException e) {
                // no SIGWINCH here: the size is read once
            }
            Thread keys = new Thread(() -> readKeys(System.in, view, screen, quit), "rbee-top-keys");
            keys.setDaemon(true);
            keys.start();
            quit.await();
        } finally {
            tty.restore();
        }
        return 0;
    }

    private static void readKeys(InputStream in, View view, Screen screen, CountDownLatch quit) {
        try {
            int c;
            while ((c = in.read()) >= 0) {
                if (c == 'q' || c == 'Q') break;
                Optional<TopTable.Sort> s = TopTable.Sort.ofKey(c);
                if (s.isPresent()) {
                    view.sort = s.get();
                    screen.render();
                }
            }
        } catch (IOException e) {
            // the terminal went away
        }
        quit.countDown();
    }

    /** Draws the view in place: home, each line cleared to its end, the rest of the screen cleared. */
    static final class Screen {
        private final View view;
        private final Tty tty;
        private volatile int rows, cols;

        Screen(View view, Tty tty) {
            this.view = view;
            this.tty = tty;
            resize();
        }

        void resize() {
            int[] rc = Tty.size();
            rows = rc[0];
            cols = rc[1];
        }

        synchronized void render() {
            Snapshot s = view.last;
            if (s == null) return;
            tty.draw(frame(view.lines(s, true), rows, cols));
        }

        /** The escapes and text for one screen; the column header in reverse video across the width. */
        static String frame(List<String> lines, int rows, int cols) {
            StringBuilder b = new StringBuilder(Tty.HOME);
            int header = lines.indexOf("") + 1; // the column header follows the blank line
            int fit = Math.max(1, rows - 1);
            for (int i = 0; i < lines.size() && i < fit; i++) {
                String line = lines.get(i);
                if (i == fit - 1 && lines.size() > fit) line = "... " + (lines.size() - fit + 1) + " more";
                if (line.length() > cols) line = line.substring(0, cols);
                if (i == header) b.append(Tty.REVERSE).append(line).append(" ".repeat(cols - line.length())).append(Tty.NORMAL);
                else b.append(line).append(Tty.CLEAR_EOL);
                b.append('\n');
            }
            return b.append(Tty.CLEAR_BELOW).toString();
        }
    }
}
