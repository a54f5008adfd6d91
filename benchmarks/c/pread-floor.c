/*
 * pread-floor: the kernel's own cost of reading cgroup stats files, the floor
 * that the Java readers are compared with.
 *
 *   pread-floor [-t SECONDS] [-r ROUNDS] DIR FILE [SAMPLE_FILE...]
 *   pread-floor [-t SECONDS] [-r ROUNDS] -l LIST [-s SLOW_LIST -e N]
 *
 * For FILE in DIR (e.g. cpu.stat) it times, in a loop:
 *   - pread(fd, buf, 4096, 0) on an fd opened once (what a kept-open reader does);
 *   - open + read + close on every read;
 * and then, when SAMPLE_FILEs are given, one "sample": each SAMPLE_FILE read
 * once, both ways (pread on kept-open fds; open + read + close).
 * cgroup.procs is read until end of file (a second pread returns 0), as the
 * Java reader does: it comes one page per read(2) when long.  Every other
 * file is one pread: cgroup stats files come whole in one read.
 * Each measurement runs one warm-up round, then ROUNDS rounds of SECONDS each
 * (like JMH iterations); it reports the mean ns/op over the rounds, and the
 * lowest and highest round.  Output: one JSON object on stdout.
 *
 * With -l, LIST names one file per line (every stats file of every cgroup of
 * a sampling round, cgroup.procs among them): all are opened once, and one op
 * is one whole round, each file pread once (cgroup.procs to end of file).
 * That is the floor of a heartbeat round over many workers.
 *
 * With -s SLOW_LIST -e N as well (the tiered round the Java collector does):
 * the -l files are kept open and pread every op; every Nth op (the first
 * included) also reads each SLOW_LIST file the way the slow tier does: its
 * directory opened (O_DIRECTORY), the file opened relative to it (openat),
 * read, closed, and the directory closed once its consecutive files are done.
 * The mean ns/op is then the amortized cost of one round: every timed round
 * runs a whole number of N-op cycles, at least SECONDS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE 4096
#define MAX_FILES 64

static char buf[BUF_SIZE];
static double round_seconds = 1.0;
static int rounds = 3;

struct result {
    double mean, min, max, cpu;
};

/* CPU time of this process (user + system): what an op costs the machine, whatever else runs on it. */
static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *what, const char *path)
{
    fprintf(stderr, "pread-floor: %s %s: %s\n", what, path, strerror(errno));
    exit(1);
}

/* One operation of a measurement; returns bytes read (checked, kept live). */
typedef long (*op_fn)(void *ctx);

struct kept { int fd; const char *path; };
struct many { int n; int *fds; const char **paths; };

static int to_eof(const char *path)
{
    const char *slash = strrchr(path, '/');
    return strcmp(slash ? slash + 1 : path, "cgroup.procs") == 0;
}

/* pread from 0; for cgroup.procs on until end of file.  Returns the length. */
static long pread_file(int fd, const char *path)
{
    long total = 0;
    for (;;) {
        ssize_t n = pread(fd, buf + (total % BUF_SIZE), BUF_SIZE - (total % BUF_SIZE), total);
        if (n < 0) die("pread", path);
        total += n;
        if (n == 0 || !to_eof(path)) return total;
    }
}

static long op_pread(void *ctx)
{
    struct kept *k = ctx;
    return pread_file(k->fd, k->path);
}

