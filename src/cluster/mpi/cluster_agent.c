/* cluster_agent: a node agent (rank > 0). Reports its devices to rank 0,
 * then runs one loop: poll its workers' sockets (the same SOCK_SEQPACKET
 * protocol as the coordinator's local workers) with a short timeout, relay
 * what they say to rank 0, and carry out what rank 0 says (start, run, kill,
 * stop). See cluster.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cluster/mpi/cluster_int.h"
#include "exec/guard.h"
#include "exec/spawn.h"
#include "exec/worker.h"
#include "util/log.h"

#define AGENT_POLL_US 250       /* poll period (MPI has no fd to wait on) ... */
#define AGENT_IDLE_POLL_US 2000 /* ... and after AGENT_BUSY_S without messages */
#define AGENT_BUSY_S 1.0
#define AGENT_REFRESH_S 2.0 /* GPU memory refresh period */
#define STOP_GRACE_S 1.0    /* workers' time to end after their socket closed */

struct aworker {
    pid_t pid;      /* worker process (leads its group), 0 if none */
    int fd;         /* socket, -1 if none */
    uint32_t token; /* its messages' token */
};

struct agent {
    struct cluster *cl;
    const struct dev_list *devs; /* this node's devices */
    const char *self_exe;        /* the shotq binary */
    bool configured;             /* CONFIG received */
    bool plugin_mode;
    char *plugin, *config, *run_dir; /* from CONFIG (owned) */
    char **env;                      /* workers' environment (owned) */
    struct aworker *w;               /* by rank 0's worker index */
    size_t nw;
    pid_t guard;         /* kills what escapes our process tree (exec/guard.h) */
    double last_strays;  /* when kill_strays last looked */
    char buf[PROTO_MAX]; /* worker message buffer */
};

static volatile sig_atomic_t g_terms; /* SIGTERMs received */

/* Counts SIGTERMs; the loop acts on the second. */
static void on_sigterm(int sig)
{
    (void)sig;
    g_terms++;
}

/* Monotonic seconds. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The slot of worker i, growing the table. NULL when out of memory. */
static struct aworker *slot_of(struct agent *a, size_t i)
{
    if (i >= (size_t)1 << 24)
        return NULL;
    if (i >= a->nw) {
        size_t nn = a->nw ? a->nw : 16;
        while (nn <= i)
            nn *= 2;
        struct aworker *nw = realloc(a->w, nn * sizeof *nw);
        if (!nw)
            return NULL;
        for (size_t k = a->nw; k < nn; k++)
            nw[k] = (struct aworker){0, -1, 0};
        a->w = nw;
        a->nw = nn;
    }
    return &a->w[i];
}

/* Tells rank 0 that worker i is gone (wait status, -1 if it never started).
 * Returns 0 or -errno. */
static int send_lost(struct agent *a, size_t i, int wstatus)
{
    struct cl_hdr h = {.kind = CL_LOST, .worker = (int64_t)i, .arg = wstatus};
    return cl_send(a->cl, 0, &h, NULL, 0, NULL, 0);
}

/* Worker i's socket ended (or it sent a message without its token: killed):
 * reap it (a live one gets 0.5 s, then SIGKILL) and tell rank 0. */
static int worker_ended(struct agent *a, size_t i, bool kill_it)
{
    struct aworker *w = &a->w[i];
    int st = 0;
    if (kill_it)
        kill(-w->pid, SIGKILL);
    pid_t p = waitpid(w->pid, &st, WNOHANG);
    for (double until = now_s() + 0.5; p == 0 && now_s() < until;) {
        struct timespec ts = {0, 2 * 1000000L};
        nanosleep(&ts, NULL);
        p = waitpid(w->pid, &st, WNOHANG);
    }
    if (p == 0) {
        kill(-w->pid, SIGKILL);
        p = spawn_reap(w->pid, &st);
    }
    close(w->fd);
    *w = (struct aworker){0, -1, 0};
    return send_lost(a, i, p > 0 ? st : -1);
}

/* Relays everything waiting on worker i's socket. Returns 0 or -errno. */
static int worker_relay(struct agent *a, size_t i)
{
    for (;;) {
        struct proto_msg m;
        char *payload;
        int rc = proto_recv(a->w[i].fd, a->buf, &m, &payload);
        if (rc == -EAGAIN)
            return 0;
        if (rc <= 0 || m.token != a->w[i].token)
            return worker_ended(a, i, rc != 0);
        struct cl_hdr h = {.kind = CL_WMSG, .worker = (int64_t)i};
        rc = cl_send(a->cl, 0, &h, &m, sizeof m, payload, m.len);
        if (rc)
            return rc;
    }
}

