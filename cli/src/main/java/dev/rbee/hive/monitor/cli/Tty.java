package dev.rbee.hive.monitor.cli;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The controlling terminal for {@code rbee-mon top}, with plain ANSI escapes
 * (nothing terminfo-specific, so it works over ssh and in tmux): keys without
 * Enter and without echo ({@code stty -icanon -echo}), the alternate screen,
 * a hidden cursor.  {@link #restore} puts everything back, also from the
 * shutdown hook that Ctrl-C (SIGINT, still enabled) runs.
 */
final class Tty {
    static final String ESC = "\033[";
    static final String ENTER = ESC + "?1049h" + ESC + "?25l" + ESC + "2J";
    static final String LEAVE = ESC + "0m" + ESC + "?25h" + ESC + "?1049l";
    static final String HOME = ESC + "H", CLEAR_EOL = ESC + "K", CLEAR_BELOW = ESC + "J";
    static final String REVERSE = ESC + "7m", NORMAL = ESC + "0m";

    private static final File DEV_TTY = new File("/dev/tty");

    private final String saved;
    private final PrintStream out;
    private final AtomicBoolean restored = new AtomicBoolean();
    private final Thread hook;

    private Tty(String saved, PrintStream out) {
        this.saved = saved;
        this.out = out;
        this.hook = new Thread(this::restore, "rbee-top-restore");
    }

    /** Whether stdin and stdout are a terminal (System.console() alone says yes for redirected streams on JDK 22+). */
    static boolean interactive() {
        java.io.Console c = System.console();
        return c != null && c.isTerminal() && DEV_TTY.canRead();
    }

    /** Saves the terminal's settings, then switches to cbreak mode without echo and to the alternate screen. */
    static Tty enter(PrintStream out) throws IOException {
        String saved = stty("-g").strip();
        if (saved.isEmpty()) throw new IOException("stty -g printed nothing");
        Tty t = new Tty(saved, out);
        Runtime.getRuntime().addShutdownHook(t.hook);
        try {
            stty("-icanon", "-echo", "min", "1", "time", "0");
        } catch (IOException e) {
            t.restore();
            throw e;
        }
        out.print(ENTER);
        out.flush();
        return t;
    }

    /** {rows, columns} of the terminal; {24, 80} if stty cannot tell. */
    static int[] size() {
        try {
            String[] rc = stty("size").strip().split("\\s+");
            int rows = Integer.parseInt(rc[0]), cols = Integer.parseInt(rc[1]);
            if (rows > 0 && cols > 0) return new int[] {rows, cols};
        } catch (IOException | RuntimeException e) {
            // fall through
        }
        return new int[] {24, 80};
    }

    /**
     * Writes one frame, unless the terminal was already restored: a render
     * racing with Ctrl-C must not draw on the user's screen after we left.
     */
    synchronized void draw(String frame) {
        if (restored.get()) return;
        out.print(frame);
        out.flush();
    }

    /** Leaves the alternate screen, shows the cursor and restores the saved stty settings (once). */
    void restore() {
        synchronized (this) {
            if (!restored.compareAndSet(false, true)) return;
            out.print(LEAVE);
            out.flush();
        }
        try {
            stty(saved);
        } catch (IOException e) {
            System.err.println("rbee-mon: could not restore the terminal (run 'stty sane'): " + e.getMessage());
        }
        if (Thread.currentThread() != hook) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs anyway and finds it done
            }
        }
    }

    /** Runs stty on /dev/tty; returns what it printed. */
    static String stty(String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add("stty");
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectInput(DEV_TTY).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("stty " + String.join(" ", args) + " hung");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
        if (p.exitValue() != 0) throw new IOException("stty " + String.join(" ", args) + ": " + text.strip());
        return text;
    }
}