static long op_open_read_close(void *ctx)
{
    struct kept *k = ctx;
    int fd = open(k->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die("open", k->path);
    long total = 0;
    for (;;) {
        ssize_t n = read(fd, buf + (total % BUF_SIZE), BUF_SIZE - (total % BUF_SIZE));
        if (n < 0) die("read", k->path);
        total += n;
        if (n == 0 || !to_eof(k->path)) break;
    }
    close(fd);
    return total;
}

static long op_sample_pread(void *ctx)
{
    struct many *m = ctx;
    long total = 0;
    for (int i = 0; i < m->n; i++) total += pread_file(m->fds[i], m->paths[i]);
    return total;
}

static long op_sample_open_read_close(void *ctx)
{
    struct many *m = ctx;
    long total = 0;
    for (int i = 0; i < m->n; i++) {
        struct kept k = { -1, m->paths[i] };
        total += op_open_read_close(&k);
    }
    return total;
}

static volatile long sink;
/* ops between two clock reads: many cheap ones, or one whole round (-l) */
static int batch = 64;
/* a timed round ends on a multiple of this many ops: with -s, whole N-op cycles, so that the
 * mean carries exactly one slow read per N rounds however few rounds fit in SECONDS */
static long whole = 1;

/* ns per op of one round of about `seconds`; *cpu gets the CPU ns per op. */
static double one_round(op_fn op, void *ctx, double seconds, double *cpu)
{
    double start = now_ns(), end = start + seconds * 1e9, t, c0 = cpu_ns();
    long ops = 0;
    do {
        for (int i = 0; i < batch; i++) sink += op(ctx);
        ops += batch;
        t = now_ns();
    } while (t < end || ops % whole != 0);
    *cpu = (cpu_ns() - c0) / (double)ops;
    return (t - start) / (double)ops;
}

static struct result measure(op_fn op, void *ctx)
{
    struct result r = { 0, 1e300, 0, 0 };
    double cpu;
    long cycle = whole;
    whole = 1; /* the warm-up needs no whole cycles */
    one_round(op, ctx, round_seconds, &cpu); /* warm-up: caches, page tables, cpufreq */
    whole = cycle;
    for (int i = 0; i < rounds; i++) {
        double ns = one_round(op, ctx, round_seconds, &cpu);
        r.cpu += cpu / rounds;
        r.mean += ns / rounds;
        if (ns < r.min) r.min = ns;
        if (ns > r.max) r.max = ns;
    }
    return r;
}

static void print_result(const char *key, struct result r)
{
    printf("\"%s\": {\"ns_per_op\": %.1f, \"min\": %.1f, \"max\": %.1f, \"cpu_ns_per_op\": %.1f}", key, r.mean, r.min, r.max, r.cpu);
}

static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') putchar('\\');
        putchar(*s);
    }
    putchar('"');
}

/* The slow tier: files grouped by directory (consecutive lines), read every Nth op. */
struct slow { int n; char **dirs; char **names; int every; long op; };
static struct many round_fast;
static struct slow round_slow;

static long read_slow(struct slow *s)
{
    long total = 0;
    for (int i = 0; i < s->n;) {
        int dfd = open(s->dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) die("open", s->dirs[i]);
        int j = i;
        for (; j < s->n && strcmp(s->dirs[j], s->dirs[i]) == 0; j++) {
            int fd = openat(dfd, s->names[j], O_RDONLY | O_CLOEXEC);
            if (fd < 0) die("openat", s->names[j]);
            ssize_t n = pread(fd, buf, BUF_SIZE, 0);
            if (n < 0) die("pread", s->names[j]);
            total += n;
            close(fd);
        }
        close(dfd);
        i = j;
    }
    return total;
}

static long op_tiered_round(void *ctx)
{
    (void)ctx;
    long total = op_sample_pread(&round_fast);
    if (round_slow.op++ % round_slow.every == 0) total += read_slow(&round_slow);
    return total;
}

static void load_slow(const char *list, int every)
{
    FILE *f = fopen(list, "r");
    if (!f) die("open", list);
    int cap = 0;
    char *line = NULL;
    size_t len = 0;
    ssize_t got;
    while ((got = getline(&line, &len, f)) > 0) {
        if (line[got - 1] == '\n') line[--got] = '\0';
        if (got == 0) continue;
        if (round_slow.n == cap) {
            cap = cap ? cap * 2 : 1024;
            round_slow.dirs = realloc(round_slow.dirs, (size_t)cap * sizeof *round_slow.dirs);
            round_slow.names = realloc(round_slow.names, (size_t)cap * sizeof *round_slow.names);
            if (!round_slow.dirs || !round_slow.names) die("realloc", list);
        }
        char *slash = strrchr(line, '/');
        if (!slash) die("no directory in", line);
        round_slow.dirs[round_slow.n] = strndup(line, (size_t)(slash - line));
        round_slow.names[round_slow.n] = strdup(slash + 1);
        round_slow.n++;
    }
    free(line);
    fclose(f);
    round_slow.every = every;
}

