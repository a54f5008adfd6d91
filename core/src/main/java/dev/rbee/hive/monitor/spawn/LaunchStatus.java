package dev.rbee.hive.monitor.spawn;

import dev.rbee.hive.monitor.model.SpawnException.Step;

import java.util.Optional;

/**
 * What rbee-launch said on its status channel (see the protocol in
 * rbee-launch.c): "J pid" once joined, "E step errno NAME" on failure, then
 * end-of-file at exec.
 */
record LaunchStatus(boolean joined, Optional<Failure> failure) {
    record Failure(Step step, String launcherStep, int errno, String errnoName) {}

    static LaunchStatus parse(String text) {
        boolean joined = false;
        Failure failure = null;
        for (String line : text.split("\n")) {
            String[] f = line.split(" ");
            if (f.length == 2 && f[0].equals("J")) joined = true;
            else if (f.length == 4 && f[0].equals("E") && failure == null)
                failure = new Failure(step(f[1]), f[1], parseInt(f[2]), f[3]);
        }
        return new LaunchStatus(joined, Optional.ofNullable(failure));
    }

    private static int parseInt(String s) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    static Step step(String launcherStep) {
        return switch (launcherStep) {
            case "join" -> Step.JOIN;
            case "setsid" -> Step.SETSID;
            case "pdeathsig" -> Step.PDEATHSIG;
            case "no-new-privs" -> Step.NO_NEW_PRIVS;
            case "oom-score-adj" -> Step.OOM_SCORE_ADJ;
            case "chdir" -> Step.CHDIR;
            case "journal" -> Step.JOURNAL;
            case "close-fds" -> Step.CLOSE_FDS;
            case "exec" -> Step.EXEC;
            default -> Step.LAUNCHER;
        };
    }
}
