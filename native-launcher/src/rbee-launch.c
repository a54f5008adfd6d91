/*
 * rbee-launch: join a cgroup v2 leaf, then exec the worker.
 *
 * WHY
 *   A worker must not run a single instruction, nor fork a single child,
 *   outside its cgroup.  Spawning it and moving its pid afterwards (what the
 *   first implementation did) leaves a window in which the worker runs in the
 *   supervisor's cgroup and its early children stay there for good.  This
 *   launcher is exec'd by the supervisor (java.lang.ProcessBuilder), moves
 *   *itself* into the target cgroup by writing "0" to its cgroup.procs, and
 *   only then execs the worker.  The worker therefore keeps the launcher's pid
 *   (so java.lang.Process, waitpid and the exit status keep working) and is
 *   born inside the leaf.  The JDK cannot pass CLONE_INTO_CGROUP, and glibc
 *   2.36 has no pidfd_spawn, so this is the portable way to the same result.
 *
 * USAGE
 *   rbee-launch [OPTIONS] -- PROGRAM [ARG...]
 *
 *   --cgroup DIR          join this cgroup v2 directory.  DIR is opened with
 *                         O_DIRECTORY|O_NOFOLLOW and must be on a cgroup2 file
 *                         system; "0" is then written to DIR/cgroup.procs
 *                         through that directory fd.  EINVAL (seen while a task
 *                         is still being set up) is retried 5 times, 10 ms apart.
 *   --no-cgroup           do not join any cgroup (process-tree backend).
 *   --status-socket PATH  report over a unix stream socket at PATH; "@NAME"
 *                         is NAME in the abstract namespace (no file: none
 *                         can be left behind when the supervisor is killed).
 *   --status-fd N         report over the inherited fd N.
 *   --setsid              start a new session (and process group).
 *   --pdeathsig SIG       signal number the worker gets when its parent
 *                         *thread* dies (prctl PR_SET_PDEATHSIG).
 *   --expect-ppid PID     with --pdeathsig: if the parent is no longer PID (it
 *                         died before prctl), fail instead of running orphaned.
 *   --close-fds           close every inherited fd >= 3 (close_range).
 *   --no-new-privs        prctl(PR_SET_NO_NEW_PRIVS): exec can gain no privilege.
 *   --oom-score-adj N     write N (-1000..1000) to /proc/self/oom_score_adj.
 *   --cwd DIR             chdir(DIR) before exec.
 *   --journal IDENT       stdout and stderr go to journald: connect to its
 *                         stream socket /run/systemd/journal/stdout (after
 *                         the join, so journald files the lines under the
 *                         worker's own cgroup and unit), shutdown(SHUT_RD),
 *                         write the stream header (IDENT, no unit id,
 *                         priority 6, no level prefix, no forwarding) and
 *                         dup2 the socket onto fds 1 and 2.
 *
 *   Exactly one of --cgroup and --no-cgroup is required.
 *
 * STATUS PROTOCOL
 *   The status channel is close-on-exec.  The launcher writes ASCII lines:
 *
 *     "J <pid>\n"                        the cgroup was joined (or skipped);
 *                                        on a socket it carries (SCM_RIGHTS)
 *                                        a pidfd of this process, opened
 *                                        before exec, so the supervisor's
 *                                        handle can never name a reused pid
 *     "E <step> <errno> <ERRNAME>\n"     a step failed; the target never runs
 *
 *   After "J" it applies the remaining options and calls execve.  If execve
 *   succeeds the kernel closes the channel: the reader sees end-of-file after
 *   "J" and nothing else, which means the target program now runs in the
 *   cgroup.  Any failure writes one "E" line and exits without running the
 *   target.  End-of-file without "J" means the launcher died (e.g. a signal).
 *   Without a status channel the same "E" line goes to stderr, prefixed with
 *   "rbee-launch: ".
 *
 *   Steps: args, status, join, setsid, pdeathsig, no-new-privs,
 *   oom-score-adj, chdir, journal, close-fds, exec.  "journal" fails with
 *   the errno of socket/connect/write/dup2 (ENOENT: no journald here).  A --cgroup DIR that is not on
 *   cgroup2 fails "join" with EMEDIUMTYPE.
 *
 * EXIT STATUS (only when the target never ran)
 *   125  the launcher failed before exec (any step but exec)
 *   126  exec failed (EACCES, ENOEXEC, ...)
 *   127  exec failed with ENOENT
 *   Once the target runs, every exit status is the target's own.  The status
 *   channel, not the exit status, is what tells the two apart.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <stddef.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static int status_fd = -1;

/* write(2) until done; EINTR-safe.  Errors are ignored: the exit status still
 * tells the supervisor that the launch failed. */
