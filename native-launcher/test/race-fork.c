/*
 * Test program for the spawn race: its very first action is fork().  Parent and
 * child each print their /proc/self/cgroup line(s), prefixed "P " and "C ".
 * Built statically so that no dynamic loading delays the fork: with
 * spawn-then-attach the fork then often happens before the attach.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void print_cgroup(const char *who)
{
    char buf[4096];
    int fd = open("/proc/self/cgroup", O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (n < 0)
        n = 0;
    buf[n] = '\0';
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
        if (strncmp(line, "0::", 3) == 0)
            dprintf(1, "%s %s\n", who, line + 3);
}

int main(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        print_cgroup("C");
        return 0;
    }
    print_cgroup("P");
    if (pid > 0)
        waitpid(pid, NULL, 0);
    return 0;
}
