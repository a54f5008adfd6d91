package dev.rbee.hive.monitor.cli;

import java.io.PrintStream;

/** rbee-mon: start, watch and stop monitored workers. */
public final class RbeeMon {
    static final String USAGE = """
            usage: rbee-mon COMMAND [OPTIONS]

            commands:
              run --group G --instance I [--cpu 250%] [--cpu-weight N] [--memory-max 512M]
                  [--memory-high SIZE] [--swap-max SIZE] [--pids-max N] [--io "MAJ:MIN rbps=1M"]
                  [--log FILE | --output inherit|journal] [--grace 10s] [--interval 1s] [--quiet] [--stats-json] [--json]
                  [--backend auto|cgroup2|proctree|portable] [--allow-no-limits] [--] PROGRAM ARGS...
                  start PROGRAM inside rbee.slice/G/I, print its exit report and exit
                  with its exit status (128+N when killed by signal N); Ctrl-C,
                  SIGTERM or SIGHUP stops it gracefully (systemd placement, workers
                  outliving the service: SIGTERM/SIGHUP exit 0 and leave it running,
                  and the next run of G/I follows it).  Every interval (at least
                  10ms) a stats line goes to stderr (--stats-json: one JSON object
                  per line; --quiet: none).  Options go before PROGRAM: the first
                  word that is not an option (or --) ends them.  Exits 125 when
                  the launch fails, e.g. "busy": G/I already has a live owner.
                  --output journal: PROGRAM's stdout and stderr go to journald
                  (journalctl -t rbee-G-I); fails where journald is absent
              stats [--group G] [--instance I] [--interval 1s] [--json]
                  the workers' stats, after one interval so that rates exist
              top [--interval 1s] [--group G] [--sort cpu|memory|io|name] [--batch] [--iterations N]
                  every worker, refreshed each interval: a full-screen table on a
                  terminal (keys c m i n sort, q quits), plain blocks otherwise
              serve [--bind 127.0.0.1] [--port 7835] [--interval 1s] [--hive-id ID] [--max-streams 256]
                  [--allow-control] [--token-file F] [--allow-host N,...] [--max-connections 1024]
                  [--max-connections-per-client 64] [--header-timeout 10s]
                  HTTP: GET / (live page), GET /v1/heartbeats/stream (server-sent events),
                  GET /v1/workers, GET /metrics (Prometheus); with --allow-control also
                  POST /v1/workers/G/I/stop[?grace=10s] (token from --token-file or
                  $RBEE_MON_TOKEN; loopback only without one)
              stop G/I [--grace 10s] [--json]
                  SIGTERM the worker, SIGKILL its whole tree after the grace period
              cleanup [--json]
                  remove what crashed supervisors left: empty leaves nobody owns,
                  empty groups, old launch sockets; lists what it removed
              backend [--backend ...] [--placement ...]
                  print which backend is active and why; for cgroup2 where its tree
                  lives (placement, root, unit, slice, controllers and absent ones)

            Every command takes --backend auto|cgroup2|proctree|portable (default auto:
            cgroup2 where writable, else proctree; one asked for fails if it cannot work),
            --placement auto|systemd|delegated|root (default auto: systemd when it is
            PID 1 and we are root, delegated inside a Delegate=yes unit, else root, i.e.
            <cgroup2 mount>/rbee.slice), --unit NAME.scope and --slice NAME.slice (systemd
            placement; default rbee-hive.scope in rbee-hive.slice) and
            --workers-outlive-service true|false (systemd placement; default true).
            """;

    private RbeeMon() {}

    public static void main(String[] argv) {
        System.exit(run(argv, System.out, System.err));
    }

    static int run(String[] argv, PrintStream out, PrintStream err) {
        if (argv.length == 0 || argv[0].equals("--help") || argv[0].equals("-h") || argv[0].equals("help")) {
            (argv.length == 0 ? err : out).print(USAGE);
            return argv.length == 0 ? 2 : 0;
        }
        try {
            return switch (argv[0]) {
                case "run" -> RunCommand.run(argv, out, err);
                case "stop" -> StopCommand.run(argv, out, err);
                case "cleanup" -> CleanupCommand.run(argv, out);
                case "stats" -> StatsCommand.run(argv, out, err);
                case "top" -> TopCommand.run(argv, out, err);
                case "serve" -> ServeCommand.run(argv, out, err);
                case "backend" -> BackendCommand.run(argv, out);
                default -> throw new UsageException("unknown command \"" + argv[0] + "\"");
            };
        } catch (UsageException | IllegalArgumentException e) {
            err.println("rbee-mon: " + e.getMessage());
            err.println("run 'rbee-mon --help' for usage");
            return 2;
        } catch (Exception e) {
            err.println("rbee-mon: " + e.getMessage());
            return 1;
        }
    }
}