static void write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        buf += n;
        len -= (size_t)n;
    }
}

static void report(const char *line)
{
    if (status_fd >= 0) {
        write_all(status_fd, line, strlen(line));
    } else {
        write_all(STDERR_FILENO, "rbee-launch: ", 13);
        write_all(STDERR_FILENO, line, strlen(line));
    }
}

static void __attribute__((noreturn)) fail(const char *step, int err, int code)
{
    char line[160];
    const char *name = err ? strerrorname_np(err) : "none";
    snprintf(line, sizeof line, "E %s %d %s\n", step, err, name ? name : "unknown");
    report(line);
    _exit(code);
}

static long parse_long(const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < lo || v > hi)
        fail("args", EINVAL, 125);
    return v;
}

static int open_status_socket(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    size_t len = strlen(path);
    if (len >= sizeof addr.sun_path)
        return -ENAMETOOLONG;
    socklen_t addrlen = sizeof addr;
    if (path[0] == '@') {
        /* abstract: sun_path[0] is NUL, the name follows, the length says where it ends */
        memcpy(addr.sun_path + 1, path + 1, len - 1);
        addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    } else {
        strcpy(addr.sun_path, path);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&addr, addrlen) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

static void join_cgroup(const char *dir)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        fail("join", errno, 125);
    struct statfs sfs;
    if (fstatfs(dfd, &sfs) < 0)
        fail("join", errno, 125);
    if (sfs.f_type != CGROUP2_SUPER_MAGIC)
        fail("join", EMEDIUMTYPE, 125);
    int pfd = openat(dfd, "cgroup.procs", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (pfd < 0)
        fail("join", errno, 125);
    for (int attempt = 0;; attempt++) {
        if (write(pfd, "0", 1) == 1)
            break;
        int e = errno;
        if (e == EINTR)
            continue;
        if (e == EINVAL && attempt < 5) {
            struct timespec ts = { 0, 10 * 1000 * 1000 };
            nanosleep(&ts, NULL);
            continue;
        }
        fail("join", e, 125);
    }
    close(pfd);
    close(dfd);
}

/* "J <pid>" with a pidfd of ourselves attached (SCM_RIGHTS).  Without pidfd
 * support (ENOSYS, before Linux 5.3) or on a status fd that is not a socket,
 * the line goes alone and the supervisor opens its own pidfd. */
static void report_joined(void)
{
    char line[32];
    snprintf(line, sizeof line, "J %ld\n", (long)getpid());
    int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
    if (pidfd >= 0) {
        union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } control;
        memset(&control, 0, sizeof control);
        struct iovec iov = { .iov_base = line, .iov_len = strlen(line) };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                              .msg_control = control.buf, .msg_controllen = sizeof control.buf };
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &pidfd, sizeof(int));
        ssize_t n;
        do
            n = sendmsg(status_fd, &msg, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        close(pidfd);
        if (n == (ssize_t)iov.iov_len)
            return;
        if (n >= 0 || errno != ENOTSOCK)
            fail("status", n < 0 ? errno : EIO, 125);
    }
    report(line);
}

#define JOURNAL_STDOUT "/run/systemd/journal/stdout"

/* stdout and stderr to journald's stream socket, as systemd does for a service
 * with StandardOutput=journal (src/journal/journald-stream.c reads the header:
 * identifier, unit id, priority, level prefix, forward to syslog, kmsg, console). */
