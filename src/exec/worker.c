/* worker: serves tasks for one device slot (see worker.h). */
#define _GNU_SOURCE
#include "exec/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec/proto.h"
#include "exec/spawn.h"
#include "util/sysio.h"

extern char **environ;

#define MAX_ARGS 4096

static int sigchld_pipe[2] = {-1, -1}; /* written by the SIGCHLD handler */

static void on_sigchld(int sig)
{
    (void)sig;
    int e = errno;
    ssize_t r = write(sigchld_pipe[1], "c", 1);
    (void)r;
    errno = e;
}

static int g_sock = -1;  /* the socket to the coordinator */
static uint32_t g_token; /* our token ... */
static uint32_t g_seq;   /* ... and our messages' sequence number */

/* A child a plugin forks: it must not reach our socket, and it dies with us. */
static void on_fork_child(void)
{
    if (g_sock >= 0)
        close(g_sock);
    g_sock = -1;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* Sends one message to the coordinator with our token and the next sequence
 * number. Returns 0 or -errno. */
static int wsend(struct proto_msg *m, const void *payload)
{
    m->token = g_token;
    m->seq = ++g_seq;
    return proto_send(g_sock, m, payload);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int worker_spawn(const struct worker_spawn_args *a, pid_t *pid, int *fd)
{
    const struct dev_info *d = a->dev;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
        return -errno;
    char a_dev[16], a_slot[16], a_mem[32], a_speed[32], a_ncpus[16], a_ppid[16],
        a_ord[16], a_token[16], a_maxlog[32];
    snprintf(a_token, sizeof a_token, "%u", (unsigned)a->token);
    snprintf(a_maxlog, sizeof a_maxlog, "%" PRIu64, a->max_log ? a->max_log : WORKER_MAX_LOG);
    snprintf(a_dev, sizeof a_dev, "%d", a->dev_index);
    snprintf(a_slot, sizeof a_slot, "%d", a->slot);
    snprintf(a_mem, sizeof a_mem, "%" PRIu64, d->mem_total);
    snprintf(a_speed, sizeof a_speed, "%.17g", d->kind == DEV_SIM ? d->speed : 1.0);
    snprintf(a_ncpus, sizeof a_ncpus, "%d", d->ncpus);
    snprintf(a_ppid, sizeof a_ppid, "%ld", (long)getpid());
    snprintf(a_ord, sizeof a_ord, "%d", d->kind == DEV_GPU ? 0 : -1);
    /* Option, value pairs, one pair a line where they fit. */
    /* clang-format off */
    char *argv[] = {(char *)a->self_exe, "worker", "--fd", "3", "--coordinator", a_ppid,
                    "--mode", a->plugin_mode ? "plugin" : "cmd",
                    "--plugin", (char *)(a->plugin ? a->plugin : ""),
                    "--config", (char *)(a->config ? a->config : ""),
                    "--dev-index", a_dev, "--dev-name", (char *)d->name,
                    "--dev-kind", (char *)dev_kind_name(d->kind), "--dev-uuid", (char *)d->uuid,
                    "--dev-mem", a_mem, "--dev-speed", a_speed, "--dev-ncpus", a_ncpus,
                    "--cuda-ordinal", a_ord, "--slot", a_slot, "--token", a_token, "--max-log", a_maxlog, "--run-dir",
                    (char *)a->run_dir, NULL};
    /* clang-format on */
    struct spawn_opts o = {.fd_in = -1,
                           .fd_out = -1,
                           .fd_err = -1,
                           .fd_keep = sv[1],
                           .new_pgroup = true,
                           .pdeathsig = 0};
    int rc = spawn_process(a->self_exe, argv, a->envp, &o, pid);
    close(sv[1]);
    if (rc) {
        close(sv[0]);
        return rc;
    }
    if (fcntl(sv[0], F_SETFL, O_NONBLOCK)) {
        /* The worker sees EOF on its socket and exits: no process is left. */
        rc = -errno;
        close(sv[0]);
        int st;
        spawn_reap(*pid, &st);
        return rc;
    }
    *fd = sv[0];
    return 0;
}

void worker_log_path(char *out, size_t outlen, const char *run_dir, long long task,
                     int attempt, const char *stream)
{
    snprintf(out, outlen, "%s/logs/task-%lld.%d.%s", run_dir, task, attempt, stream);
}

/* Opens a new log file for writing: created here (O_EXCL: never an old
 * file, never through a planted symlink: O_NOFOLLOW), close-on-exec. The one
 * place logs are opened, so that a fault-injection table can take it over.
 * Returns the fd or -errno. */
static int log_open(const char *path)
{
    int fd;
    do {
        fd = sysio.open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    } while (fd < 0 && errno == EINTR);
    return fd < 0 ? -errno : fd;
}

/* One stream of a task's log: written under its final name from the start
 * (tail -f works while the task runs), capped at max_log bytes. */
struct tlog {
    char path[4200];  /* RUN_DIR/logs/task-ID.ATTEMPT.out (or .err, init-...) */
    int fd;           /* the log file, -1 if none */
    int rd;           /* command mode: read end of the task's pipe, -1 if none */
    uint64_t size;    /* bytes in the file */
    uint64_t dropped; /* bytes discarded (past the cap, or a failed write) */
    int werr;         /* errno of the first failed write, 0 if none */
    char last;        /* last byte written ('\n' when none) */
};

static uint64_t g_max_log = WORKER_MAX_LOG; /* cap per stream, bytes */

/* Creates the log file path (see log_open). Returns 0 or -errno. */
static int tlog_open(struct tlog *l, const char *path)
{
    snprintf(l->path, sizeof l->path, "%s", path);
    l->size = l->dropped = 0;
    l->werr = 0;
    l->last = '\n';
    l->rd = -1;
    l->fd = log_open(path);
    return l->fd < 0 ? l->fd : 0;
}

/* Appends n bytes of buf to the log as far as the cap allows; the rest, and
 * whatever a write fails on, is dropped: the task never blocks or dies
 * because of its log. */
static void tlog_put(struct tlog *l, const char *buf, size_t n)
{
    uint64_t room = l->size < g_max_log ? g_max_log - l->size : 0;
    size_t k = room < n ? (size_t)room : n, off = 0;
    while (off < k && !l->werr) {
        ssize_t w = write(l->fd, buf + off, k - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            l->werr = w < 0 ? errno : EIO;
            break;
        }
        off += (size_t)w;
    }
    if (off)
        l->last = buf[off - 1];
    l->size += off;
    l->dropped += n - off;
}

/* Moves what the task's pipe holds into the log, a bounded amount so that
 * the event loop stays responsive. At end of stream or on an error, closes
 * the pipe (l->rd = -1). Returns false when it stopped at the bound (more
 * may be waiting), true when the pipe is empty or closed. */
static bool tlog_drain(struct tlog *l)
{
    static char buf[65536];
    for (int round = 0; round < 64; round++) {
        if (l->rd < 0)
            return true;
        ssize_t n = read(l->rd, buf, sizeof buf);
        if (n > 0) {
            tlog_put(l, buf, (size_t)n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            if (n == 0 || errno != EAGAIN) {
                close(l->rd);
                l->rd = -1;
            }
            return true;
        }
    }
    return false;
}

/* Plugin mode: the plugin wrote to the file directly; cuts it to the cap
 * (what was dropped is counted). */
static void tlog_cap_file(struct tlog *l)
{
    struct stat st;
    if (fstat(l->fd, &st))
        return;
    l->size = (uint64_t)st.st_size;
    if (l->size > g_max_log && ftruncate(l->fd, (off_t)g_max_log) == 0) {
        l->dropped += l->size - g_max_log;
        l->size = g_max_log;
        l->last = 0; /* unknown: the marker starts on a line of its own */
    }
    lseek(l->fd, 0, SEEK_END);
}

/* Ends a log: appends the truncation marker if anything was dropped, closes
 * it, removes it if empty. Returns true if the file is kept. */
static bool tlog_close(struct tlog *l)
{
    if (l->rd >= 0)
        close(l->rd);
    l->rd = -1;
    if (l->fd < 0)
        return false;
    struct stat st;
    bool empty = fstat(l->fd, &st) == 0 && st.st_size == 0;
    if (l->dropped) {
        char m[200];
        int n = l->werr ? snprintf(m, sizeof m,
                                   "%s[shotq: log write failed (%s), %llu bytes dropped]\n",
                                   l->last == '\n' ? "" : "\n", strerror(l->werr),
                                   (unsigned long long)l->dropped)
                        : snprintf(m, sizeof m,
                                   "%s[shotq: log truncated at %g MiB, %llu bytes dropped]\n",
                                   l->last == '\n' ? "" : "\n",
                                   (double)g_max_log / 1048576.0,
                                   (unsigned long long)l->dropped);
        ssize_t w = write(l->fd, m, (size_t)n);
        empty = false;
        (void)w;
    }
    close(l->fd);
    l->fd = -1;
    if (empty)
        unlink(l->path);
    return !empty;
}

struct wstate {
    const struct worker_args *a;
    struct tlog out, err;   /* the current task's stdout and stderr logs */
    int devnull;            /* plugin mode: fds 1 and 2 between tasks */
    char cached_prog[4096]; /* last resolved program name */
    char cached_path[4096]; /* and its path */
    double last_progress;   /* time of the last progress message */
    int64_t cur_task;       /* task being run */
    int cur_attempt;
    bool env_dirty; /* the last task changed the environment (PROTO_RUN_ENV) */
    char omp[32];   /* OMP_NUM_THREADS between tasks, "" = unset */
};

static void on_progress(void *ctx, double fraction)
{
    struct wstate *w = ctx;
    double t = now_s();
    /* At most two messages a second; the end of a task needs none. */
    if (t - w->last_progress < 0.5 || fraction >= 1.0)
        return;
    w->last_progress = t;
    struct proto_msg m = {.type = PROTO_PROGRESS,
                          .task = w->cur_task,
                          .attempt = w->cur_attempt,
                          .weight = fraction};
    wsend(&m, NULL);
}

/* Creates the logs of a task attempt under their final names. Returns 0 or
 * -errno (nothing left open). */
static int open_logs(struct wstate *w, int64_t task, int attempt)
{
    char path[4200];
    worker_log_path(path, sizeof path, w->a->run_dir, (long long)task, attempt, "out");
    int rc = tlog_open(&w->out, path);
    if (rc)
        return rc;
    worker_log_path(path, sizeof path, w->a->run_dir, (long long)task, attempt, "err");
    rc = tlog_open(&w->err, path);
    if (rc) {
        tlog_close(&w->out);
        return rc;
    }
    return 0;
}

/* Ends the task's logs (after its processes are gone: command mode drains
 * the pipes to their end). Returns the DONE flags. */
static uint32_t close_logs(struct wstate *w)
{
    if (w->a->plugin_mode) {
        fflush(stdout);
        fflush(stderr);
        tlog_cap_file(&w->out);
        tlog_cap_file(&w->err);
    }
    /* Every writer is dead: the pipes give what is left, then EOF (or
     * EAGAIN, if a writer escaped us). */
    while (!tlog_drain(&w->out))
        ;
    while (!tlog_drain(&w->err))
        ;
    uint32_t flags = 0;
    if (tlog_close(&w->out))
        flags |= 1;
    if (tlog_close(&w->err))
        flags |= 2;
    return flags;
}

/* Closes the fds of two pipes that are open (-1: not). */
static void close_fds(int a[2], int b[2])
{
    for (int k = 0; k < 2; k++) {
        if (a[k] >= 0)
            close(a[k]);
        if (b[k] >= 0)
            close(b[k]);
    }
}

static int wait_task(struct wstate *w, pid_t pid, struct proto_msg *done);
static void set_env(const struct worker_args *a);

/* Parses cores "0,1,5" into *set. Returns false for anything else. */
static bool parse_cpus(const char *v, cpu_set_t *set)
{
    CPU_ZERO(set);
    while (*v) {
        char *end;
        long c = strtol(v, &end, 10);
        if (end == v || c < 0 || c >= CPU_SETSIZE || (*end && *end != ','))
            return false;
        CPU_SET((size_t)c, set);
        v = *end ? end + 1 : end;
    }
    return CPU_COUNT(set) > 0;
}

/* Sets the task's NAME=VALUE words at the start of a PROTO_RUN_ENV payload
 * (ended by an empty word) in our environment, SHOTQ_CPU_AFFINITY also into
 * *cpus (*have_cpus). Between tasks the worker's own environment returns
 * (restore_env). Returns where the command words begin. */
static char *apply_task_env(struct wstate *w, char *p, const char *end, cpu_set_t *cpus,
                            bool *have_cpus)
{
    w->env_dirty = true;
    for (; p < end && *p; p += strlen(p) + 1) {
        char *eq = strchr(p, '=');
        if (!eq)
            continue;
        *eq = '\0';
        setenv(p, eq + 1, 1);
        if (!strcmp(p, "SHOTQ_CPU_AFFINITY"))
            *have_cpus = parse_cpus(eq + 1, cpus);
        *eq = '=';
    }
    return p < end ? p + 1 : p;
}

/* Undoes apply_task_env: the worker's per-device environment again. */
static void restore_env(struct wstate *w)
{
    if (!w->env_dirty)
        return;
    w->env_dirty = false;
    set_env(w->a);
    unsetenv("SHOTQ_CPU_AFFINITY");
    if (w->omp[0])
        setenv("OMP_NUM_THREADS", w->omp, 1);
    else
        unsetenv("OMP_NUM_THREADS");
}

/* Runs one command task; fills status/err. Returns 0, or -1 if the worker
 * must exit (coordinator gone). */
static int run_command(struct wstate *w, const struct proto_msg *m, char *payload,
                       struct proto_msg *done)
{
    char *argv[MAX_ARGS + 1];
    size_t argc = 0;
    cpu_set_t cpus;
    bool have_cpus = false;
    const char *end = payload + m->len;
    restore_env(w);
    if (m->flags & PROTO_RUN_ENV)
        payload = apply_task_env(w, payload, end, &cpus, &have_cpus);
    for (char *p = payload; p < end && argc < MAX_ARGS; p += strlen(p) + 1)
        argv[argc++] = p;
    argv[argc] = NULL;
    if (argc == 0) {
        done->status = PROTO_ST_EXECFAIL;
        done->err = EINVAL;
        return 0;
    }
    if (strcmp(argv[0], w->cached_prog)) {
        int rc = spawn_resolve(argv[0], w->cached_path, sizeof w->cached_path);
        if (rc) {
            w->cached_prog[0] = '\0';
            done->status = PROTO_ST_EXECFAIL;
            done->err = -rc;
            return 0;
        }
        snprintf(w->cached_prog, sizeof w->cached_prog, "%s", argv[0]);
    }
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)m->task);
    setenv("SHOTQ_TASK", buf, 1);
    snprintf(buf, sizeof buf, "%d", m->attempt);
    setenv("SHOTQ_ATTEMPT", buf, 1);
    /* The task writes into pipes that we drain into its logs: the cap is
     * enforced here, and a task past it never blocks. */
    int po[2] = {-1, -1}, pe[2] = {-1, -1};
    if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC) ||
        fcntl(po[0], F_SETFL, O_NONBLOCK) || fcntl(pe[0], F_SETFL, O_NONBLOCK)) {
        done->status = PROTO_ST_EXECFAIL;
        done->err = errno;
        close_fds(po, pe);
        return 0;
    }
    struct spawn_opts o = {.fd_in = -1,
                           .fd_out = po[1],
                           .fd_err = pe[1],
                           .fd_keep = -1,
                           .new_pgroup = false,
                           .pdeathsig = SIGKILL,
                           .cpuset = have_cpus ? &cpus : NULL,
                           .cpuset_size = sizeof cpus};
    pid_t pid;
    int rc = spawn_process(w->cached_path, argv, environ, &o, &pid);
    close(po[1]);
    close(pe[1]);
    w->out.rd = po[0];
    w->err.rd = pe[0];
    if (rc) {
        done->status = PROTO_ST_EXECFAIL;
        done->err = -rc;
        return 0;
    }
    return wait_task(w, pid, done);
}

