/*
 * Workers for the VM suite (core/src/test/java/dev/rbee/hive/monitor/vm):
 * programs whose resource use is known exactly, so that the tests can check
 * what the kernel's cgroup controllers did to them.  Static, so that the
 * guest loads nothing else and a fork bomb's children cost no page cache.
 *
 *   vm-helper alloc MIB [hold]   malloc MIB MiB and write every page; print
 *                                "touched MIB" when done; with "hold", then
 *                                wait for a signal, else exit 0.
 *   vm-helper spin               busy loop forever (one core).
 *   vm-helper forkbomb           ignore SIGTERM, then fork forever in every
 *                                process (a failed fork is simply retried).
 *   vm-helper dread DEV BYTES [hold]
 *                                read BYTES from the start of block device
 *                                DEV with O_DIRECT in 64 KiB requests; print
 *                                "read BYTES"; with "hold", then wait for a
 *                                signal, else exit 0.
 *
 * Exit status 2 on bad usage, 1 when a system call fails (message on stderr).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIB (1024L * 1024L)
#define DIRECT_CHUNK (64 * 1024)

static int usage(void)
{
    fprintf(stderr, "usage: vm-helper alloc MIB [hold] | spin | forkbomb | dread DEV BYTES [hold]\n");
    return 2;
}

static long number(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < 0)
        return -1;
    return v;
}

static _Noreturn void hold(void)
{
    for (;;)
        pause();
}

static int do_alloc(long mib, int keep)
{
    long page = sysconf(_SC_PAGESIZE);
    char *p = malloc((size_t)mib * MIB);
    if (!p) {
        perror("vm-helper: malloc");
        return 1;
    }
    /* One write per page makes it resident (anon): no zero-page sharing. */
    for (long off = 0; off < mib * MIB; off += page)
        p[off] = (char)(off / page + 1);
    printf("touched %ld\n", mib);
    fflush(stdout);
    if (keep)
        hold();
    return 0;
}

static _Noreturn void do_spin(void)
{
    volatile unsigned long n = 0;
    for (;;)
        n++;
}

static _Noreturn void do_forkbomb(void)
{
    signal(SIGTERM, SIG_IGN);   /* stop must escalate to killing the cgroup */
    printf("forking\n");
    fflush(stdout);
    for (;;)
        fork();                 /* EAGAIN at pids.max: just try again */
}

static int do_dread(const char *dev, long bytes, int keep)
{
    int fd = open(dev, O_RDONLY | O_DIRECT);
    if (fd < 0) {
        fprintf(stderr, "vm-helper: open %s: %s\n", dev, strerror(errno));
        return 1;
    }
    void *buf;
    if (posix_memalign(&buf, 4096, DIRECT_CHUNK) != 0) {
        fprintf(stderr, "vm-helper: posix_memalign failed\n");
        return 1;
    }
    long done = 0;
    while (done < bytes) {
        size_t want = bytes - done < DIRECT_CHUNK ? (size_t)(bytes - done) : DIRECT_CHUNK;
        ssize_t n = pread(fd, buf, want, done);
        if (n < 0) {
            fprintf(stderr, "vm-helper: read %s at %ld: %s\n", dev, done, strerror(errno));
            return 1;
        }
        if (n == 0)
            break;
        done += n;
    }
    close(fd);
    printf("read %ld\n", done);
    fflush(stdout);
    if (keep)
        hold();
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    const char *cmd = argv[1];
    if (strcmp(cmd, "alloc") == 0 && (argc == 3 || argc == 4)) {
        long mib = number(argv[2]);
        if (mib <= 0)
            return usage();
        return do_alloc(mib, argc == 4 && strcmp(argv[3], "hold") == 0);
    }
    if (strcmp(cmd, "spin") == 0 && argc == 2)
        do_spin();
    if (strcmp(cmd, "forkbomb") == 0 && argc == 2)
        do_forkbomb();
    if (strcmp(cmd, "dread") == 0 && (argc == 4 || argc == 5)) {
        long bytes = number(argv[3]);
        if (bytes <= 0 || bytes % 4096)
            return usage();   /* O_DIRECT needs whole sectors */
        return do_dread(argv[2], bytes, argc == 5 && strcmp(argv[4], "hold") == 0);
    }
    return usage();
}