static void journal_streams(const char *ident)
{
    if (strchr(ident, '\n') || strlen(ident) > 200)
        fail("journal", EINVAL, 125);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    strcpy(addr.sun_path, JOURNAL_STDOUT);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        fail("journal", errno, 125);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
        fail("journal", errno, 125);
    if (shutdown(fd, SHUT_RD) < 0)
        fail("journal", errno, 125);
    char header[256];
    int n = snprintf(header, sizeof header, "%s\n\n6\n0\n0\n0\n0\n", ident);
    const char *p = header;
    while (n > 0) {
        ssize_t w = write(fd, p, (size_t)n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            fail("journal", errno, 125);
        }
        p += w;
        n -= (int)w;
    }
    if (dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
        fail("journal", errno, 125);
    close(fd);
}

/* Close every fd >= 3 but keep `keep` (the status channel, close-on-exec). */
static void close_fds(int keep)
{
    unsigned int lo = 3;
    if (keep >= 3) {
        if ((unsigned)keep > lo && syscall(SYS_close_range, lo, (unsigned)keep - 1, 0) < 0)
            goto fallback;
        lo = (unsigned)keep + 1;
    }
    if (syscall(SYS_close_range, lo, ~0U, 0) == 0)
        return;
fallback:
    if (errno != ENOSYS)
        fail("close-fds", errno, 125);
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        fail("close-fds", errno, 125);
    int self = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        int fd = atoi(e->d_name);
        if (fd >= 3 && fd != keep && fd != self)
            close(fd);
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    const char *cgroup = NULL, *status_socket = NULL, *cwd = NULL, *journal = NULL;
    int no_cgroup = 0, do_setsid = 0, do_close = 0, nnp = 0;
    long pdeathsig = 0, expect_ppid = 0, oom = LONG_MIN, sfd = -1;
    int i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        int has_value = i + 1 < argc;
        if (strcmp(a, "--cgroup") == 0 && has_value)
            cgroup = argv[++i];
        else if (strcmp(a, "--no-cgroup") == 0)
            no_cgroup = 1;
        else if (strcmp(a, "--status-socket") == 0 && has_value)
            status_socket = argv[++i];
        else if (strcmp(a, "--status-fd") == 0 && has_value)
            sfd = parse_long(argv[++i], 0, INT_MAX);
        else if (strcmp(a, "--setsid") == 0)
            do_setsid = 1;
        else if (strcmp(a, "--pdeathsig") == 0 && has_value)
            pdeathsig = parse_long(argv[++i], 1, SIGRTMAX);
        else if (strcmp(a, "--expect-ppid") == 0 && has_value)
            expect_ppid = parse_long(argv[++i], 1, INT_MAX);
        else if (strcmp(a, "--close-fds") == 0)
            do_close = 1;
        else if (strcmp(a, "--no-new-privs") == 0)
            nnp = 1;
        else if (strcmp(a, "--oom-score-adj") == 0 && has_value)
            oom = parse_long(argv[++i], -1000, 1000);
        else if (strcmp(a, "--cwd") == 0 && has_value)
            cwd = argv[++i];
        else if (strcmp(a, "--journal") == 0 && has_value)
            journal = argv[++i];
        else
            fail("args", EINVAL, 125);
    }

    /* The status channel first, so that every later failure reaches it. */
    if (sfd >= 0) {
        if (fcntl((int)sfd, F_SETFD, FD_CLOEXEC) < 0)
            fail("status", errno, 125);
        status_fd = (int)sfd;
    } else if (status_socket) {
        int fd = open_status_socket(status_socket);
        if (fd < 0)
            fail("status", -fd, 125);
        status_fd = fd;
    }
    if (i >= argc || (cgroup == NULL) == (no_cgroup == 0))
        fail("args", EINVAL, 125);

    if (cgroup)
        join_cgroup(cgroup);
    if (status_fd >= 0)
        report_joined();

    if (do_setsid && setsid() < 0)
        fail("setsid", errno, 125);
    if (pdeathsig) {
        if (prctl(PR_SET_PDEATHSIG, pdeathsig, 0, 0, 0) < 0)
            fail("pdeathsig", errno, 125);
        /* The parent may have died before prctl: then no signal will come. */
        if (expect_ppid && getppid() != (pid_t)expect_ppid)
            fail("pdeathsig", ESRCH, 125);
    }
    if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        fail("no-new-privs", errno, 125);
    if (oom != LONG_MIN) {
        int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            fail("oom-score-adj", errno, 125);
        char buf[16];
        int n = snprintf(buf, sizeof buf, "%ld", oom);
        if (write(fd, buf, (size_t)n) != n)
            fail("oom-score-adj", errno, 125);
        close(fd);
    }
    if (cwd && chdir(cwd) < 0)
        fail("chdir", errno, 125);
    if (journal)
        journal_streams(journal);
    if (do_close)
        close_fds(status_fd);

    execvp(argv[i], &argv[i]);
    fail("exec", errno, errno == ENOENT ? 127 : 126);
}
