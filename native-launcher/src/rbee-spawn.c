/*
 * librbee-spawn.so: one function, rbee_spawn(), that starts a program
 * directly inside a cgroup v2 leaf and returns a pidfd of it.
 *
 * WHY
 *   What glibc 2.39's pidfd_spawn with posix_spawnattr_setcgroup_np does, for
 *   hosts whose glibc is older: clone3(CLONE_VM | CLONE_VFORK |
 *   CLONE_INTO_CGROUP | CLONE_PIDFD) on a stack of its own, the child's
 *   signal handlers and mask reset as glibc's spawni.c does, the file actions,
 *   then execve.  The program is born inside its leaf (it never runs an
 *   instruction outside), the pidfd is the kernel's from the clone itself (it
 *   can only ever name this process), and there is one exec and no extra
 *   process, socket or handshake - unlike rbee-launch, which is exec'd first
 *   and joins the cgroup itself.  Loaded by the JVM through FFM (NativeSpawn).
 *
 * PROTOCOL
 *   The caller fills struct rbee_spawn_req (all 64-bit words, one layout on
 *   every 64-bit Linux) and calls rbee_spawn(req).  It returns 0 with pid and
 *   pidfd set, or -1 with step and err set; then no process is left (a child
 *   that failed before exec has been reaped) and no fd.
 *
 *   Steps (shared with rbee-launch's names): 1 clone (clone3 itself refused:
 *   ENOSYS before Linux 5.3, E2BIG before 5.7 (no CLONE_INTO_CGROUP), EPERM
 *   under a seccomp filter - the caller falls back to rbee-launch), 2 join
 *   (the cgroup cannot be entered: EMEDIUMTYPE when the fd is not on cgroup2,
 *   EACCES, EBUSY, ...), 3 setsid, 4 pdeathsig, 5 no-new-privs, 6
 *   oom-score-adj, 7 chdir, 8 close-fds, 9 exec, 10 stdio (dup2), 11 setup
 *   (mmap of the stack, the signal mask).
 *
 * THREADING
 *   Reentrant; PR_SET_PDEATHSIG ties the child to the *calling thread*, so
 *   the JVM calls it from one long-lived thread.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define RBEE_SETSID    1
#define RBEE_CLOSE_FDS 2
#define RBEE_NNP       4
#define RBEE_OOM       8

enum { STEP_CLONE = 1, STEP_JOIN, STEP_SETSID, STEP_PDEATHSIG, STEP_NNP, STEP_OOM, STEP_CHDIR,
       STEP_CLOSE_FDS, STEP_EXEC, STEP_STDIO, STEP_SETUP };

struct rbee_spawn_req {
    /* in */
    int64_t path;        /* const char *: a path with '/', or a name searched in envp's PATH */
    int64_t argv;        /* char *const *, NULL-terminated */
    int64_t envp;        /* char *const *, NULL-terminated */
    int64_t cwd;         /* const char * or 0 */
    int64_t cgroup_fd;   /* an open cgroup2 directory, or -1: the caller's cgroup */
    int64_t stdio[3];    /* fd to dup2 onto 0, 1, 2; -1 keeps the caller's */
    int64_t flags;       /* RBEE_* */
    int64_t pdeathsig;   /* 0: none */
    int64_t expect_ppid; /* with pdeathsig: fail if the parent is no longer this pid */
    int64_t oom_score_adj;
    /* out */
    int64_t pid;
    int64_t pidfd;
    int64_t step;
    int64_t err;
};

/* clone3 with the child running fn(arg) on its own stack, then exit(2).
 * Returns the child's pid, or -errno.  In assembly (per architecture, as
 * glibc's clone3.S and musl do): the child must never return into the
 * parent's C frames, which live on the parent's stack it shares. */
long rbee_clone3(struct clone_args *args, size_t size, int (*fn)(void *), void *arg)
    __attribute__((visibility("hidden")));

#if defined(__x86_64__)
__asm__(
    ".text\n"
    ".globl rbee_clone3\n"
    ".hidden rbee_clone3\n"
    ".type rbee_clone3,@function\n"
    "rbee_clone3:\n"
    "    mov %rdx, %r8\n"           /* fn and arg survive syscall in r8/r9 */
    "    mov %rcx, %r9\n"
    "    mov $435, %eax\n"          /* SYS_clone3 */
    "    syscall\n"
    "    test %rax, %rax\n"
    "    jz 1f\n"
    "    ret\n"                     /* parent: pid, or -errno */
    "1:  xor %ebp, %ebp\n"          /* child: outermost frame */
    "    mov %r9, %rdi\n"
    "    call *%r8\n"
    "    mov %eax, %edi\n"
    "    mov $60, %eax\n"           /* SYS_exit */
    "    syscall\n"
    "    hlt\n"
    ".size rbee_clone3, .-rbee_clone3\n");
