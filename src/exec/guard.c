/* guard: kills what escapes a coordinator's process tree (see guard.h). */
#include "exec/guard.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exec/spawn.h"

#define GUARD_MAX 8192 /* processes remembered at once */

extern char **environ;

/* A process seen below the coordinator. */
struct proc {
    pid_t pid;                /* process id */
    unsigned long long start; /* start time (clock ticks since boot) */
};

static volatile sig_atomic_t stop; /* SIGTERM: final sweep, then exit */

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

/* pid's start time from /proc/PID/stat (field 22), 0 when it is gone. */
static unsigned long long start_time(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    /* The command name may hold spaces and parentheses: count after the last ')'. */
    const char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    char state = 0;
    unsigned long long v = 0;
    /* After ")": state, then fields 4..21 (18 of them), then starttime. */
    if (sscanf(p + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
                      "%*d %*d %llu",
               &state, &v) != 2 ||
        state == 'Z')
        return 0;
    return v;
}

/* Fills tree with every process below root (breadth first), self excluded.
 * Returns their number. */
static size_t walk(pid_t root, struct proc *tree, size_t cap)
{
    size_t n = 0, next = 0;
    pid_t kids[512];
    pid_t parent = root;
    for (;;) {
        size_t k = spawn_children(parent, kids, 512);
        for (size_t i = 0; i < k && n < cap; i++)
            if (kids[i] != getpid())
                tree[n++] = (struct proc){kids[i], start_time(kids[i])};
        if (next >= n)
            return n;
        parent = tree[next++].pid;
    }
}

/* True when p is in tree (same pid and start time). */
static bool in_tree(const struct proc *p, const struct proc *tree, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (tree[i].pid == p->pid && tree[i].start == p->start)
            return true;
    return false;
}

/* Kills p if it is still the process that was seen (not a reused pid). */
static void kill_if_same(const struct proc *p)
{
    if (p->start && start_time(p->pid) == p->start)
        kill(p->pid, SIGKILL);
}

int guard_main(pid_t watch)
{
    signal(SIGINT, SIG_IGN); /* the coordinator decides about interrupts */
    signal(SIGHUP, SIG_IGN); /* a closed terminal must not stop the cleanup */
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_term};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    struct proc *prev = calloc(GUARD_MAX, sizeof *prev);
    struct proc *cur = calloc(GUARD_MAX, sizeof *cur);
    if (!prev || !cur)
        return 1;
    size_t nprev = 0;
    for (;;) {
        bool last = stop || getppid() != watch;
        size_t ncur = last ? 0 : walk(watch, cur, GUARD_MAX);
        /* Whatever was below the coordinator and is not any more, yet
         * lives, escaped when its worker died: it must not outlive us. */
        for (size_t i = 0; i < nprev; i++)
            if (!in_tree(&prev[i], cur, ncur))
                kill_if_same(&prev[i]);
        if (last)
            break;
        struct proc *t = prev;
        prev = cur;
        cur = t;
        nprev = ncur;
        struct timespec ts = {0, GUARD_POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
    free(prev);
    free(cur);
    return 0;
}

int guard_start(const char *self_exe, pid_t *pid)
{
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null < 0)
        return -errno;
    char watch[32];
    snprintf(watch, sizeof watch, "%ld", (long)getpid());
    char *argv[] = {(char *)self_exe, "guard", "--watch", watch, NULL};
    /* No parent-death signal: the guard's work starts when we die. */
    struct spawn_opts o = {.fd_in = -1, .fd_out = null, .fd_err = null, .fd_keep = -1};
    int rc = spawn_process(self_exe, argv, environ, &o, pid);
    close(null);
    return rc;
}

void guard_stop(pid_t pid)
{
    if (pid <= 0)
        return;
    int st;
    kill(pid, SIGTERM);
    spawn_reap(pid, &st);
}
