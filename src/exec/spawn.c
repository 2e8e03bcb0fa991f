/* spawn: vfork + execve with a parent-death signal (see spawn.h). */
#define _GNU_SOURCE
#include "exec/spawn.h"

#include <dirent.h>
#include <sched.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Moves fd to target in the child (dup2 clears close-on-exec). */
static int child_move(int fd, int target)
{
    if (fd == target)
        return fcntl(fd, F_SETFD, 0);
    return dup2(fd, target) < 0 ? -1 : 0;
}

int spawn_process(const char *path, char *const argv[], char *const envp[],
                  const struct spawn_opts *o, pid_t *pid)
{
    volatile int devnull = -1; /* volatile: survives vfork */
    if (o->fd_in < 0) {
        devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (devnull < 0)
            return -errno;
    }
    int in = o->fd_in >= 0 ? o->fd_in : devnull;
    volatile int child_errno = 0; /* written by the vfork child before _exit */
    pid_t parent = getpid();
    pid_t p = vfork();
    if (p == 0) {
        /* Child: shares our memory until execve; only async-signal-safe calls. */
        if (o->new_pgroup)
            setpgid(0, 0);
        if (o->pdeathsig) {
            prctl(PR_SET_PDEATHSIG, o->pdeathsig);
            if (getppid() != parent)
                _exit(127); /* parent already gone */
        }
        if (o->cpuset && sched_setaffinity(0, o->cpuset_size, o->cpuset)) {
            child_errno = errno;
            _exit(127);
        }
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (int sig = 1; sig < 32; sig++)
            if (sig != SIGKILL && sig != SIGSTOP)
                signal(sig, SIG_DFL);
        if ((o->fd_keep >= 0 && child_move(o->fd_keep, 3)) || child_move(in, 0) ||
            (o->fd_out >= 0 && child_move(o->fd_out, 1)) ||
            (o->fd_err >= 0 && child_move(o->fd_err, 2))) {
            child_errno = errno;
            _exit(127);
        }
        /* Nothing but 0-2 (and 3 when asked) reaches the program, not even
         * fds our own parent leaked to us without close-on-exec. */
        unsigned int first = o->fd_keep >= 0 ? 4u : 3u;
        if (close_range(first, ~0u, 0)) {
            long max = sysconf(_SC_OPEN_MAX);
            for (long fd = first; fd < (max > 0 ? max : 1024); fd++)
                close((int)fd);
        }
        execve(path, argv, envp);
        child_errno = errno;
        _exit(127);
    }
    int e = errno;
    if (devnull >= 0)
        close(devnull);
    if (p < 0)
        return -e;
    if (child_errno) {
        /* The child has exited: reap it so no zombie is left. */
        int st;
        while (waitpid(p, &st, 0) < 0 && errno == EINTR)
            ;
        return -child_errno;
    }
    *pid = p;
    return 0;
}

pid_t spawn_reap(pid_t pid, int *status)
{
    pid_t p;
    do {
        p = waitpid(pid, status, 0);
    } while (p < 0 && errno == EINTR);
    return p;
}

int spawn_resolve(const char *prog, char *out, size_t outlen)
{
    if (strchr(prog, '/')) {
        if (access(prog, X_OK))
            return -errno;
        snprintf(out, outlen, "%s", prog);
        return 0;
    }
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    int last = -ENOENT;
    while (*path) {
        const char *colon = strchr(path, ':');
        size_t dlen = colon ? (size_t)(colon - path) : strlen(path);
        snprintf(out, outlen, "%.*s/%s", (int)dlen, dlen ? path : ".", prog);
        struct stat st;
        if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
            if (access(out, X_OK) == 0)
                return 0;
            last = -EACCES;
        }
        path += dlen + (colon ? 1 : 0);
        if (!colon)
            break;
    }
    return last;
}

size_t spawn_children(pid_t pid, pid_t *out, size_t cap)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%ld/task", (long)pid);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char file[160];
        snprintf(file, sizeof file, "%s/%.20s/children", path, e->d_name);
        FILE *f = fopen(file, "re");
        long c;
        while (f && n < cap && fscanf(f, "%ld", &c) == 1)
            out[n++] = (pid_t)c;
        if (f)
            fclose(f);
    }
    closedir(d);
    return n;
}

pid_t spawn_parent(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The command name may hold blanks and parentheses: read after the last ')'. */
    const char *p = strrchr(buf, ')');
    long ppid;
    if (!p || sscanf(p + 1, " %*c %ld", &ppid) != 1)
        return -1;
    return (pid_t)ppid;
}

/* One look of spawn_kill_others. */
static size_t kill_others_once(const pid_t *keep, size_t nkeep)
{
    pid_t kids[512];
    size_t n = spawn_children(getpid(), kids, 512), strays = 0;
    for (size_t i = 0; i < n; i++) {
        bool kept = false;
        for (size_t k = 0; k < nkeep && !kept; k++)
            kept = keep[k] == kids[i];
        if (kept)
            continue;
        int st;
        kill(kids[i], SIGKILL);
        waitpid(kids[i], &st, WNOHANG); /* else reaped on a later look */
        strays++;
    }
    return strays;
}

size_t spawn_kill_others(const pid_t *keep, size_t nkeep, bool until_none)
{
    size_t first = kill_others_once(keep, nkeep);
    for (int round = 0; until_none && round < 200; round++) {
        struct timespec ts = {0, 1000000L};
        nanosleep(&ts, NULL);
        if (!kill_others_once(keep, nkeep))
            break;
    }
    return first;
}