/* Makes DIR and DIR/logs (logs of tasks run here stay on this node). */
static int make_run_dir(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0777) && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(path, 0777) && errno != EEXIST)
        return -errno;
    snprintf(path, sizeof path, "%s/logs", dir);
    if (mkdir(path, 0777) && errno != EEXIST)
        return -errno;
    return 0;
}

/* CONFIG: keeps the run's mode, plugin, configuration and run directory
 * (creating it here). Returns 0, -EPROTO or -ENOMEM. */
static int on_config(struct agent *a, const char *body, size_t blen)
{
    const char *end = body + blen;
    const char *plugin = body + 1;
    const char *config = plugin + strnlen(plugin, (size_t)(end - plugin)) + 1;
    const char *run_dir =
        config < end ? config + strnlen(config, (size_t)(end - config)) + 1 : end;
    if (blen < 4 || run_dir >= end)
        return -EPROTO;
    a->plugin_mode = body[0] == 'p';
    a->plugin = strdup(plugin);
    a->config = strdup(config);
    a->run_dir = strdup(run_dir);
    if (!a->plugin || !a->config || !a->run_dir)
        return -ENOMEM;
    int rc = make_run_dir(a->run_dir);
    if (rc)
        log_msg(LOG_ERROR, "rank %d: %s: cannot create: %s", a->cl->rank, a->run_dir,
                strerror(-rc));
    a->configured = true;
    return 0; /* workers that cannot write logs say so when they start */
}

/* START: spawns the worker; a failure is reported as its LOST. Returns 0 or
 * -errno when rank 0 cannot be told. */
static int on_start(struct agent *a, const struct cl_hdr *h, const char *body,
                    size_t blen)
{
    struct aworker *w = h->worker >= 0 ? slot_of(a, (size_t)h->worker) : NULL;
    if (!w || blen != sizeof(struct dev_info) || !a->configured)
        return h->worker >= 0 ? send_lost(a, (size_t)h->worker, -1) : -EPROTO;
    if (w->fd >= 0)
        return 0; /* already running: rank 0 restarts only dead workers */
    struct dev_info dev;
    memcpy(&dev, body, sizeof dev);
    struct worker_spawn_args sa = {.self_exe = a->self_exe,
                                   .plugin_mode = a->plugin_mode,
                                   .plugin = a->plugin,
                                   .config = a->config,
                                   .run_dir = a->run_dir,
                                   .dev = &dev,
                                   .dev_index = h->dev,
                                   .slot = h->arg,
                                   .envp = a->env,
                                   .token = proto_token()};
    w->token = sa.token;
    int rc = worker_spawn(&sa, &w->pid, &w->fd);
    if (rc) {
        log_msg(LOG_ERROR, "rank %d: device %d: cannot start worker: %s", a->cl->rank,
                h->dev, strerror(-rc));
        *w = (struct aworker){0, -1, 0};
        return send_lost(a, (size_t)h->worker, -1);
    }
    return 0;
}

/* RUN: hands the message to the worker's socket, or kills a worker that
 * cannot take it (its LOST then fails the task). */
static void on_run(struct agent *a, const struct cl_hdr *h, const char *body, size_t blen)
{
    if (h->worker < 0 || (size_t)h->worker >= a->nw || a->w[h->worker].fd < 0 ||
        blen < sizeof(struct proto_msg))
        return; /* its worker is gone: rank 0 has the LOST, or will */
    struct proto_msg m;
    memcpy(&m, body, sizeof m);
    struct aworker *w = &a->w[h->worker];
    if (m.len != blen - sizeof m || proto_send(w->fd, &m, body + sizeof m))
        kill(-w->pid, SIGKILL); /* cannot hand it over: the LOST tells rank 0 */
}

/* Sends the free memory of this node's GPUs to rank 0. */
static int send_memory(struct agent *a)
{
    bool any_gpu = false;
    for (size_t d = 0; d < a->devs->n; d++)
        any_gpu |= a->devs->v[d].kind == DEV_GPU;
    if (!any_gpu || dev_refresh((struct dev_list *)a->devs))
        return 0;
    for (size_t d = 0; d < a->devs->n; d++) {
        if (a->devs->v[d].kind != DEV_GPU)
            continue;
        struct cl_hdr h = {.kind = CL_MEM, .worker = -1, .dev = (int32_t)d};
        uint64_t free_b = a->devs->v[d].mem_free;
        int rc = cl_send(a->cl, 0, &h, &free_b, sizeof free_b, NULL, 0);
        if (rc)
            return rc;
    }
    return 0;
}