#elif defined(__aarch64__)
__asm__(
    ".text\n"
    ".globl rbee_clone3\n"
    ".hidden rbee_clone3\n"
    ".type rbee_clone3,%function\n"
    "rbee_clone3:\n"
    "    mov x10, x2\n"             /* the kernel keeps every register but x0 */
    "    mov x11, x3\n"
    "    mov x8, #435\n"
    "    svc #0\n"
    "    cbz x0, 1f\n"
    "    ret\n"
    "1:  mov x29, xzr\n"
    "    mov x30, xzr\n"
    "    mov x0, x11\n"
    "    blr x10\n"
    "    mov x8, #93\n"             /* SYS_exit */
    "    svc #0\n"
    "    brk #0\n"
    ".size rbee_clone3, .-rbee_clone3\n");
#else
#error "rbee-spawn: clone3 trampoline for x86_64 and aarch64 only"
#endif

struct child_ctx {
    const struct rbee_spawn_req *req;
    sigset_t mask;               /* the mask to restore (empty: a worker starts with none blocked) */
    volatile int step, err;      /* written by the child before _exit (CLONE_VM: our memory) */
};

static void __attribute__((noreturn)) child_fail(struct child_ctx *c, int step, int err)
{
    c->step = step;
    c->err = err;
    _exit(127);
}

static const char *env_path(char *const *envp)
{
    for (; envp && *envp; envp++)
        if (strncmp(*envp, "PATH=", 5) == 0)
            return *envp + 5;
    return "/bin:/usr/bin";
}

/* execvpe(3) without malloc: the candidate paths are built on this stack. */
static int exec_search(const char *file, char *const *argv, char *const *envp)
{
    if (strchr(file, '/')) {
        execve(file, argv, envp);
        return errno;
    }
    size_t flen = strlen(file);
    if (flen == 0)
        return ENOENT;
    char buf[PATH_MAX];
    int seen_eacces = 0, last = ENOENT;
    for (const char *p = env_path(envp);; ) {
        const char *end = strchrnul(p, ':');
        size_t dlen = (size_t)(end - p);
        if (dlen + 1 + flen + 1 <= sizeof buf) {
            if (dlen == 0) {
                memcpy(buf, file, flen + 1); /* empty entry: the current directory */
            } else {
                memcpy(buf, p, dlen);
                buf[dlen] = '/';
                memcpy(buf + dlen + 1, file, flen + 1);
            }
            execve(buf, argv, envp);
            last = errno;
            if (last == EACCES)
                seen_eacces = 1;
            else if (last != ENOENT && last != ENOTDIR && last != ESTALE && last != ENODEV && last != ETIMEDOUT)
                return last; /* as execvp: a found file that cannot run ends the search */
        }
        if (*end == '\0')
            break;
        p = end + 1;
    }
    return seen_eacces ? EACCES : last;
}

static void write_decimal(int fd, long v, struct child_ctx *c)
{
    char buf[24];
    int i = sizeof buf, neg = v < 0;
    unsigned long u = neg ? (unsigned long)-v : (unsigned long)v;
    do
        buf[--i] = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (neg)
        buf[--i] = '-';
    if (write(fd, buf + i, sizeof buf - (size_t)i) != (ssize_t)(sizeof buf - (size_t)i))
        child_fail(c, STEP_OOM, errno);
}

