/* worker: serves tasks for one device slot (see worker.h). */
#define _GNU_SOURCE
#include "exec/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <dirent.h>
#include <pthread.h>
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
        a_ord[16], a_token[16];
    snprintf(a_token, sizeof a_token, "%u", (unsigned)a->token);
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
                    "--cuda-ordinal", a_ord, "--slot", a_slot, "--token", a_token, "--run-dir",
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

/* A spool file collects one stream of the current task; it is renamed to the
 * task's log name only when something was written, so silent tasks cost no
 * files. */
struct spool {
    char path[4096]; /* spool file name */
    int fd;          /* open spool, -1 if none */
};

static int spool_open(struct spool *s)
{
    s->fd = open(s->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    return s->fd < 0 ? -errno : 0;
}

/* Keeps the spool as the task's log if non-empty and opens a fresh spool.
 * Returns 1 if kept, 0 if empty, -errno on failure. */
static int spool_keep(struct spool *s, const char *final)
{
    struct stat st;
    if (fstat(s->fd, &st))
        return -errno;
    if (st.st_size == 0)
        return 0;
    if (rename(s->path, final))
        return -errno;
    close(s->fd);
    int rc = spool_open(s);
    return rc ? rc : 1;
}

struct wstate {
    const struct worker_args *a;
    struct spool out, err;  /* spools for stdout and stderr */
    char cached_prog[4096]; /* last resolved program name */
    char cached_path[4096]; /* and its path */
    double last_progress;   /* time of the last progress message */
    int64_t cur_task;       /* task being run */
    int cur_attempt;
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

/* Keeps the task's logs; returns the DONE flags. */
static uint32_t keep_logs(struct wstate *w, int64_t task, int attempt)
{
    char path[4200];
    uint32_t flags = 0;
    worker_log_path(path, sizeof path, w->a->run_dir, (long long)task, attempt, "out");
    if (spool_keep(&w->out, path) == 1)
        flags |= 1;
    worker_log_path(path, sizeof path, w->a->run_dir, (long long)task, attempt, "err");
    if (spool_keep(&w->err, path) == 1)
        flags |= 2;
    return flags;
}

/* Runs one command task; fills status/err. Returns 0, or -1 if the worker
 * must exit (coordinator gone). */
static int run_command(struct wstate *w, const struct proto_msg *m, char *payload,
                       struct proto_msg *done)
{
    char *argv[MAX_ARGS + 1];
    size_t argc = 0;
    for (char *p = payload; p < payload + m->len && argc < MAX_ARGS; p += strlen(p) + 1)
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
    struct spawn_opts o = {.fd_in = -1,
                           .fd_out = w->out.fd,
                           .fd_err = w->err.fd,
                           .fd_keep = -1,
                           .new_pgroup = false,
                           .pdeathsig = SIGKILL};
    pid_t pid;
    int rc = spawn_process(w->cached_path, argv, environ, &o, &pid);
    if (rc) {
        done->status = PROTO_ST_EXECFAIL;
        done->err = -rc;
        return 0;
    }
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            done->status =
                WIFEXITED(st) ? WEXITSTATUS(st) : PROTO_ST_SIGNAL | WTERMSIG(st);
            return 0;
        }
        struct pollfd pf[2] = {{g_sock, POLLRDHUP, 0}, {sigchld_pipe[0], POLLIN, 0}};
        if (poll(pf, 2, -1) < 0 && errno != EINTR)
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
    snprintf(w.out.path, sizeof w.out.path, "%s/logs/.spool-%d-%d.out", a->run_dir,
             a->dev.index, a->dev.slot);
    snprintf(w.err.path, sizeof w.err.path, "%s/logs/.spool-%d-%d.err", a->run_dir,
             a->dev.index, a->dev.slot);
    if (spool_open(&w.out) || spool_open(&w.err)) {
        char msg[4300];
        snprintf(msg, sizeof msg, "cannot create %s: %s", w.out.path, strerror(errno));
        send_initfail(msg);
        return 1;
    }

    const struct shotq_plugin *plugin = NULL;
    void *handle = NULL, *state = NULL;
    if (a->plugin_mode) {
        char err[1024];
        plugin = plugin_load(a->plugin, builtins, &handle, err, sizeof err);
        if (!plugin) {
            send_initfail(err);
            return 1;
        }
        /* From here on the plugin's output goes to the spools. */
        if (dup2(w.out.fd, 1) < 0 || dup2(w.err.fd, 2) < 0) {
            send_initfail("cannot redirect output");
            return 1;
        }
        int rc = plugin->init(&a->dev, a->config ? a->config : "", &state);
        fflush(stdout);
        fflush(stderr);
        if (rc) {
            char path[4200], msg[4400];
            snprintf(path, sizeof path, "%s/logs/init-%d-%d.err", a->run_dir,
                     a->dev.index, a->dev.slot);
            bool kept = spool_keep(&w.err, path) == 1;
            snprintf(msg, sizeof msg, "plugin %s: init returned %d on device %d%s%s",
                     plugin->name, rc, a->dev.index, kept ? "; see " : "",
                     kept ? path : "");
            send_initfail(msg);
            return 1;
        }
    }
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
        double t0 = now_s();
        if (a->plugin_mode) {
            w.cur_task = m.task;
            w.cur_attempt = m.attempt;
            struct shotq_task_info ti = {.id = m.task,
                                         .args = payload,
                                         .weight = m.weight,
                                         .attempt = m.attempt,
                                         .run_dir = a->run_dir,
                                         .progress = on_progress,
                                         .progress_ctx = &w};
            int rc = plugin->run(state, &ti);
            fflush(stdout);
            fflush(stderr);
            done.status = rc == 0 ? 0 : ((rc & 0xff) ? (rc & 0xff) : 1);
        } else if (run_command(&w, &m, payload, &done)) {
            break;
        }
        kill_descendants(); /* nothing survives a task */
        done.weight = now_s() - t0;
        done.flags = keep_logs(&w, m.task, m.attempt);
        if (a->plugin_mode && (done.flags & 1) && dup2(w.out.fd, 1) < 0)
            break;
        if (a->plugin_mode && (done.flags & 2) && dup2(w.err.fd, 2) < 0)
            break;
        if (wsend(&done, NULL))
            break;
    }
    if (plugin && plugin->fini)
        plugin->fini(state);
    plugin_unload(handle);
    unlink(w.out.path);
    unlink(w.err.path);
    return 0;
}