/* The worker's event loop while a command task runs: drains its output into
 * the logs, watches the coordinator, waits for the task to end. Fills
 * done->status. Returns 0, or -1 if the worker must exit (coordinator gone). */
static int wait_task(struct wstate *w, pid_t pid, struct proto_msg *done)
{
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            done->status =
                WIFEXITED(st) ? WEXITSTATUS(st) : PROTO_ST_SIGNAL | WTERMSIG(st);
            return 0;
        }
        struct pollfd pf[4] = {{g_sock, POLLRDHUP, 0},
                               {sigchld_pipe[0], POLLIN, 0},
                               {w->out.rd, POLLIN, 0},
                               {w->err.rd, POLLIN, 0}};
        if (poll(pf, 4, -1) < 0 && errno != EINTR)
            return -1;
        if (pf[0].revents & (POLLHUP | POLLRDHUP | POLLERR)) {
            kill(0, SIGKILL); /* coordinator gone: nothing may keep running */
            return -1;
        }
        if (pf[1].revents & POLLIN) {
            char drain[64];
            while (read(sigchld_pipe[0], drain, sizeof drain) > 0)
                ;
        }
        if (pf[2].revents)
            tlog_drain(&w->out);
        if (pf[3].revents)
            tlog_drain(&w->err);
    }
}