/* -l LIST: one op = every listed file pread once (-s/-e: and the slow tier every Nth op). */
static int round_floor(const char *list, const char *slow, int every)
{
    FILE *f = fopen(list, "r");
    if (!f) die("open", list);
    struct many m = { 0, NULL, NULL };
    int cap = 0;
    char *line = NULL;
    size_t len = 0;
    ssize_t got;
    while ((got = getline(&line, &len, f)) > 0) {
        if (line[got - 1] == '\n') line[--got] = '\0';
        if (got == 0) continue;
        if (m.n == cap) {
            cap = cap ? cap * 2 : 1024;
            m.fds = realloc(m.fds, (size_t)cap * sizeof *m.fds);
            m.paths = realloc(m.paths, (size_t)cap * sizeof *m.paths);
            if (!m.fds || !m.paths) die("realloc", list);
        }
        m.paths[m.n] = strdup(line);
        m.fds[m.n] = open(line, O_RDONLY | O_CLOEXEC);
        if (m.fds[m.n] < 0) die("open", line);
        m.n++;
    }
    free(line);
    fclose(f);
    batch = 1;
    printf("{\"list\": ");
    json_string(list);
    printf(", \"round_seconds\": %g, \"rounds\": %d,\n \"round\": {\"files\": %d, \"bytes\": %ld, ",
           round_seconds, rounds, m.n, op_sample_pread(&m));
    if (slow) {
        load_slow(slow, every);
        round_fast = m;
        printf("\"slow_files\": %d, \"slow_every\": %d, ", round_slow.n, every);
        whole = every;
        print_result("pread", measure(op_tiered_round, NULL));
    } else {
        print_result("pread", measure(op_sample_pread, &m));
    }
    printf("}}\n");
    for (int i = 0; i < round_slow.n; i++) {
        free(round_slow.dirs[i]);
        free(round_slow.names[i]);
    }
    free(round_slow.dirs);
    free(round_slow.names);
    for (int i = 0; i < m.n; i++) {
        close(m.fds[i]);
        free((void *)m.paths[i]);
    }
    free(m.fds);
    free(m.paths);
    return 0;
}

int main(int argc, char **argv)
{
    int opt;
    const char *list = NULL, *slow = NULL;
    int every = 10;
    while ((opt = getopt(argc, argv, "t:r:l:s:e:")) != -1) {
        switch (opt) {
        case 't': round_seconds = atof(optarg); break;
        case 'r': rounds = atoi(optarg); break;
        case 'l': list = optarg; break;
        case 's': slow = optarg; break;
        case 'e': every = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: %s [-t SECONDS] [-r ROUNDS] DIR FILE [SAMPLE_FILE...]\n", argv[0]);
            return 2;
        }
    }
    if (list) {
        if (every < 1) die("-e must be at least 1:", optarg);
        return round_floor(list, slow, every);
    }
    if (argc - optind < 2 || argc - optind - 1 > MAX_FILES || round_seconds <= 0 || rounds < 1) {
        fprintf(stderr, "usage: %s [-t SECONDS] [-r ROUNDS] DIR FILE [SAMPLE_FILE...] (at most %d files)\n", argv[0], MAX_FILES);
        return 2;
    }
    const char *dir = argv[optind];
    int n = argc - optind - 1;
    static int fds[MAX_FILES];
    static const char *paths[MAX_FILES];
    for (int i = 0; i < n; i++) {
        char *p;
        if (asprintf(&p, "%s/%s", dir, argv[optind + 1 + i]) < 0) die("asprintf", dir);
        paths[i] = p;
        fds[i] = open(p, O_RDONLY | O_CLOEXEC);
        if (fds[i] < 0) die("open", p);
    }

    printf("{\"dir\": ");
    json_string(dir);
    printf(", \"round_seconds\": %g, \"rounds\": %d,\n \"file\": {\"name\": ", round_seconds, rounds);
    json_string(argv[optind + 1]);
    struct kept k = { fds[0], paths[0] };
    printf(", \"bytes\": %ld, ", op_pread(&k));
    print_result("pread", measure(op_pread, &k));
    printf(", ");
    print_result("open_read_close", measure(op_open_read_close, &k));
    printf("}");
    fflush(stdout);
    if (n > 1) {
        struct many m = { n - 1, fds + 1, paths + 1 };
        printf(",\n \"sample\": {\"files\": [");
        for (int i = 1; i < n; i++) {
            printf("%s", i > 1 ? ", " : "");
            json_string(argv[optind + 1 + i]);
        }
        printf("], \"bytes\": %ld, ", op_sample_pread(&m));
        print_result("pread", measure(op_sample_pread, &m));
        printf(", ");
        print_result("open_read_close", measure(op_sample_open_read_close, &m));
        printf("}");
    }
    printf("}\n");
    for (int i = 0; i < n; i++) {
        close(fds[i]);
        free((void *)paths[i]);
    }
    return 0;
}
