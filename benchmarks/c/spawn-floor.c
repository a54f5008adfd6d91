/*
 * spawn-floor: what starting /bin/true and waiting for it costs the kernel,
 * the floor of issue 17's spawn goal (a monitored spawn at most 0.8x
 * ProcessBuilder's start-to-exit).
 *
 *   spawn-floor LIBRBEE_SPAWN CGROUP_DIR N
 *
 * Three ways, alternating one of each per round, N rounds; the medians (us) as
 * one JSON object on stdout:
 *   posix_spawn   posix_spawn + waitpid: a plain start, no cgroup (what the
 *                 JDK's ProcessBuilder does underneath, minus its jspawnhelper)
 *   leaf          mkdir CGROUP_DIR/leaf, open it, rbee_spawn into it
 *                 (librbee-spawn.so's clone3 with CLONE_INTO_CGROUP), waitid
 *                 on the pidfd, close, rmdir: a new cgroup per life
 *   group_leaf    the same with a group directory made and removed around the
 *                 leaf, as a life whose group has no other worker does
 * WHY a C program: the JVM's share of a monitored spawn is the difference to
 * these, measured on the same host in the same minutes.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

extern char **environ;

struct rbee_spawn_req { /* native-launcher/src/rbee-spawn.c */
    int64_t path, argv, envp, cwd, cgroup_fd, stdio[3], flags, pdeathsig, expect_ppid, oom_score_adj;
    int64_t pid, pidfd, step, err;
};

static int (*rbee_spawn)(struct rbee_spawn_req *);
static char *const true_argv[] = {"/bin/true", NULL};

static void die(const char *what, const char *arg) {
    fprintf(stderr, "spawn-floor: %s %s: %s\n", what, arg, strerror(errno));
    exit(1);
}

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

static long plain(void) {
    long t0 = now_ns();
    pid_t pid;
    int st;
    if ((errno = posix_spawn(&pid, "/bin/true", NULL, NULL, true_argv, environ)) != 0) die("posix_spawn", "/bin/true");
    if (waitpid(pid, &st, 0) < 0) die("waitpid", "/bin/true");
    return now_ns() - t0;
}

static long in_leaf(const char *group, const char *leaf) {
    long t0 = now_ns();
    if (group && mkdir(group, 0755) < 0) die("mkdir", group);
    if (mkdir(leaf, 0755) < 0) die("mkdir", leaf);
    int dfd = open(leaf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) die("open", leaf);
    struct rbee_spawn_req r;
    memset(&r, 0, sizeof r);
    r.path = (int64_t)(intptr_t) "/bin/true";
    r.argv = (int64_t)(intptr_t) true_argv;
    r.envp = (int64_t)(intptr_t) environ;
    r.cgroup_fd = dfd;
    r.stdio[0] = r.stdio[1] = r.stdio[2] = -1;
    r.oom_score_adj = 0;
    if (rbee_spawn(&r) != 0) {
        errno = (int) r.err;
        die("rbee_spawn into", leaf);
    }
    siginfo_t si;
    if (syscall(SYS_waitid, P_PIDFD, (int) r.pidfd, &si, WEXITED, NULL) < 0) die("waitid", leaf);
    close((int) r.pidfd);
    close(dfd);
    if (rmdir(leaf) < 0) die("rmdir", leaf);
    if (group && rmdir(group) < 0) die("rmdir", group);
    return now_ns() - t0;
}

static int cmp(const void *a, const void *b) {
    long x = *(const long *) a, y = *(const long *) b;
    return (x > y) - (x < y);
}

static double median_us(long *v, int n) {
    qsort(v, n, sizeof *v, cmp);
    return v[n / 2] / 1000.0;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: spawn-floor LIBRBEE_SPAWN CGROUP_DIR N\n");
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW);
    if (!lib || !(rbee_spawn = (int (*)(struct rbee_spawn_req *)) dlsym(lib, "rbee_spawn"))) {
        fprintf(stderr, "spawn-floor: %s: %s\n", argv[1], dlerror());
        return 1;
    }
    int n = atoi(argv[3]);
    if (n < 1) {
        fprintf(stderr, "spawn-floor: N must be at least 1: %s\n", argv[3]);
        return 2;
    }
    char group[4096], leaf[4096], grouped[4096];
    snprintf(group, sizeof group, "%s/g", argv[2]);
    snprintf(leaf, sizeof leaf, "%s/leaf", argv[2]);
    snprintf(grouped, sizeof grouped, "%s/g/leaf", argv[2]);
    long *a = malloc(n * sizeof(long)), *b = malloc(n * sizeof(long)), *c = malloc(n * sizeof(long));
    if (!a || !b || !c) die("malloc", "");
    for (int i = 0; i < n / 10 + 1; i++) { /* warm-up: page cache, the dynamic loader's files */
        plain();
        in_leaf(NULL, leaf);
        in_leaf(group, grouped);
    }
    for (int i = 0; i < n; i++) {
        a[i] = plain();
        b[i] = in_leaf(NULL, leaf);
        c[i] = in_leaf(group, grouped);
    }
    double pa = median_us(a, n), pb = median_us(b, n), pc = median_us(c, n);
    printf("{\"rounds\": %d, \"posix_spawn_us\": %.1f, \"leaf_us\": %.1f, \"group_leaf_us\": %.1f, "
           "\"leaf_vs_posix_spawn\": %.3f, \"group_leaf_vs_posix_spawn\": %.3f}\n",
           n, pa, pb, pc, pb / pa, pc / pa);
    return 0;
}