/* Kills and reaps every process below us: the worker is a child subreaper,
 * so whatever a task left (background children, setsid daemons) has become
 * our child once its parent ended. Repeats until no child is left. */
static void kill_descendants(void)
{
    for (int round = 0; round < 1000; round++) {
        pid_t kids[256];
        size_t n = spawn_children(getpid(), kids, 256);
        for (size_t i = 0; i < n; i++)
            kill(kids[i], SIGKILL);
        int st;
        while (waitpid(-1, &st, WNOHANG) > 0)
            n++;
        if (n == 0)
            return;
        struct timespec ts = {0, 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* Sets the per-worker environment every task inherits. */
static void set_env(const struct worker_args *a)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%d", a->dev.index);
    setenv("SHOTQ_DEVICE", buf, 1);
    setenv("SHOTQ_DEVICE_NAME", a->dev.name, 1);
    snprintf(buf, sizeof buf, "%.17g", a->dev.speed);
    setenv("SHOTQ_DEVICE_SPEED", buf, 1);
    snprintf(buf, sizeof buf, "%d", a->dev.slot);
    setenv("SHOTQ_SLOT", buf, 1);
    setenv("SHOTQ_RUN_DIR", a->run_dir, 1);
    setenv("CUDA_VISIBLE_DEVICES", a->dev.uuid, 1);
    snprintf(buf, sizeof buf, "%d", a->dev.index);
    setenv("SHOTQ_DEVICES_ASSIGNED", buf, 1);
    if (a->dev.ncpus > 0) {
        snprintf(buf, sizeof buf, "%d", a->dev.ncpus);
        setenv("OMP_NUM_THREADS", buf, 0);
    }
}

static void send_initfail(const char *msg)
{
    struct proto_msg m = {.type = PROTO_INITFAIL, .len = (uint32_t)strlen(msg)};
    wsend(&m, msg);
}

/* Points the worker's fds 1 and 2 at the logs of the current task, or at
 * /dev/null between tasks (plugin mode: the plugin writes there). Returns 0
 * or -errno. */
static int redirect_output(const struct wstate *w, bool to_logs)
{
    fflush(stdout);
    fflush(stderr);
    if (dup2(to_logs ? w->out.fd : w->devnull, 1) < 0 ||
        dup2(to_logs ? w->err.fd : w->devnull, 2) < 0)
        return -errno;
    return 0;
}

/* Loads the plugin and calls its init() with its output in
 * logs/init-DEV-SLOT.{out,err} (kept if not empty; a later worker of the
 * slot replaces them). Returns 0, or -1 after sending INITFAIL. */
static int plugin_start(struct wstate *w, plugin_builtin_fn builtins,
                        const struct shotq_plugin **plugin, void **handle, void **state)
{
    const struct worker_args *a = w->a;
    char err[1024], path[2][4200];
    *plugin = plugin_load(a->plugin, builtins, handle, err, sizeof err);
    if (!*plugin) {
        send_initfail(err);
        return -1;
    }
    for (int k = 0; k < 2; k++) {
        snprintf(path[k], sizeof path[k], "%s/logs/init-%d-%d.%s", a->run_dir,
                 a->dev.index, a->dev.slot, k ? "err" : "out");
        unlink(path[k]); /* the name, never what a symlink there points at */
    }
    int rc = tlog_open(&w->out, path[0]);
    if (!rc && (rc = tlog_open(&w->err, path[1])))
        tlog_close(&w->out);
    if (!rc && (rc = redirect_output(w, true)))
        close_logs(w);
    if (rc) {
        char msg[4400];
        snprintf(msg, sizeof msg, "cannot create %s: %s", path[0], strerror(-rc));
        send_initfail(msg);
        return -1;
    }
    rc = (*plugin)->init(&a->dev, a->config ? a->config : "", state);
    bool kept = close_logs(w) & 2;
    if (redirect_output(w, false)) {
        send_initfail("cannot redirect output");
        return -1;
    }
    if (rc) {
        char msg[4400];
        snprintf(msg, sizeof msg, "plugin %s: init returned %d on device %d%s%s",
                 (*plugin)->name, rc, a->dev.index, kept ? "; see " : "",
                 kept ? path[1] : "");
        send_initfail(msg);
        return -1;
    }
    return 0;
}

/* Runs task m (its logs under their final names from the start) and fills
 * *done. Returns 0, or -1 if the worker must exit (coordinator gone). */
static int run_one(struct wstate *w, const struct shotq_plugin *plugin, void *state,
                   const struct proto_msg *m, char *payload, struct proto_msg *done)
{
    double t0 = now_s();
    int rc = open_logs(w, m->task, m->attempt);
    if (!rc && plugin && (rc = redirect_output(w, true)))
        close_logs(w);
    if (rc) {
        /* e.g. EEXIST: an earlier run's log under this name is kept. */
        done->status = PROTO_ST_EXECFAIL;
        done->err = -rc;
        return 0;
    }
    if (plugin) {
        w->cur_task = m->task;
        w->cur_attempt = m->attempt;
        struct shotq_task_info ti = {.id = m->task,
                                     .args = payload,
                                     .weight = m->weight,
                                     .attempt = m->attempt,
                                     .run_dir = w->a->run_dir,
                                     .progress = on_progress,
                                     .progress_ctx = w};
        int prc = plugin->run(state, &ti);
        done->status = prc == 0 ? 0 : ((prc & 0xff) ? (prc & 0xff) : 1);
    } else if (run_command(w, m, payload, done)) {
        return -1;
    }
    kill_descendants(); /* nothing survives a task */
    done->weight = now_s() - t0;
    done->flags = close_logs(w);
    return plugin && redirect_output(w, false) ? -1 : 0;
}

int worker_main(const struct worker_args *a, plugin_builtin_fn builtins)
{
    /* If the coordinator dies we die, whatever a plugin did to our signal
     * handlers; our tasks have SIGKILL as their parent-death signal too. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != a->coordinator)
        return 1;
    /* Orphans of our tasks become our children: killed after each task. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    /* The socket moves far from fd 3, close-on-exec, out of forked children. */
    g_sock = fcntl(a->fd, F_DUPFD_CLOEXEC, WORKER_SOCK_FD);
    if (g_sock < 0)
        return 1;
    close(a->fd);
    g_token = a->token;
    pthread_atfork(NULL, NULL, on_fork_child);
    signal(SIGINT, SIG_IGN); /* the coordinator decides about interrupts */
    signal(SIGPIPE, SIG_IGN);
    if (pipe2(sigchld_pipe, O_CLOEXEC | O_NONBLOCK))
        return 1;
    struct sigaction sa = {.sa_handler = on_sigchld, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);
    set_env(a);

    static struct wstate w;
    w.a = a;
    const char *omp = getenv("OMP_NUM_THREADS");
    snprintf(w.omp, sizeof w.omp, "%s", omp ? omp : "");
    w.out.fd = w.err.fd = w.out.rd = w.err.rd = -1;
    if (a->max_log > 0)
        g_max_log = a->max_log;
    w.devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (w.devnull < 0) {
        send_initfail("cannot open /dev/null");
        return 1;
    }
    const struct shotq_plugin *plugin = NULL;
    void *handle = NULL, *state = NULL;
    if (a->plugin_mode && plugin_start(&w, builtins, &plugin, &handle, &state))
        return 1;
    struct proto_msg ready = {.type = PROTO_READY};
    if (wsend(&ready, NULL))
        return 1;

    static char buf[PROTO_MAX];
    for (;;) {
        struct proto_msg m;
        char *payload;
        int r = proto_recv(g_sock, buf, &m, &payload);
        if (r <= 0)
            break; /* coordinator closed the socket or died */
        if (m.type != PROTO_RUN)
            continue;
        struct proto_msg done = {
            .type = PROTO_DONE, .task = m.task, .attempt = m.attempt};
        if (run_one(&w, plugin, state, &m, payload, &done) || wsend(&done, NULL))
            break;
    }
    if (plugin && plugin->fini)
        plugin->fini(state);
    plugin_unload(handle);
    return 0;
}
