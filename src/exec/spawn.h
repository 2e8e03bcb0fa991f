/* spawn: starts a program without a shell (vfork + execve), the way
 * posix_spawn does, plus what posix_spawn cannot: the parent-death signal. */
#ifndef SHOTQ_SPAWN_H
#define SHOTQ_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct spawn_opts {
    int fd_in, fd_out, fd_err; /* become 0, 1, 2 (-1: /dev/null for 0, keep for 1/2) */
    int fd_keep;               /* becomes fd 3 in the child (-1: none) */
    bool new_pgroup;           /* child leads a new process group */
    int pdeathsig;             /* signal the child gets when we die (0: none) */
    const void *cpuset;        /* cpu_set_t the child runs on (NULL: inherited) */
    size_t cpuset_size;        /* its size in bytes */
};

/* Starts path with argv and envp. All other fds are close-on-exec by project
 * rule, so the child inherits only 0-3. Returns 0 and the pid, or -errno
 * (including the child's execve errno: -ENOENT for a missing program). */
int spawn_process(const char *path, char *const argv[], char *const envp[],
                  const struct spawn_opts *o, pid_t *pid);

/* Waits for pid to end, retrying EINTR. Returns pid with its waitpid status
 * in *status, or -1 with errno set (e.g. ECHILD). */
pid_t spawn_reap(pid_t pid, int *status);

/* Finds a program in PATH (or takes it as is if it has a '/'). Writes the
 * path to out. Returns 0 or -ENOENT / -EACCES. */
int spawn_resolve(const char *prog, char *out, size_t outlen);

/* Lists pid's children (every thread's, from /proc/PID/task/T/children) into
 * out (at most cap). Returns their number; 0 when pid is gone or /proc is not
 * mounted. */
size_t spawn_children(pid_t pid, pid_t *out, size_t cap);

/* pid's parent from /proc/PID/stat, or -1 when pid is gone or /proc is not
 * mounted. */
pid_t spawn_parent(pid_t pid);

/* Sends SIGKILL to each of our children whose pid is not in keep (nkeep
 * entries) and reaps those already dead, without blocking; with until_none,
 * repeats (1 ms apart, at most 0.2 s) until no such child is left, as a
 * killed child's own children come to a subreaper in turn. For a child
 * subreaper: what a killed worker's tasks left behind comes to us. Returns
 * how many such children the first look found. */
size_t spawn_kill_others(const pid_t *keep, size_t nkeep, bool until_none);

#endif