/* Ends every worker and reaps it. Closing its socket ends a worker, and one
 * running a command kills it; a plugin's run() notices nothing, so workers
 * still there after STOP_GRACE_S are killed with their process group. */
static void stop_workers(struct agent *a)
{
    for (size_t i = 0; i < a->nw; i++)
        if (a->w[i].fd >= 0)
            close(a->w[i].fd);
    double until = now_s() + STOP_GRACE_S;
    for (bool left = true; left;) {
        left = false;
        for (size_t i = 0; i < a->nw; i++) {
            if (a->w[i].fd < 0)
                continue;
            int st;
            pid_t p = waitpid(a->w[i].pid, &st, WNOHANG);
            if (p == 0 && now_s() < until) {
                left = true;
                continue;
            }
            if (p == 0) {
                kill(-a->w[i].pid, SIGKILL);
                spawn_reap(a->w[i].pid, &st);
            }
            a->w[i] = (struct aworker){0, -1, 0};
        }
        if (left) {
            struct timespec ts = {0, 10 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
}

/* Kills our children that are neither workers nor the guard: the agent is
 * a child subreaper, so what the tasks of a killed worker left behind comes
 * to it (as in the coordinator's runner.c). Every 0.1 s; forced at the end,
 * until none is left. */
static void kill_strays(struct agent *a, bool force)
{
    double now = now_s();
    if (!force && now - a->last_strays < 0.1)
        return;
    a->last_strays = now;
    pid_t *keep = malloc((a->nw + 1) * sizeof *keep);
    if (!keep)
        return;
    size_t nkeep = 0;
    keep[nkeep++] = a->guard;
    for (size_t i = 0; i < a->nw; i++)
        if (a->w[i].pid > 0)
            keep[nkeep++] = a->w[i].pid;
    spawn_kill_others(keep, nkeep, force);
    free(keep);
}

/* How long the agent waits for word from rank 0 before giving it up:
 * $SHOTQ_CLUSTER_TIMEOUT seconds (more than CL_PING_S), else CL_LOST_S. */
static double lost_after(void)
{
    const char *v = getenv("SHOTQ_CLUSTER_TIMEOUT");
    char *end;
    double s = v ? strtod(v, &end) : 0;
    return v && *v && !*end && s > CL_PING_S ? s : CL_LOST_S;
}

/* The loop. Returns 0 after STOP, -ETIMEDOUT when rank 0 fell silent, or
 * another -errno. */
static int serve(struct agent *a)
{
    struct pollfd *pf = NULL;
    size_t *pi = NULL, palloc = 0;
    double last_refresh = now_s(), last_heard = last_refresh, last_busy = last_refresh;
    double lost_s = lost_after();
    int rc = 0;
    for (bool stop = false; !stop && !rc;) {
        if (palloc < a->nw) {
            free(pf);
            free(pi);
            palloc = a->nw;
            pf = calloc(palloc, sizeof *pf);
            pi = calloc(palloc, sizeof *pi);
            if (!pf || !pi) {
                rc = -ENOMEM;
                break;
            }
        }
        nfds_t np = 0;
        for (size_t i = 0; i < a->nw; i++) {
            if (a->w[i].fd < 0)
                continue;
            pf[np] = (struct pollfd){a->w[i].fd, POLLIN, 0};
            pi[np++] = i;
        }
        long us = now_s() - last_busy < AGENT_BUSY_S ? AGENT_POLL_US : AGENT_IDLE_POLL_US;
        struct timespec wait = {0, us * 1000L};
        int pr = ppoll(pf, np, &wait, NULL);
        if (pr < 0 && errno != EINTR) {
            rc = -errno;
            break;
        }
        if (pr > 0)
            last_busy = now_s();
        kill_strays(a, false);
        for (nfds_t k = 0; k < np && pr > 0 && !rc; k++)
            if (pf[k].revents && a->w[pi[k]].fd >= 0)
                rc = worker_relay(a, pi[k]);
        while (!rc && !stop) {
            struct cl_hdr h;
            const char *body;
            size_t blen;
            int from;
            int got = cl_recv(a->cl, 0, false, &h, &body, &blen, &from);
            if (got <= 0) {
                rc = got;
                break;
            }
            last_heard = now_s();
            if (h.kind != CL_PING)
                last_busy = last_heard;
            switch (h.kind) {
            case CL_CONFIG:
                rc = on_config(a, body, blen);
                break;
            case CL_START:
                rc = on_start(a, &h, body, blen);
                break;
            case CL_RUN:
                on_run(a, &h, body, blen);
                break;
            case CL_KILL:
                if (h.worker >= 0 && (size_t)h.worker < a->nw && a->w[h.worker].fd >= 0)
                    kill(-a->w[h.worker].pid, SIGKILL);
                break;
            case CL_STOP:
                stop = true;
                break;
            default:
                break;
            }
        }
        if (!rc)
            rc = cl_progress(a->cl);
        if (g_terms >= 2) {
            log_msg(LOG_WARN, "rank %d: terminated: stopping this node's tasks",
                    a->cl->rank);
            rc = -EINTR;
            break;
        }
        double t = now_s();
        if (!rc && !stop && a->configured && t - last_heard > lost_s) {
            /* Rank 0 pings every CL_PING_S while it runs: it is gone (or
             * hung) and its launcher did not end us. */
            log_msg(LOG_ERROR,
                    "rank %d: no word from rank 0 for %.0f s: stopping this node's "
                    "tasks",
                    a->cl->rank, t - last_heard);
            rc = -ETIMEDOUT;
        }
        if (!rc && a->configured && t - last_refresh >= AGENT_REFRESH_S) {
            last_refresh = t;
            rc = send_memory(a);
        }
    }
    free(pf);
    free(pi);
    return rc;
}

int cluster_agent_run(struct cluster *cl, const struct dev_list *devs,
                      const char *dev_err, const char *self_exe)
{
    struct agent ag = {.cl = cl, .devs = devs, .self_exe = self_exe};
    struct agent *a = &ag;
    char host[CL_HOST_MAX] = {0};
    if (gethostname(host, sizeof host) < 0)
        snprintf(host, sizeof host, "localhost");
    host[CL_HOST_MAX - 1] = '\0';
    struct cl_hdr h = {
        .kind = CL_HELLO, .worker = -1, .size = (uint32_t)sizeof(struct dev_info)};
    int rc;
    if (dev_err || !devs) {
        h.arg = 1;
        const char *e = dev_err ? dev_err : "no devices";
        rc = cl_send(cl, 0, &h, host, sizeof host, e, strlen(e));
    } else {
        h.dev = (int32_t)devs->n;
        rc = cl_send(cl, 0, &h, host, sizeof host, devs->v, devs->n * sizeof *devs->v);
    }
    /* The coordinator decides about interrupts: a batch system's SIGTERM
     * reaches every rank, and rank 0 then lets running tasks finish, ours
     * included. A second SIGTERM stops this node's tasks. */
    signal(SIGINT, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_sigterm};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    int grc = guard_start(self_exe, &a->guard);
    if (grc)
        log_msg(LOG_WARN, "rank %d: cannot start the guard (%s)", cl->rank, strerror(-grc));
    a->env = cluster_worker_env();
    if (!rc && !a->env)
        rc = -ENOMEM;
    if (!rc && devs && !dev_err)
        rc = serve(a);
    else if (!rc) {
        /* Nothing to serve: wait for STOP. */
        for (;;) {
            const char *body;
            size_t blen;
            int from;
            int got = cl_recv(cl, 0, true, &h, &body, &blen, &from);
            if (got < 0)
                rc = got;
            if (got < 0 || h.kind == CL_STOP)
                break;
        }
    }
    stop_workers(a);
    kill_strays(a, true);
    guard_stop(a->guard);
    if (rc) {
        /* Rank 0 would wait for this node's tasks forever: end the job. What
         * was done is in rank 0's journal (--resume). */
        if (rc != -EINTR && rc != -ETIMEDOUT) /* those said why already */
            log_msg(LOG_ERROR, "rank %d: cluster transport: %s", cl->rank, strerror(-rc));
        log_msg(LOG_ERROR, "rank %d: aborting the MPI job", cl->rank);
        MPI_Abort(MPI_COMM_WORLD, rc == -EINTR ? 130 : 1);
    }
    int frc = cl_flush(cl);
    struct cl_hdr bye = {.kind = CL_BYE, .worker = -1};
    if (!frc)
        frc = cl_send(cl, 0, &bye, NULL, 0, NULL, 0);
    if (!frc)
        frc = cl_flush(cl);
    cluster_env_free(a->env);
    free(a->plugin);
    free(a->config);
    free(a->run_dir);
    free(a->w);
    if (rc || frc)
        return 1;
    return dev_err ? 2 : 0;
}