static int child(void *arg)
{
    struct child_ctx *c = arg;
    const struct rbee_spawn_req *r = c->req;

    /* As spawni.c: every handler that is not SIG_IGN goes back to SIG_DFL (the
     * parent's handlers are not ours: the JVM's would run in the worker). */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    for (int sig = 1; sig < _NSIG; sig++) {
        struct sigaction old;
        if (sigaction(sig, NULL, &old) < 0)
            continue; /* glibc's own signals and SIGKILL/SIGSTOP */
        if (old.sa_handler == SIG_IGN || old.sa_handler == SIG_DFL)
            continue;
        sa.sa_handler = SIG_DFL;
        sigaction(sig, &sa, NULL);
    }
    if (r->flags & RBEE_SETSID && setsid() < 0)
        child_fail(c, STEP_SETSID, errno);
    if (r->pdeathsig) {
        if (prctl(PR_SET_PDEATHSIG, (unsigned long)r->pdeathsig, 0, 0, 0) < 0)
            child_fail(c, STEP_PDEATHSIG, errno);
        /* The parent may have died before prctl: then no signal would come. */
        if (r->expect_ppid && getppid() != (pid_t)r->expect_ppid)
            child_fail(c, STEP_PDEATHSIG, ESRCH);
    }
    if (r->flags & RBEE_NNP && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        child_fail(c, STEP_NNP, errno);
    if (r->flags & RBEE_OOM) {
        int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            child_fail(c, STEP_OOM, errno);
        write_decimal(fd, (long)r->oom_score_adj, c);
        close(fd);
    }
    if (r->cwd && chdir((const char *)(intptr_t)r->cwd) < 0)
        child_fail(c, STEP_CHDIR, errno);
    for (int i = 0; i < 3; i++) {
        int fd = (int)r->stdio[i];
        if (fd < 0)
            continue;
        if (fd == i) {
            if (fcntl(fd, F_SETFD, 0) < 0) /* already in place: only keep it across exec */
                child_fail(c, STEP_STDIO, errno);
        } else if (dup2(fd, i) < 0) {
            child_fail(c, STEP_STDIO, errno);
        }
    }
    if (r->flags & RBEE_CLOSE_FDS && syscall(SYS_close_range, 3U, ~0U, 0) < 0)
        child_fail(c, STEP_CLOSE_FDS, errno);
    if (sigprocmask(SIG_SETMASK, &c->mask, NULL) < 0)
        child_fail(c, STEP_SETUP, errno);
    int e = exec_search((const char *)(intptr_t)r->path, (char *const *)(intptr_t)r->argv,
                        (char *const *)(intptr_t)r->envp);
    child_fail(c, STEP_EXEC, e);
}

/* Stack of the child: it runs only until execve, in our address space. */
#define CHILD_STACK (64 * 1024)

__attribute__((visibility("default")))
int rbee_spawn(struct rbee_spawn_req *r)
{
    r->pid = -1;
    r->pidfd = -1;
    r->step = 0;
    r->err = 0;
    if (r->cgroup_fd >= 0) {
        struct statfs sfs;
        if (fstatfs((int)r->cgroup_fd, &sfs) < 0) {
            r->step = STEP_JOIN;
            r->err = errno;
            return -1;
        }
        if (sfs.f_type != CGROUP2_SUPER_MAGIC) {
            r->step = STEP_JOIN;
            r->err = EMEDIUMTYPE;
            return -1;
        }
    }
    long page = sysconf(_SC_PAGESIZE);
    size_t size = CHILD_STACK + (size_t)page;
    char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        r->step = STEP_SETUP;
        r->err = errno;
        return -1;
    }
    /* guard page at the low end: an overflow faults instead of writing into our heap */
    if (mprotect(stack, (size_t)page, PROT_NONE) < 0) {
        r->step = STEP_SETUP;
        r->err = errno;
        munmap(stack, size);
        return -1;
    }

    struct child_ctx c = { .req = r, .step = 0, .err = 0 };
    sigemptyset(&c.mask);
    /* Every signal blocked around the clone, as spawni.c does: no handler of the
     * parent may run in the child before it reset them. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);

    int pidfd = -1;
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | (r->cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0);
    args.pidfd = (uint64_t)(uintptr_t)&pidfd;
    args.exit_signal = SIGCHLD;
    args.stack = (uint64_t)(uintptr_t)(stack + page);
    args.stack_size = CHILD_STACK;
    args.cgroup = r->cgroup_fd >= 0 ? (uint64_t)r->cgroup_fd : 0;
    /* CLONE_ARGS_SIZE_VER2 (88): the size that has the cgroup field */
    long pid = rbee_clone3(&args, 88, child, &c);

    pthread_sigmask(SIG_SETMASK, &old, NULL);
    munmap(stack, size);

    if (pid < 0) {
        int e = (int)-pid;
        /* clone3 refused as such (old kernel, seccomp) versus the cgroup refused */
        r->step = (e == ENOSYS || e == E2BIG || e == EPERM) ? STEP_CLONE : STEP_JOIN;
        r->err = e;
        return -1;
    }
    if (c.step != 0) {
        /* CLONE_VFORK: the child has exited by now; reap it, so nothing is left */
        siginfo_t si;
        while (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0 && errno == EINTR)
            ;
        close(pidfd);
        r->step = c.step;
        r->err = c.err;
        return -1;
    }
    r->pid = pid;
    r->pidfd = pidfd;
    return 0;
}

/* waitid(P_PIDFD, WEXITED, plus WNOHANG unless block): 1 with the status
 * word (as wait(2) encodes it: code << 8, or the signal) in *status, 0 while
 * still running (WNOHANG), or -errno.  Reaps the child: once it said 1, the
 * pid is free for reuse. */
__attribute__((visibility("default")))
int rbee_reap(int pidfd, int *status, int block)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int r;
    while ((r = waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED | (block ? 0 : WNOHANG))) < 0 && errno == EINTR)
        ;
    if (r < 0)
        return -errno;
    if (si.si_pid == 0)
        return 0;
    *status = si.si_code == CLD_EXITED ? (si.si_status & 0xff) << 8 : (si.si_status & 0x7f);
    return 1;
}
