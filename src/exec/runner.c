/* runner: the coordinator's event loop (see runner.h).
 *
 * One worker process per device slot (`shotq worker`, exec'd), talking over a
 * SOCK_SEQPACKET socketpair. Each loop turn: read results, enforce timeouts,
 * restart dead workers, ask the policy core for work, flush the journal once
 * (one fdatasync for all completions of the turn), redraw progress, poll.
 *
 * Very short tasks are prefetched: a worker may hold up to `depth` tasks when
 * its tasks take well under PREFETCH_TARGET_S, so that dispatch latency and
 * the journal's fdatasync are amortised over many tasks. */
#define _GNU_SOURCE
#include "exec/runner.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec/guard.h"
#include "exec/proto.h"
#include "exec/spawn.h"
#include "exec/worker.h"
#include "journal/journal.h"
#include "report/progress.h"
#include "util/atomic_file.h"
#include "report/record.h"
#include "report/report.h"
#include "report/status.h"
#include "sched/simrun.h"
#include "util/escape.h"
#include "util/log.h"

#define MAX_DEPTH 256            /* prefetched tasks per worker, at most */
#define PREFETCH_TARGET_S 0.02   /* prefetch when tasks are shorter than this */
#define MAX_INIT_FAILS 3         /* worker starts that fail before a device is dropped */
#define REFRESH_S 2.0            /* device memory refresh period ($SHOTQ_REFRESH_S) */
#define REFRESH_MAX_PROCS 1024   /* GPU processes looked at per refresh */
#define PID_DEPTH 64             /* parent links followed to find a process's worker */
#define REMOTE_POLL_US 250       /* poll period for remote workers' messages ... */
#define REMOTE_IDLE_POLL_US 2000 /* ... and after REMOTE_BUSY_S without any */
#define REMOTE_BUSY_S 1.0
#define STOP_GRACE_S 2.0 /* at the end, a worker's time to exit before SIGKILL */
#define START_GATE_S 1.0 /* multi-node: longest wait for every worker's start */
#define PRIOR_MIN_S 0.25 /* a prior ETA needs a task that has run this long */
#define ETA_SAMPLES 4096 /* ETA samples kept for the report; then thinned */

/* W_CLOSING: its socket is closed (EOF, or we killed it for an invalid
 * message); its process is reaped without blocking, then W_DEAD. */
enum wstate { W_DEAD = 0, W_STARTING = 1, W_READY = 2, W_CLOSING = 3 };

#define CLOSE_GRACE_S 0.5 /* a worker whose socket ended gets this long to exit */

/* A device as its quarantine events see it. */
enum qstate { Q_OK = 0, Q_RESTING = 1, Q_PROBING = 2, Q_RETIRED = 3 };

struct worker {
    pid_t pid;     /* process (leads its own group); local only */
    int fd;        /* socket, -1 when dead or remote */
    int rank;      /* node's rank: 0 = local, else through c->remote */
    int dev, slot; /* device slot it serves */
    enum wstate state;
    size_t q[MAX_DEPTH];  /* tasks sent, in order; q[qh] runs */
    int qa[MAX_DEPTH];    /* their attempt numbers */
    uint32_t token, seq;  /* the worker's token (local), last sequence number */
    bool was_starting;    /* W_CLOSING: it never became ready */
    double closing_since; /* W_CLOSING: when its socket ended */
    char bad[64];         /* why we killed it (invalid message), "" if not */
    int qh, qn;           /* ring head and length */
    double head_since;    /* when the head task started (for timeouts) */
    bool timed_out;       /* we killed it for a timeout */
    bool cancelled;       /* we killed it: its head task's other copy won */
    int init_fails;       /* consecutive failed starts */
    double restart_at;    /* earliest time to start it again */
    uint64_t gpu_now;     /* GPU bytes its processes use, last refresh */
};

struct runner {
    const struct runner_config *c;
    struct sched *s;
    struct jrnl *j;
    struct run_record rec;
    struct worker *w;
    size_t nw;
    int *depth;         /* per device prefetch depth */
    double *wall_avg;   /* per device average task wall time */
    bool *dev_dead;     /* per device: workers cannot start */
    int *qstate;        /* per device: enum qstate last reported */
    int *abase;         /* per task: highest attempt of earlier runs (journal) */
    bool halt_noted;    /* the --halt line was printed */
    struct timespec t0; /* run start */
    int sigpipe[2];     /* self-pipe: signals */
    int interrupts;     /* SIGINT/SIGTERM received */
    bool io_error;      /* journal could not be written */
    bool remote_error;  /* the cluster transport failed (reported once) */
    bool gate_opened;   /* dispatch has begun (see gate_open) */
    double remote_busy; /* when the last remote message came */
    struct progress prog;
    struct progress_dev *pdev;
    double last_refresh;
    double refresh_s;   /* refresh period */
    bool *busy;         /* per device: used by others (--gpu-busy), as reported */
    uint64_t peak_max;  /* largest GPU memory peak of a done task (--task-mem auto) */
    bool wide;          /* some task runs on several devices (gpus=N / cpus=N) */
    pid_t guard;        /* kills what escapes our process tree (exec/guard.h) */
    double last_strays; /* when kill_strays last looked */
    double prior_units; /* simulated makespan of the tasks not done at the start, in
                           weight / speed-prior units; < 0 unknown (see prior_eta) */
    double eta_every;   /* ETA sampling period for the report (doubles when thinned) */
    double eta_last;    /* when the last ETA sample was taken, < 0 none */
    char msgbuf[PROTO_MAX];
};

static int g_sigpipe = -1; /* for the signal handler */

static void on_signal(int sig)
{
    int e = errno;
    unsigned char b = (unsigned char)sig;
    ssize_t r = write(g_sigpipe, &b, 1);
    (void)r;
    errno = e;
}

static double elapsed(const struct runner *r)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)(ts.tv_sec - r->t0.tv_sec) +
           (double)(ts.tv_nsec - r->t0.tv_nsec) * 1e-9;
}

/* ---- placeholders ---- */

/* Appends s to the buffer; returns false when it does not fit. */
static bool put(char *buf, size_t cap, size_t *len, const char *s, size_t n)
{
    if (*len + n + 1 > cap)
        return false;
    memcpy(buf + *len, s, n);
    *len += n;
    return true;
}

/* Appends the words of the argument string s (shell-like quoting, see
 * tasks_split_args), each NUL-terminated; with join, joined by single blanks
 * instead (for {args} inside a longer word), without a final NUL. Returns
 * false when they do not fit (or s is malformed, which tasks_read refuses). */
static bool put_words(char *buf, size_t cap, size_t *len, const char *s, bool join)
{
    size_t start = *len, col;
    const char *what;
    long n = tasks_split_args(s, buf, cap, len, &col, &what);
    if (n < 0)
        return false;
    if (join && n > 0) {
        (*len)--; /* the last word's NUL */
        for (size_t i = start; i < *len; i++)
            buf[i] = buf[i] ? buf[i] : ' ';
    }
    return true;
}

/* Builds the command of one attempt as NUL-separated words in buf:
 * placeholders {} {task} {device} {slot} {attempt} {args} are substituted;
 * a word that is exactly "{args}" becomes the task's argument words (one
 * argv element each); inside a longer word, {args} is the words joined by
 * single blanks; without any {args}, the argument words are appended.
 * Returns the length or -1. */
static long build_command(const struct runner *r, size_t ti, int dev, int slot,
                          int attempt, char *buf, size_t cap)
{
    const char *args = tasks_args(r->c->tasks, ti);
    char vals[5][32];
    snprintf(vals[0], sizeof vals[0], "%" PRId64, r->c->tasks->id[ti]);
    snprintf(vals[1], sizeof vals[1], "%d", dev);
    snprintf(vals[2], sizeof vals[2], "%d", slot);
    snprintf(vals[3], sizeof vals[3], "%d", attempt);
    static const struct {
        const char *name;
        int val;
    } ph[] = {{"{}", 0}, {"{task}", 0}, {"{device}", 1}, {"{slot}", 2}, {"{attempt}", 3}};
    size_t len = 0;
    bool used_args = false;
    for (char **a = r->c->cmd; *a; a++) {
        if (!strcmp(*a, "{args}")) {
            used_args = true;
            if (!put_words(buf, cap, &len, args, false))
                return -1;
            continue;
        }
        for (const char *p = *a; *p;) {
            bool hit = false;
            for (size_t k = 0; k < sizeof ph / sizeof ph[0] && !hit; k++) {
                size_t n = strlen(ph[k].name);
                if (!strncmp(p, ph[k].name, n)) {
                    if (!put(buf, cap, &len, vals[ph[k].val], strlen(vals[ph[k].val])))
                        return -1;
                    p += n;
                    hit = true;
                }
            }
            if (!hit && !strncmp(p, "{args}", 6)) {
                used_args = true;
                if (!put_words(buf, cap, &len, args, true))
                    return -1;
                p += 6;
                hit = true;
            }
            if (!hit) {
                if (!put(buf, cap, &len, p, 1))
                    return -1;
                p++;
            }
        }
        if (!put(buf, cap, &len, "", 1))
            return -1;
    }
    if (!used_args && !put_words(buf, cap, &len, args, false))
        return -1;
    return (long)len;
}

long runner_command(const struct runner_config *c, size_t ti, int dev, int slot,
                    int attempt, char *buf, size_t cap)
{
    struct runner r = {.c = c}; /* build_command reads only r.c */
    return build_command(&r, ti, dev, slot, attempt, buf, cap);
}

/* ---- workers ---- */

/* Starts the worker process of w. Returns 0 or -errno. */
static int worker_start(struct runner *r, struct worker *w)
{
    extern char **environ;
    const struct runner_config *c = r->c;
    int rc;
    if (w->rank != 0) {
        rc = c->remote->start(c->remote->ctx, w->rank, (size_t)(w - r->w), (size_t)w->dev,
                              w->slot);
    } else {
        struct worker_spawn_args a = {.self_exe = c->self_exe,
                                      .plugin_mode = c->plugin_mode,
                                      .plugin = c->plugin,
                                      .config = c->plugin_config,
                                      .run_dir = c->run_dir,
                                      .dev = &c->devs->v[w->dev],
                                      .dev_index = w->dev,
                                      .slot = w->slot,
                                      .envp = c->worker_env ? c->worker_env : environ,
                                      .max_log = c->max_log_bytes};
        w->token = a.token = proto_token();
        rc = worker_spawn(&a, &w->pid, &w->fd);
    }
    if (rc)
        return rc;
    w->state = W_STARTING;
    w->qh = w->qn = 0;
    w->timed_out = false;
    w->cancelled = false;
    w->seq = 0;
    w->bad[0] = '\0';
    return 0;
}

/* Ready workers of a device times its depth: what the device may hold. */
static void update_capacity(struct runner *r, int dev)
{
    int ready = 0;
    for (size_t i = 0; i < r->nw; i++)
        if (r->w[i].dev == dev && r->w[i].state == W_READY && !r->w[i].timed_out)
            ready++;
    sched_set_capacity(r->s, (size_t)dev, ready * r->depth[dev]);
}

/* Makes room for one more element in a run-record array v of n used and
 * *alloc allocated elements of size sz (doubling; `first` at first). Returns
 * the array (v itself when there was room), or NULL with v unchanged. */
static void *grow_record(void *v, size_t *alloc, size_t n, size_t sz, size_t first)
{
    if (n < *alloc)
        return v;
    size_t na = *alloc ? *alloc * 2 : first;
    void *nv = realloc(v, na * sz);
    if (nv)
        *alloc = na;
    return nv;
}

/* Records an attempt of task ti on w's slot that did not succeed: in the
 * failed attempts, or with cancelled in the cancelled copies. */
static void add_attempt(struct runner *r, bool cancelled, size_t ti, const struct worker *w,
                        double start, double end, int exit_code, const char *why,
                        int attempt, uint32_t logs)
{
    struct run_record *rec = &r->rec;
    struct rec_fail **v = cancelled ? &rec->cancels : &rec->fails;
    size_t *n = cancelled ? &rec->ncancels : &rec->nfails;
    struct rec_fail *nv = grow_record(*v, cancelled ? &rec->cancels_alloc : &rec->fails_alloc,
                                      *n, sizeof *nv, 64);
    if (!nv)
        return; /* the report loses a line, the run goes on */
    *v = nv;
    struct rec_fail *f = &nv[(*n)++];
    f->task = ti;
    f->dev = w->dev;
    f->slot = (int16_t)w->slot;
    f->start_s = start;
    f->end_s = end;
    f->exit_code = exit_code;
    f->attempt = attempt;
    f->logs = logs;
    snprintf(f->why, sizeof f->why, "%s", why);
}

/* --task-mem auto: a done task's measured peak raises what tasks without
 * their own mem need from now on. */
static void learn_peak(struct runner *r, uint64_t peak)
{
    if (peak <= r->peak_max)
        return;
    r->peak_max = peak;
    if (r->c->task_mem_auto)
        sched_set_default_mem(r->s, sched_auto_mem(peak));
}

static void add_fail(struct runner *r, size_t ti, const struct worker *w, double start,
                     double end, int exit_code, const char *why, int attempt, uint32_t logs)
{
    add_attempt(r, false, ti, w, start, end, exit_code, why, attempt, logs);
}

/* Learns w's device's wall time per task, for its prefetch depth. */
static void learn_depth(struct runner *r, const struct worker *w, double wall)
{
    double *avg = &r->wall_avg[w->dev];
    *avg = *avg <= 0 ? wall : 0.8 * *avg + 0.2 * wall;
    int depth = *avg > 0 ? (int)(PREFETCH_TARGET_S / *avg) : 1;
    depth = depth < 1 ? 1 : depth > MAX_DEPTH ? MAX_DEPTH : depth;
    if (r->c->timeout_s > 0 && r->c->sp.policy == SCHED_DYNAMIC)
        depth = depth > 4 ? 4 : depth;
    if (r->wide)
        depth = 1; /* a group member's worker must hold nothing else */
    if (depth != r->depth[w->dev]) {
        r->depth[w->dev] = depth;
        update_capacity(r, w->dev);
    }
}

static void worker_kill(struct runner *r, struct worker *w);
static uint32_t killed_logs(const struct runner *r, const struct worker *w);

/* Task ti succeeded on device winner: its other copy, on device dev, lost.
 * Records it as cancelled and kills its worker (whole process group); what
 * that worker reports afterwards about the task is ignored. */
static void cancel_copy(struct runner *r, size_t ti, long dev, int winner, double now)
{
    for (size_t i = 0; i < r->nw; i++) {
        struct worker *o = &r->w[i];
        if (o->dev != dev || o->qn == 0 || o->q[o->qh] != ti || o->cancelled ||
            (o->state != W_READY && o->state != W_CLOSING))
            continue;
        char why[80];
        snprintf(why, sizeof why, "cancelled: its copy on device %d finished first", winner);
        int attempt = o->qa[o->qh];
        add_attempt(r, true, ti, o, o->head_since, now, 128 + SIGKILL, why, attempt,
                    killed_logs(r, o));
        jrnl_record(r->j, JRNL_CANCEL, r->c->tasks->id[ti], attempt, dev, now, 128 + SIGKILL);
        o->cancelled = true;
        worker_kill(r, o);
        return;
    }
}

/* The head task of w ended (ok or not) at time now after wall seconds. With
 * speculation it may have a copy on another device: the first copy to
 * succeed wins and the other is cancelled; a copy that fails leaves the
 * other running. */
static void task_ended(struct runner *r, struct worker *w, double now, double wall,
                       int exit_code, const char *why, uint32_t logs)
{
    size_t ti = w->q[w->qh];
    int attempt = w->qa[w->qh];
    double since = w->head_since; /* when it could start: sent, or the one before ended */
    w->qh = (w->qh + 1) % MAX_DEPTH;
    w->qn--;
    w->head_since = now;
    if (w->cancelled) {
        w->cancelled = false; /* recorded when its copy won */
        return;
    }
    struct rec_task *t = &r->rec.tasks[ti];
    double start = now - wall;
    if (start < since)
        start = since;
    struct sched_task_stats ts;
    sched_task_stats(r->s, ti, &ts);
    if (ts.backup_dev < 0)
        sched_set_start(r->s, ti, start);
    bool ok = exit_code == 0 && !why;
    long loser;
    enum sched_outcome out = sched_finish_on(r->s, ti, (size_t)w->dev, now, ok, &loser);
    int64_t id = r->c->tasks->id[ti];
    if (out != SCHED_OUT_CONTINUES) {
        t->dev = (int32_t)w->dev;
        t->slot = (int16_t)w->slot;
        t->start_s = start;
        t->end_s = now;
        t->exit_code = exit_code;
    } else if (ts.dev == w->dev) {
        t->dev = (int32_t)ts.backup_dev; /* the copy that runs on */
    }
    if (ok) {
        t->status = REC_DONE;
        long devs[SCHED_MAX_WIDTH];
        for (size_t k = 0; k < t->ndevs && t->ndevs > 1; k++)
            devs[k] = r->rec.devpool[t->devs_off + k];
        struct jrnl_extra x = {.gpu_mem_peak = t->gpu_mem_peak,
                               .devs = devs,
                               .ndevs = t->ndevs,
                               .cost = sched_task_cost(r->s, ti)};
        jrnl_record_ext(r->j, JRNL_DONE, id, attempt, w->dev, now, 0, &x);
        if (loser >= 0)
            cancel_copy(r, ti, loser, w->dev, now);
        learn_peak(r, t->gpu_mem_peak);
        learn_depth(r, w, wall);
        return;
    }
    char buf[48];
    if (!why) {
        snprintf(buf, sizeof buf, "exit %d", exit_code);
        why = buf;
    }
    add_fail(r, ti, w, start, now, exit_code, why, attempt, logs);
    jrnl_record(r->j, out == SCHED_OUT_FAILED ? JRNL_FAIL : JRNL_RETRY, id, attempt,
                w->dev, now, exit_code);
    if (out == SCHED_OUT_CONTINUES)
        return; /* its other copy runs on */
    t->status = out == SCHED_OUT_FAILED ? REC_FAILED : REC_PENDING;
    if (out == SCHED_OUT_FAILED && !r->c->quiet) {
        progress_clear(&r->prog);
        log_msg(LOG_WARN, "task %" PRId64 " failed on device %d (%s) after %d attempt(s)",
                id, w->dev, why, attempt);
    }
}

/* Kills w and its task (its whole process group). */
static void worker_kill(struct runner *r, struct worker *w)
{
    if (w->rank == 0)
        kill(-w->pid, SIGKILL);
    else if (r->c->remote->kill(r->c->remote->ctx, w->rank, (size_t)(w - r->w)))
        log_msg(LOG_WARN, "device %d slot %d: cannot reach its node to kill it", w->dev,
                w->slot);
}

static void worker_gone(struct runner *r, struct worker *w, double now, bool reaped,
                        int st);

/* A worker's socket ended (EOF, error) or it sent an invalid message (bad is
 * the reason, killed then): close it and reap it later without blocking. */
static void worker_lost(struct runner *r, struct worker *w, double now, const char *bad)
{
    if (bad) {
        snprintf(w->bad, sizeof w->bad, "invalid message from worker: %s", bad);
        worker_kill(r, w);
    }
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    w->was_starting = w->state == W_STARTING;
    w->state = W_CLOSING;
    w->closing_since = now;
    update_capacity(r, w->dev);
}

/* Kills and reaps our children that are neither workers nor the guard: we
 * are a child subreaper, so what the tasks of a killed worker left behind
 * (background children, setsid daemons) becomes ours. Looks at most every
 * 0.1 s unless forced; forced (at the end), repeats until none is left, as a
 * killed stray's own children come to us in turn. Never blocks long. */
static void kill_strays(struct runner *r, double now, bool force)
{
    if (!force && now - r->last_strays < 0.1)
        return;
    r->last_strays = now;
    pid_t *keep = malloc((r->nw + 1) * sizeof *keep);
    if (!keep)
        return; /* tried again on the next turn */
    size_t nkeep = 0;
    keep[nkeep++] = r->guard;
    for (size_t i = 0; i < r->nw; i++)
        if (r->w[i].rank == 0 && r->w[i].state != W_DEAD)
            keep[nkeep++] = r->w[i].pid;
    spawn_kill_others(keep, nkeep, force);
    free(keep);
}

/* Reaps closing local workers that have exited; kills those that take longer
 * than CLOSE_GRACE_S. Never blocks. */
static void reap_closing(struct runner *r, double now)
{
    for (size_t i = 0; i < r->nw; i++) {
        struct worker *w = &r->w[i];
        if (w->state != W_CLOSING || w->rank != 0)
            continue;
        int st = 0;
        pid_t p = waitpid(w->pid, &st, WNOHANG);
        if (p == 0 && now - w->closing_since > CLOSE_GRACE_S && !w->bad[0]) {
            snprintf(w->bad, sizeof w->bad, "worker closed its socket but did not exit");
            worker_kill(r, w);
        }
        if (p == 0)
            continue;
        w->state = W_STARTING; /* for worker_gone's accounting */
        if (!w->was_starting)
            w->state = W_READY;
        worker_gone(r, w, now, p == w->pid, st);
    }
}

/* The logs of w's head task after its worker died (timeout, kill, crash):
 * the worker wrote them under their final names, but could not remove the
 * empty ones. Removes those; returns which are left (1 .out, 2 .err). A
 * remote worker's logs are on its node: both are assumed. */
static uint32_t killed_logs(const struct runner *r, const struct worker *w)
{
    if (w->rank != 0)
        return 3;
    uint32_t logs = 0;
    for (int k = 0; k < 2; k++) {
        char path[4400];
        worker_log_path(path, sizeof path, r->c->run_dir,
                        (long long)r->c->tasks->id[w->q[w->qh]], w->qa[w->qh],
                        k ? "err" : "out");
        struct stat st;
        if (lstat(path, &st) || !S_ISREG(st.st_mode))
            continue;
        if (st.st_size > 0)
            logs |= 1u << k;
        else
            unlink(path);
    }
    return logs;
}

/* A worker is gone (reaped: st is its waitpid status): fail its running
 * task, return the tasks queued behind it, schedule a restart. */
static void worker_gone(struct runner *r, struct worker *w, double now, bool reaped,
                        int st)
{
    bool was_starting = w->state == W_STARTING;
    w->state = W_DEAD;
    char why[80];
    int code;
    if (w->timed_out) {
        snprintf(why, sizeof why, "timeout after %.3g s", r->c->timeout_s);
        code = 124;
    } else if (w->bad[0]) {
        snprintf(why, sizeof why, "%s", w->bad);
        code = 255;
    } else if (reaped && WIFSIGNALED(st)) {
        snprintf(why, sizeof why, "worker killed by signal %d", WTERMSIG(st));
        code = 128 + WTERMSIG(st);
    } else {
        snprintf(why, sizeof why, "worker exited (%d)", reaped ? WEXITSTATUS(st) : -1);
        code = 255;
    }
    if (w->qn > 0) {
        double wall = now - w->head_since;
        task_ended(r, w, now, wall, code, why, killed_logs(r, w));
    }
    while (w->qn > 0) {
        size_t ti = w->q[w->qh];
        w->qh = (w->qh + 1) % MAX_DEPTH;
        w->qn--;
        sched_requeue(r->s, ti);
        r->rec.tasks[ti].status = REC_PENDING;
    }
    if (was_starting)
        w->init_fails++;
    else
        w->init_fails = 0;
    w->restart_at = now + (w->init_fails ? 0.5 * w->init_fails : 0);
    update_capacity(r, w->dev);
}

/* Why message m cannot come from worker w in its state, or NULL if it can:
 * the token (local workers; a node agent checks its own), the sequence
 * number, the type for the state, the task and attempt the worker holds. */
static const char *msg_invalid(const struct runner *r, const struct worker *w,
                               const struct proto_msg *m)
{
    if (w->rank == 0 && m->token != w->token)
        return "wrong token";
    if (m->seq != w->seq + 1)
        return "out of sequence";
    switch (m->type) {
    case PROTO_READY:
    case PROTO_INITFAIL:
        return w->state == W_STARTING ? NULL : "unexpected READY/INITFAIL";
    case PROTO_DONE:
    case PROTO_PROGRESS:
        if (w->state != W_READY || w->qn == 0)
            return "result without a task";
        if (r->c->tasks->id[w->q[w->qh]] != m->task || w->qa[w->qh] != m->attempt)
            return "result for a task it does not hold";
        return m->type == PROTO_DONE && m->len ? "DONE with a payload" : NULL;
    default:
        return "unknown type";
    }
}

/* Handles one message of worker w. */
static void worker_msg(struct runner *r, struct worker *w, const struct proto_msg *m,
                       const char *payload, double now)
{
    char why[80];
    if (w->state == W_CLOSING)
        return; /* we gave up on it */
    const char *bad = msg_invalid(r, w, m);
    if (bad) {
        worker_lost(r, w, now, bad);
        return;
    }
    w->seq = m->seq;
    switch (m->type) {
    case PROTO_READY:
        w->state = W_READY;
        w->init_fails = 0;
        update_capacity(r, w->dev);
        break;
    case PROTO_INITFAIL:
        progress_clear(&r->prog);
        log_msg(LOG_ERROR, "device %d slot %d: %s", w->dev, w->slot, payload);
        w->init_fails = MAX_INIT_FAILS; /* a failing init will fail again */
        break;
    case PROTO_DONE:
        if (m->status == PROTO_ST_EXECFAIL) {
            snprintf(why, sizeof why, "cannot start: %s", strerror(m->err));
            task_ended(r, w, now, m->weight, 127, why, m->flags & 3);
        } else if (m->status & PROTO_ST_SIGNAL) {
            int sig = m->status & 0xff;
            snprintf(why, sizeof why, "killed by signal %d", sig);
            task_ended(r, w, now, m->weight, 128 + sig, why, m->flags & 3);
        } else {
            task_ended(r, w, now, m->weight, m->status, NULL, m->flags & 3);
        }
        break;
    default:
        break;
    }
}

/* Handles every message waiting on w's socket. */
static void worker_read(struct runner *r, struct worker *w, double now)
{
    for (;;) {
        struct proto_msg m;
        char *payload;
        int rc = proto_recv(w->fd, r->msgbuf, &m, &payload);
        if (rc == -EAGAIN)
            return;
        if (rc <= 0) {
            worker_lost(r, w, now, rc == -EPROTO ? "wrong size" : NULL);
            return;
        }
        worker_msg(r, w, &m, payload, now);
        if (w->state == W_DEAD || w->state == W_CLOSING)
            return;
    }
}

/* Delivers what the remote transport has for the loop. */
static void remote_read(struct runner *r, double now)
{
    const struct runner_remote *rm = r->c->remote;
    struct runner_event ev;
    int rc;
    while ((rc = rm->next(rm->ctx, &ev)) == 1) {
        r->remote_busy = now;
        if (ev.kind == RUNNER_EV_MEM) {
            struct sched_dev_stats ds;
            const struct dev_info *v = &r->c->devs->v[ev.dev];
            sched_dev_stats(r->s, ev.dev, &ds);
            if (ds.running == 0 && v->mem_total >= ev.mem_free)
                sched_set_foreign_mem(r->s, ev.dev, v->mem_total - ev.mem_free);
            continue;
        }
        if (ev.worker >= r->nw || r->w[ev.worker].rank == 0 ||
            r->w[ev.worker].state == W_DEAD)
            continue; /* stale: the worker was already given up */
        struct worker *w = &r->w[ev.worker];
        if (ev.kind == RUNNER_EV_LOST)
            worker_gone(r, w, now, ev.wstatus >= 0, ev.wstatus);
        else
            worker_msg(r, w, &ev.m, ev.payload, now);
    }
    if (rc < 0 && !r->remote_error) {
        r->remote_error = true;
        progress_clear(&r->prog);
        log_msg(LOG_ERROR, "cluster transport: %s", strerror(-rc));
    }
}

/* Appends ",ITEM" (no comma first) to list[cap] at *n; drops what does not
 * fit (the caller's word then fails to fit too). */
static void list_add(char *list, size_t cap, size_t *n, const char *item)
{
    int k = snprintf(list + *n, cap - *n, "%s%s", *n ? "," : "", item);
    *n = k < 0 || (size_t)k >= cap - *n ? cap - 1 : *n + (size_t)k;
}

/* The cores of CPU device v into list: the CPU device of ordinal o with n
 * cores owns the o-th n of the cores this process may run on. */
static void list_cores(const struct dev_info *v, const cpu_set_t *mine, char *list,
                       size_t cap, size_t *n)
{
    char item[16];
    for (int c = 0, seen = 0; c < CPU_SETSIZE; c++) {
        if (!CPU_ISSET((size_t)c, mine))
            continue;
        if (seen >= v->ordinal * v->ncpus && seen < (v->ordinal + 1) * v->ncpus) {
            snprintf(item, sizeof item, "%d", c);
            list_add(list, cap, n, item);
        }
        seen++;
    }
}

/* The environment words of a multi-device task (PROTO_RUN_ENV) into buf:
 * CUDA_VISIBLE_DEVICES (the GPUs' UUIDs; "" unless every device has one),
 * SHOTQ_DEVICES_ASSIGNED (the device indices), SHOTQ_DEVICE_SPEED (the
 * group's: the sum), for CPU devices OMP_NUM_THREADS (their cores) and
 * SHOTQ_CPU_AFFINITY (those cores), then the empty word. Returns the length
 * or -1 when it does not fit. */
static long group_env(const struct runner *r, const struct sched_assign *a, char *buf,
                      size_t cap)
{
    char uuids[4096] = "", idx[1024] = "", cores[4096] = "", w[8400], item[32];
    size_t nu = 0, ni = 0, nc = 0;
    double speed = 0;
    int ncpus = 0;
    bool all_gpus = true;
    cpu_set_t mine;
    if (sched_getaffinity(0, sizeof mine, &mine))
        CPU_ZERO(&mine);
    for (size_t k = 0; k < a->ndevs; k++) {
        const struct dev_info *v = &r->c->devs->v[a->devs[k]];
        speed += v->speed;
        ncpus += v->ncpus;
        all_gpus &= v->uuid[0] != '\0';
        list_add(uuids, sizeof uuids, &nu, v->uuid);
        snprintf(item, sizeof item, "%zu", a->devs[k]);
        list_add(idx, sizeof idx, &ni, item);
        if (v->kind == DEV_CPU)
            list_cores(v, &mine, cores, sizeof cores, &nc);
    }
    size_t len = 0;
    bool ok = true;
    const char *words[5][2] = {{"CUDA_VISIBLE_DEVICES", all_gpus ? uuids : ""},
                               {"SHOTQ_DEVICES_ASSIGNED", idx},
                               {"SHOTQ_DEVICE_SPEED", NULL},
                               {"OMP_NUM_THREADS", NULL},
                               {"SHOTQ_CPU_AFFINITY", cores}};
    for (int k = 0; k < 5 && ok; k++) {
        if (k >= 3 && ncpus == 0)
            break;
        if (k == 2)
            snprintf(w, sizeof w, "%s=%.17g", words[k][0], speed);
        else if (k == 3)
            snprintf(w, sizeof w, "%s=%d", words[k][0], ncpus);
        else
            snprintf(w, sizeof w, "%s=%s", words[k][0], words[k][1]);
        ok = put(buf, cap, &len, w, strlen(w) + 1);
    }
    return ok && put(buf, cap, &len, "", 1) ? (long)len : -1;
}

/* Sends task ti (assignment a) to worker w. Returns 0 or -errno. */
static int worker_send(struct runner *r, struct worker *w, size_t ti, int attempt,
                       double now, const struct sched_assign *a)
{
    static char buf[PROTO_MAX];
    struct proto_msg m = {.type = PROTO_RUN,
                          .task = r->c->tasks->id[ti],
                          .attempt = attempt,
                          .weight = r->c->tasks->weight[ti]};
    const char *payload;
    if (r->c->plugin_mode) {
        payload = tasks_args(r->c->tasks, ti);
        m.len = (uint32_t)strlen(payload);
    } else {
        size_t cap = PROTO_MAX - sizeof m - 1;
        long e = a && a->ndevs > 1 ? group_env(r, a, buf, cap) : 0;
        long n = e < 0 ? -1
                       : build_command(r, ti, w->dev, w->slot, attempt, buf + e,
                                       cap - (size_t)e);
        if (n < 0)
            return -E2BIG;
        m.flags = e > 0 ? PROTO_RUN_ENV : 0;
        payload = buf;
        m.len = (uint32_t)(n + e);
    }
    int rc = w->rank ? r->c->remote->send(r->c->remote->ctx, w->rank, (size_t)(w - r->w),
                                          &m, payload)
                     : proto_send(w->fd, &m, payload);
    if (rc)
        return rc;
    if (w->qn == 0)
        w->head_since = now;
    w->q[(w->qh + w->qn) % MAX_DEPTH] = ti;
    w->qa[(w->qh + w->qn) % MAX_DEPTH] = attempt;
    w->qn++;
    return 0;
}

/* Picks the ready worker of dev with the fewest queued tasks. */
static struct worker *worker_for(struct runner *r, size_t dev)
{
    struct worker *best = NULL;
    for (size_t i = 0; i < r->nw; i++) {
        struct worker *w = &r->w[i];
        /* A worker killed for a timeout is as good as gone (a remote one
         * answers the kill only after a message round trip). */
        if ((size_t)w->dev != dev || w->state != W_READY || w->timed_out ||
            w->qn >= r->depth[dev] || w->qn >= MAX_DEPTH)
            continue;
        if (!best || w->qn < best->qn)
            best = w;
    }
    return best;
}

/* Sends the backup copy a (speculation) to an idle worker of its device.
 * Returns false, with the copy taken back, when none can start it now. */
static bool send_backup(struct runner *r, const struct sched_assign *a, double now)
{
    struct worker *w = worker_for(r, a->dev);
    int attempt = r->abase[a->task] + a->attempt;
    if (!w || w->qn > 0 || worker_send(r, w, a->task, attempt, now, a)) {
        sched_cancel_backup(r->s, a->task);
        return false;
    }
    struct rec_task *t = &r->rec.tasks[a->task];
    t->attempts = (uint8_t)(attempt > 255 ? 255 : attempt);
    jrnl_record(r->j, JRNL_START, r->c->tasks->id[a->task], attempt, (long)a->dev, now, 0);
    return true;
}

static void dispatch(struct runner *r, double now)
{
    struct sched_assign a;
    while (sched_pick(r->s, now, &a)) {
        if (a.backup) {
            if (!send_backup(r, &a, now))
                break;
            continue;
        }
        struct worker *w = worker_for(r, a.dev);
        /* Attempts continue the numbers of earlier runs (--resume); the
         * --retries budget is the scheduler's, per run. */
        int attempt = r->abase[a.task] + a.attempt;
        int rc = w ? worker_send(r, w, a.task, attempt, now, &a) : -ENODEV;
        struct rec_task *t = &r->rec.tasks[a.task];
        t->dev = (int32_t)a.dev;
        t->ndevs = (uint16_t)a.ndevs;
        for (size_t k = 0; a.ndevs > 1 && k < a.ndevs; k++)
            r->rec.devpool[t->devs_off + k] = (int32_t)a.devs[k];
        t->slot = w ? (int16_t)w->slot : 0;
        t->attempts = (uint8_t)(attempt > 255 ? 255 : attempt);
        t->start_s = now;
        t->gpu_mem_peak = 0;
        t->status = REC_RUNNING;
        if (rc == -E2BIG) {
            /* The command does not fit a message: a property of the task. */
            struct worker dummy = {.dev = (int)a.dev, .slot = 0};
            add_fail(r, a.task, &dummy, now, now, 126, "command too long", 0, 0);
            sched_finish(r->s, a.task, now, false);
            t->status = REC_FAILED;
            continue;
        }
        if (rc) {
            sched_requeue(r->s, a.task);
            t->status = REC_PENDING;
            break;
        }
        long devs[SCHED_MAX_WIDTH];
        for (size_t k = 0; k < a.ndevs; k++)
            devs[k] = (long)a.devs[k];
        struct jrnl_extra x = {.devs = devs, .ndevs = a.ndevs};
        jrnl_record_ext(r->j, JRNL_START, r->c->tasks->id[a.task], attempt, (long)a.dev,
                        now, 0, &x);
    }
}

/* Kills workers whose head task ran past the timeout. */
static void check_timeouts(struct runner *r, double now)
{
    if (r->c->timeout_s <= 0)
        return;
    for (size_t i = 0; i < r->nw; i++) {
        struct worker *w = &r->w[i];
        if (w->state == W_READY && w->qn > 0 && !w->timed_out &&
            now - w->head_since > r->c->timeout_s) {
            w->timed_out = true;
            worker_kill(r, w); /* the worker and its task, whole group */
            update_capacity(r, w->dev);
        }
    }
}

/* Restarts dead workers while work remains. */
static void restart_workers(struct runner *r, double now)
{
    /* With speculation a running task may still want a copy. */
    bool work_left = sched_count(r->s, SCHED_PENDING) > 0 ||
                     (r->c->sp.speculate && sched_count(r->s, SCHED_RUNNING) > 0);
    for (size_t i = 0; i < r->nw; i++) {
        struct worker *w = &r->w[i];
        if (w->state != W_DEAD || !work_left || r->dev_dead[w->dev] ||
            now < w->restart_at)
            continue;
        struct sched_dev_stats ds;
        sched_dev_stats(r->s, (size_t)w->dev, &ds);
        if (ds.quarantined)
            continue;
        if (w->init_fails >= MAX_INIT_FAILS) {
            r->dev_dead[w->dev] = true;
            progress_clear(&r->prog);
            log_msg(LOG_ERROR, "device %d: workers fail to start; not using it", w->dev);
            continue;
        }
        int rc = worker_start(r, w);
        if (rc) {
            w->init_fails++;
            w->restart_at = now + 1.0;
            log_msg(LOG_ERROR, "device %d: cannot start worker: %s", w->dev,
                    strerror(-rc));
        }
    }
}

/* True when some pending task can still run: a worker is up or coming. */
static bool can_progress(const struct runner *r)
{
    for (size_t i = 0; i < r->nw; i++) {
        const struct worker *w = &r->w[i];
        if (w->state != W_DEAD)
            return true;
        if (!r->dev_dead[w->dev] && w->init_fails < MAX_INIT_FAILS)
            return true;
    }
    return false;
}

static void note_event(struct runner *r, double now, long dev, const char *what,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The local worker whose process tree holds pid (the worker itself in
 * plugin mode, its task's processes in command mode), or NULL: a process of
 * someone else. */
static struct worker *owner_of(struct runner *r, pid_t pid)
{
    for (int depth = 0; depth < PID_DEPTH && pid > 1; depth++) {
        for (size_t i = 0; i < r->nw; i++) {
            struct worker *w = &r->w[i];
            if (w->rank == 0 && w->state != W_DEAD && w->pid == pid)
                return w;
        }
        pid = spawn_parent(pid);
    }
    return NULL;
}

/* What one GPU's processes say: this run's and others'. */
struct gpu_use {
    uint64_t ours; /* bytes of this run's processes (those that say) */
    int nours;     /* this run's processes on it */
    int nforeign;  /* other processes on it */
};

/* Splits the processes listed for device d (np of them, np < 0 = unknown)
 * into ours and others'; adds each of ours to its worker's gpu_now. */
static struct gpu_use split_procs(struct runner *r, size_t d, const struct dev_proc *p,
                                  long np)
{
    struct gpu_use u = {0, 0, 0};
    for (long k = 0; k < np; k++) {
        if (p[k].dev != d)
            continue;
        struct worker *w = owner_of(r, (pid_t)p[k].pid);
        if (!w) {
            u.nforeign++;
            continue;
        }
        u.nours++;
        if (p[k].mem != DEV_MEM_UNKNOWN) {
            u.ours += p[k].mem;
            w->gpu_now += p[k].mem;
        }
    }
    return u;
}

/* Notes a change of device d's busy state (--gpu-busy), with why. */
static void note_busy(struct runner *r, double now, size_t d, bool busy,
                      const struct sched_gpu_sample *g)
{
    r->busy[d] = busy;
    sched_set_busy(r->s, d, busy);
    double pct = g->mem_total ? 100.0 * (double)g->mem_foreign / (double)g->mem_total : 0;
    if (busy)
        note_event(
            r, now, (long)d, "gpu-busy",
            "used by others (%.0f%% of memory, %d%% utilisation; --gpu-busy %.0f): "
            "no new task until it frees",
            pct, g->util_foreign, r->c->gpu_busy_pct);
    else
        note_event(r, now, (long)d, "gpu-free",
                   "free again (others use %.0f%% of memory): taking tasks", pct);
}

/* Updates local GPU d from a refresh: the memory others use (from the
 * process list when it is known: used minus this run's processes, as far as
 * their reservations cover them; else only while none of our tasks runs
 * there, as then all of it is others') and,
 * with --gpu-busy, whether others keep it busy. Utilisation counts as
 * others' when none of our processes is on the GPU. */
static void account_gpu(struct runner *r, double now, size_t d, const struct dev_proc *p,
                        long np)
{
    const struct dev_info *v = &r->c->devs->v[d];
    struct sched_dev_stats ds;
    sched_dev_stats(r->s, d, &ds);
    struct gpu_use u = split_procs(r, d, p, np);
    uint64_t used = v->mem_total >= v->mem_free ? v->mem_total - v->mem_free : 0;
    struct sched_gpu_sample g = {v->mem_total, 0, -1};
    if (np >= 0) {
        g.mem_foreign = used > u.ours ? used - u.ours : 0;
        g.util_foreign = u.nours == 0 && (u.nforeign > 0 || ds.running == 0) ? v->util_pct
                         : u.nforeign == 0                                   ? 0
                                                                             : -1;
    } else if (ds.running == 0) {
        g.mem_foreign = used;
        g.util_foreign = v->util_pct;
    } else {
        return; /* nothing new about others */
    }
    /* For admission, what our processes use beyond what they reserved is
     * taken too (tasks started before --task-mem auto learned a peak). */
    uint64_t covered = u.ours < ds.mem_reserved ? u.ours : ds.mem_reserved;
    sched_set_foreign_mem(
        r->s, d, np >= 0 ? (used > covered ? used - covered : 0) : g.mem_foreign);
    bool busy = sched_gpu_busy(&g, r->c->gpu_busy_pct);
    if (busy != r->busy[d])
        note_busy(r, now, d, busy, &g);
}

/* Each running task's peak GPU memory: what its worker's processes use now,
 * if more than seen before. */
static void sample_peaks(struct runner *r)
{
    for (size_t i = 0; i < r->nw; i++) {
        struct worker *w = &r->w[i];
        if (w->rank == 0 && w->qn > 0 && w->gpu_now) {
            struct rec_task *t = &r->rec.tasks[w->q[w->qh]];
            if (w->gpu_now > t->gpu_mem_peak)
                t->gpu_mem_peak = w->gpu_now;
        }
        w->gpu_now = 0;
    }
}

/* Refreshes the local GPUs every refresh_s (devices of other nodes are
 * refreshed there, RUNNER_EV_MEM; ours come first in the table): free
 * memory, the processes on them, busy states and the running tasks' peaks. */
static void refresh_memory(struct runner *r, double now)
{
    if (r->last_refresh >= 0 && now - r->last_refresh < r->refresh_s)
        return;
    r->last_refresh = now;
    struct dev_list local = {r->c->devs->v, 0};
    while (local.n < r->c->devs->n &&
           (!r->c->remote || r->c->remote->dev_rank[local.n] == 0))
        local.n++;
    bool any_gpu = false;
    for (size_t d = 0; d < local.n; d++)
        any_gpu |= r->c->devs->v[d].kind == DEV_GPU;
    if (!any_gpu || dev_refresh(&local))
        return;
    static struct dev_proc procs[REFRESH_MAX_PROCS];
    long np = dev_procs(&local, procs, REFRESH_MAX_PROCS);
    if (np > REFRESH_MAX_PROCS)
        np = -1; /* too many to tell ours from others' */
    for (size_t d = 0; d < local.n; d++)
        if (r->c->devs->v[d].kind == DEV_GPU)
            account_gpu(r, now, d, procs, np);
    sample_peaks(r);
}

/* Counts the tasks of the record by status into n[REC_RESUMED + 1]: the one
 * source of the progress line, the failure summary, the final line and
 * report.json, so they agree. */
static void rec_counts(const struct runner *r, size_t n[REC_RESUMED + 1])
{
    memset(n, 0, (REC_RESUMED + 1) * sizeof n[0]);
    for (size_t i = 0; i < r->rec.ntasks; i++)
        if (r->rec.tasks[i].status <= REC_RESUMED)
            n[r->rec.tasks[i].status]++;
}

/* Records a device (or run, dev -1) event: one line on stderr (also with
 * -q), the journal and report.json. */
static void note_event(struct runner *r, double now, long dev, const char *what,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void note_event(struct runner *r, double now, long dev, const char *what,
                       const char *fmt, ...)
{
    struct run_record *rec = &r->rec;
    char detail[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    progress_clear(&r->prog);
    if (dev >= 0)
        log_msg(LOG_WARN, "device %ld (%s): %s", dev, r->c->devs->v[dev].name, detail);
    else
        log_msg(LOG_WARN, "%s", detail);
    jrnl_note(r->j, what, dev, now, detail);
    struct rec_event *ne =
        grow_record(rec->events, &rec->events_alloc, rec->nevents, sizeof *ne, 16);
    if (!ne)
        return; /* the report loses a line, the run goes on */
    rec->events = ne;
    struct rec_event *e = &rec->events[rec->nevents++];
    e->t = now;
    e->dev = (int32_t)dev;
    snprintf(e->what, sizeof e->what, "%s", what);
    snprintf(e->detail, sizeof e->detail, "%s", detail);
}

/* Reports what changed in the devices' quarantine states and the halt. */
static void note_devices(struct runner *r, double now)
{
    for (size_t d = 0; d < r->c->devs->n; d++) {
        struct sched_dev_stats ds;
        sched_dev_stats(r->s, d, &ds);
        int q = ds.retired       ? Q_RETIRED
                : ds.quarantined ? Q_RESTING
                : ds.probing     ? Q_PROBING
                                 : Q_OK;
        int was = r->qstate[d];
        if (q == was)
            continue;
        r->qstate[d] = q;
        long dv = (long)d;
        if (q == Q_RESTING) {
            r->rec.devs[d].quarantines++;
            note_event(
                r, now, dv, "quarantine",
                "quarantined after %d consecutive failure(s); probing again in %.0f s",
                was == Q_PROBING ? 1 : r->c->sp.quarantine_after, ds.probe_at - now);
        } else if (q == Q_PROBING) {
            note_event(r, now, dv, "probe", "back-off over: probing with the next task");
        } else if (q == Q_OK && was == Q_PROBING) {
            note_event(r, now, dv, "recover",
                       "recovered: a task succeeded after the back-off");
        } else if (q == Q_RETIRED) {
            r->rec.devs[d].quarantines++;
            note_event(r, now, dv, "retire",
                       "still failing after a %.0f s back-off: not using it again",
                       r->c->sp.backoff_cap_s);
        }
    }
    if (sched_halted(r->s) && !r->halt_noted) {
        r->halt_noted = true;
        note_event(
            r, now, -1, "halt",
            "halt: %zu failed attempt(s) meet --halt; no new tasks, waiting for %zu "
            "running",
            sched_failed_attempts(r->s), sched_count(r->s, SCHED_RUNNING));
    }
}

int runner_simulate(const struct runner_config *c, const bool *skip,
                    struct simrun_result *res)
{
    const struct dev_list *devs = c->devs;
    const struct taskset *ts = c->tasks;
    struct simrun_dev *sd = calloc(devs->n ? devs->n : 1, sizeof *sd);
    double *w = malloc((ts->n ? ts->n : 1) * sizeof *w);
    uint64_t *mem = malloc((ts->n ? ts->n : 1) * sizeof *mem);
    int *width = malloc((ts->n ? ts->n : 1) * sizeof *width);
    struct simrun_model model = {.width = width}; /* gpus=N tasks on N devices at once */
    int rc = sd && w && mem && width ? 0 : -ENOMEM;
    for (size_t d = 0; !rc && d < devs->n; d++) {
        const struct dev_info *v = &devs->v[d];
        sd[d].speed = v->speed > 0 ? v->speed : 1;
        sd[d].mem_total = v->kind == DEV_CPU   ? 0
                          : v->kind == DEV_GPU ? v->mem_free
                                               : v->mem_total;
    }
    size_t n = 0;
    for (size_t i = 0; !rc && i < ts->n; i++) {
        if (skip && skip[i])
            continue;
        w[n] = ts->weight[i];
        width[n] = ts->width[i];
        mem[n++] = ts->mem[i];
    }
    if (!rc)
        rc = simrun(&c->sp, sd, devs->n, w, mem, n, 0, &model, res);
    free(sd);
    free(w);
    free(mem);
    free(width);
    return rc;
}

/* Sets prior_units: the makespan of the tasks not done (a resumed run's
 * done ones left out) as the policy would reach it with every device at its
 * prior and each task taking weight / speed; -1 when it cannot be had. */
static void plan_prior(struct runner *r)
{
    size_t n = r->c->tasks->n;
    bool *skip = calloc(n ? n : 1, sizeof *skip);
    struct simrun_result res = {0};
    r->prior_units = -1;
    for (size_t i = 0; skip && i < n; i++)
        skip[i] = r->rec.tasks[i].status == REC_RESUMED;
    if (skip && !runner_simulate(r->c, skip, &res) && res.tasks_unrun == 0)
        r->prior_units = res.makespan_s;
    simrun_result_free(&res);
    free(skip);
}

/* Fills each pdev's speed, learned and rel (progress_rel_speeds): a device
 * without a task done in this run has only its prior. */
static void rel_speeds(struct runner *r)
{
    size_t nd = r->c->devs->n;
    double *v = calloc(3 * (nd ? nd : 1), sizeof *v);
    bool *learned = calloc(nd ? nd : 1, sizeof *learned);
    for (size_t d = 0; v && learned && d < nd; d++) {
        struct sched_dev_stats ds;
        sched_dev_stats(r->s, d, &ds);
        v[d] = r->pdev[d].speed = ds.speed_estimate;
        v[nd + d] = r->c->devs->v[d].speed > 0 ? r->c->devs->v[d].speed : 1;
        learned[d] = r->pdev[d].learned = ds.tasks_done > 0 && ds.speed_estimate > 0;
    }
    if (v && learned) {
        progress_rel_speeds(v, v + nd, learned, nd, v + 2 * nd);
        for (size_t d = 0; d < nd; d++)
            r->pdev[d].rel = v[2 * nd + d];
    }
    free(v);
    free(learned);
}

/* The ETA before any task of this run finished: the simulated makespan in
 * prior units (prior_units) times the seconds one unit takes, which nothing
 * has measured yet. What is known: no running task has finished, so a unit
 * takes at least lo = max over running tasks of elapsed x prior speed /
 * weight. With nothing else known about the scale, the median guess is twice
 * that (a scale-invariant prior: P(T > 2e | T > e) = 1/2). Unknown (-1)
 * until some task has run PRIOR_MIN_S, or without a plan. */
static double prior_eta(const struct runner *r, double now)
{
    double lo = 0, longest = 0;
    for (size_t i = 0; i < r->nw; i++) {
        const struct worker *w = &r->w[i];
        if (w->qn == 0)
            continue;
        size_t ti = w->q[w->qh];
        double e = now - w->head_since, sp = r->c->devs->v[w->dev].speed;
        lo = fmax(lo, e * (sp > 0 ? sp : 1) / r->c->tasks->weight[ti]);
        longest = fmax(longest, e);
    }
    if (r->prior_units < 0 || longest < PRIOR_MIN_S)
        return -1;
    return fmax(0, r->prior_units * 2 * lo - now);
}

/* The ETA now and what it rests on: "done" when every task ended, "learned"
 * once a task of this run finished on some device (sched_eta, from the
 * learned speeds), else "prior" (prior_eta). *eta < 0: unknown. */
static const char *estimate_eta(const struct runner *r, double now, double *eta)
{
    if (sched_finished(r->s)) {
        *eta = 0;
        return "done";
    }
    for (size_t d = 0; d < r->c->devs->n; d++) {
        struct sched_dev_stats ds;
        sched_dev_stats(r->s, d, &ds);
        if (ds.tasks_done > 0) {
            *eta = sched_eta(r->s, now);
            if (!isfinite(*eta))
                *eta = -1;
            return "learned";
        }
    }
    *eta = prior_eta(r, now);
    return "prior";
}

/* Keeps an ETA sample for the report, at most one per eta_every seconds;
 * when ETA_SAMPLES are kept, every other one is dropped and the period
 * doubles, so a long run keeps samples spread over all of it. */
static void sample_eta(struct runner *r, double now, double eta, const char *basis)
{
    if (r->eta_last >= 0 && now - r->eta_last < r->eta_every)
        return;
    if (!r->rec.etas && !(r->rec.etas = malloc(ETA_SAMPLES * sizeof *r->rec.etas)))
        return;
    if (r->rec.netas == ETA_SAMPLES) {
        for (size_t k = 0; k < ETA_SAMPLES / 2; k++)
            r->rec.etas[k] = r->rec.etas[2 * k];
        r->rec.netas = ETA_SAMPLES / 2;
        r->eta_every *= 2;
    }
    r->rec.etas[r->rec.netas++] = (struct rec_eta){now, eta, basis};
    r->eta_last = now;
}

static void draw(struct runner *r, double now, bool final)
{
    if (r->c->quiet)
        return;
    rel_speeds(r);
    for (size_t d = 0; d < r->c->devs->n; d++) {
        struct sched_dev_stats ds;
        sched_dev_stats(r->s, d, &ds);
        struct progress_dev *p = &r->pdev[d];
        p->name = r->c->devs->v[d].name;
        p->running = ds.running;
        p->quarantined = ds.quarantined || r->dev_dead[d];
        p->task = -1;
        for (size_t i = 0; i < r->nw; i++) {
            const struct worker *w = &r->w[i];
            if ((size_t)w->dev == d && w->qn > 0) {
                p->task = (long long)r->c->tasks->id[w->q[w->qh]];
                p->task_elapsed = now - w->head_since;
                break;
            }
        }
    }
    size_t n[REC_RESUMED + 1];
    rec_counts(r, n);
    struct progress_state st = {.done = n[REC_DONE] + n[REC_RESUMED],
                                .failed = n[REC_FAILED],
                                .running = sched_count(r->s, SCHED_RUNNING),
                                .total = sched_ntasks(r->s),
                                .elapsed = now,
                                .devs = r->pdev,
                                .ndevs = r->c->devs->n};
    st.eta_basis = estimate_eta(r, now, &st.eta);
    progress_draw(&r->prog, &st, final);
}

/* A multi-device task runs on its first device's worker: shows it running
 * on the group's other devices too. */
static void state_members(const struct runner *r, struct status_dev *sd)
{
    for (size_t i = 0; r->wide && i < r->nw; i++) {
        const struct worker *w = &r->w[i];
        if (w->qn == 0)
            continue;
        size_t g[SCHED_MAX_WIDTH], ti = w->q[w->qh];
        size_t n = sched_task_devices(r->s, ti, g, SCHED_MAX_WIDTH);
        for (size_t k = 1; k < n && k < SCHED_MAX_WIDTH; k++) {
            struct status_dev *v = &sd[g[k]];
            if (v->nrunning < STATUS_RUNNING_MAX)
                v->running[v->nrunning] = r->c->tasks->id[ti];
            v->nrunning++;
        }
    }
}

/* Rewrites RUN_DIR/state.json for `shotq status` (report/status.h): at most
 * once a second, and always when final (every task ended). A failure is
 * logged once; the run goes on (status then shows an older state). */
static void write_state(struct runner *r, double now, bool final)
{
    static double last = -1; /* one run per process; a new run restarts now */
    static bool warned;
    if (!final && last >= 0 && now >= last && now - last < 1.0)
        return;
    last = now;
    size_t nd = r->c->devs->n;
    struct status_dev *sd = calloc(nd ? nd : 1, sizeof *sd);
    if (!sd)
        return;
    static const char *const qnames[] = {"ok", "resting", "probing", "retired"};
    rel_speeds(r);
    for (size_t d = 0; d < nd; d++) {
        struct sched_dev_stats ds;
        sched_dev_stats(r->s, d, &ds);
        struct status_dev *v = &sd[d];
        snprintf(v->name, sizeof v->name, "%s", r->c->devs->v[d].name);
        snprintf(v->state, sizeof v->state, "%s",
                 r->dev_dead[d]                       ? "dead"
                 : r->busy[d] && r->qstate[d] == Q_OK ? "busy"
                                                      : qnames[r->qstate[d] & 3]);
        v->speed = ds.speed_estimate;
        v->speed_rel = r->pdev[d].rel;
        v->learned = r->pdev[d].learned;
        v->busy_s = ds.busy_s;
        v->probe_at = ds.quarantined && !ds.retired ? ds.probe_at : -1;
        v->done = ds.tasks_done;
        v->failed = ds.tasks_failed;
        for (size_t i = 0; i < r->nw; i++) {
            const struct worker *w = &r->w[i];
            if ((size_t)w->dev != d)
                continue;
            v->slots++;
            bool runs = w->qn > 0 && !w->cancelled; /* a cancelled copy is over */
            if (runs && v->nrunning < STATUS_RUNNING_MAX)
                v->running[v->nrunning] = r->c->tasks->id[w->q[w->qh]];
            v->nrunning += runs;
            v->queued += w->qn > 1 ? (size_t)w->qn - 1 : 0;
        }
        double cap = now * (v->slots ? v->slots : 1);
        v->utilisation = cap > 0 ? fmin(1.0, ds.busy_s / cap) : 0;
    }
    state_members(r, sd);
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    struct status_state st = {.pid = (long)getpid(),
                              .updated = (double)rt.tv_sec + (double)rt.tv_nsec * 1e-9,
                              .elapsed = now,
                              .total = (int64_t)r->c->tasks->n,
                              .finished = final,
                              .devs = sd,
                              .ndevs = nd};
    st.started = st.updated - now;
    const char *basis = estimate_eta(r, now, &st.eta);
    snprintf(st.eta_basis, sizeof st.eta_basis, "%s", basis);
    if (!final)
        sample_eta(r, now, st.eta, basis);
    gethostname(st.host, sizeof st.host - 1);
    char err[512];
    if (status_write_state(r->c->run_dir, &st, err, sizeof err) && !warned) {
        warned = true;
        progress_clear(&r->prog);
        log_msg(LOG_WARN, "%s (shotq status shows an older state)", err);
    }
    free(sd);
}

/* Multi-node runs dispatch nothing until every worker has started (or failed
 * to), for at most START_GATE_S: remote workers start later than local ones,
 * and short tasks would otherwise all go to the first devices up, whose
 * learned speeds then keep the others idle (tail guard). */
static bool gate_open(struct runner *r, double now)
{
    if (r->gate_opened || !r->c->remote || now >= START_GATE_S)
        return r->gate_opened = true;
    for (size_t i = 0; i < r->nw; i++)
        if (r->w[i].state == W_STARTING)
            return false;
    return r->gate_opened = true;
}

/* ---- setup and the loop ---- */

static void restore_done(void *ctx, int64_t id)
{
    struct runner *r = ctx;
    long ti = tasks_find(r->c->tasks, id);
    if (ti >= 0) {
        sched_restore_done(r->s, (size_t)ti);
        r->rec.tasks[ti].status = REC_RESUMED;
    }
}

/* Journal replay: attempt numbers of this run continue after the highest
 * one an earlier run started, so no log of an earlier attempt is reused. */
static void restore_attempt(void *ctx, int64_t id, int attempt)
{
    struct runner *r = ctx;
    long ti = tasks_find(r->c->tasks, id);
    if (ti >= 0 && attempt > r->abase[ti])
        r->abase[ti] = attempt;
}

/* Raises each task's attempt base past the logs already in RUN_DIR/logs:
 * a worker may have created task-ID.N.* for an attempt the journal never
 * recorded (the coordinator died between sending it and journalling its
 * start); the next attempt must not collide with it. Empty logs are
 * removed. A missing directory is fine. */
static void restore_log_attempts(struct runner *r)
{
    char logs[4200];
    snprintf(logs, sizeof logs, "%s/logs", r->c->run_dir);
    DIR *d = opendir(logs);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));) {
        long long id;
        int attempt, end = 0;
        if (sscanf(e->d_name, "task-%lld.%d.%*3[a-z]%n", &id, &attempt, &end) != 2 ||
            e->d_name[end] != '\0' || attempt <= 0)
            continue;
        restore_attempt(r, (int64_t)id, attempt);
        /* An attempt running when the coordinator died may have left empty
         * files (a finished one never does); they say nothing. */
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISREG(st.st_mode) && st.st_size == 0)
            unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

/* RUN_DIR/logs must be a real directory: logs are never written through a
 * symlink. Returns 0, or -ELOOP / -ENOTDIR with err set. */
static int check_logs_dir(const char *run_dir, char *err, size_t errlen)
{
    char logs[4200];
    struct stat st;
    snprintf(logs, sizeof logs, "%s/logs", run_dir);
    if (lstat(logs, &st))
        return 0; /* created later */
    if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%.900s: is %s; refusing to write task logs there", logs,
                 S_ISLNK(st.st_mode) ? "a symbolic link" : "not a directory");
        return S_ISLNK(st.st_mode) ? -ELOOP : -ENOTDIR;
    }
    return 0;
}

static int handle_signals(struct runner *r)
{
    unsigned char sigs[64];
    ssize_t n;
    int got = 0;
    while ((n = read(r->sigpipe[0], sigs, sizeof sigs)) > 0) {
        for (ssize_t k = 0; k < n; k++) {
            if (sigs[k] != SIGINT && sigs[k] != SIGTERM)
                continue;
            got = 1;
            r->interrupts++;
            progress_clear(&r->prog);
            if (r->interrupts == 1) {
                sched_drain(r->s);
                log_msg(
                    LOG_WARN,
                    "interrupted: no new tasks; waiting for %zu running (interrupt again "
                    "to kill them)",
                    sched_count(r->s, SCHED_RUNNING));
            } else if (r->interrupts == 2) {
                log_msg(LOG_WARN, "killing running tasks");
                for (size_t i = 0; i < r->nw; i++)
                    if (r->w[i].state != W_DEAD)
                        worker_kill(r, &r->w[i]);
            }
        }
    }
    return got;
}

/* Ends the local workers (their sockets are closed): each gets STOP_GRACE_S
 * to exit, then is killed with its group; reaped without a blocking wait on a
 * live process. */
static void stop_local_workers(struct runner *r)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (bool left = true; left;) {
        left = false;
        handle_signals(r);
        clock_gettime(CLOCK_MONOTONIC, &t);
        double waited =
            (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) * 1e-9;
        for (size_t i = 0; i < r->nw; i++) {
            struct worker *w = &r->w[i];
            if (w->state == W_DEAD || w->rank != 0)
                continue;
            int st;
            pid_t p = waitpid(w->pid, &st, WNOHANG);
            if (p == 0 && waited > STOP_GRACE_S)
                kill(-w->pid, SIGKILL); /* reaped on a later turn */
            if (p == 0 || (p < 0 && errno == EINTR)) {
                left = true;
                continue;
            }
            w->state = W_DEAD;
        }
        if (left) {
            struct timespec ts = {0, 2 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
}

/* Fills the device part of the record and the makespan. */
static void finish_record(struct runner *r)
{
    double makespan = 0;
    for (size_t i = 0; i < r->rec.ntasks; i++) {
        const struct rec_task *t = &r->rec.tasks[i];
        if ((t->status == REC_DONE || t->status == REC_FAILED) && t->end_s > makespan)
            makespan = t->end_s;
    }
    r->rec.makespan_s = makespan;
    r->rec.lower_bound_s = sched_lower_bound(r->s);
    for (size_t i = 0; i < r->rec.ntasks; i++) {
        if (r->rec.tasks[i].status == REC_DONE)
            r->rec.tasks[i].cost = sched_task_cost(r->s, i);
        /* A cost measured before stays in the report: the next --costs-from
         * (or resume) of this run finds every task's history, not only
         * this run's. */
        else if (r->rec.tasks[i].status == REC_RESUMED && r->c->cost_known &&
                 r->c->cost_known[i])
            r->rec.tasks[i].cost = r->c->tasks->weight[i];
    }
    for (size_t d = 0; d < r->rec.ndevs; d++) {
        struct sched_dev_stats ds;
        sched_dev_stats(r->s, d, &ds);
        struct rec_device *v = &r->rec.devs[d];
        v->speed_estimate = ds.speed_estimate;
        v->busy_s = ds.busy_s;
        v->tasks_done = ds.tasks_done;
        v->quarantined = ds.quarantined || r->dev_dead[d];
    }
}

/* Prints one failed task: why, and its last attempt's logs, only those
 * that exist. */
static void print_failure(const struct runner *r, const struct rec_task *t,
                          const struct rec_fail *f)
{
    char logs[9000] = "none (no output)";
    uint32_t have = f ? f->logs : 0;
    size_t len = 0;
    for (int k = 0; k < 2; k++) {
        char p[4400];
        if (!(have & (1u << k)))
            continue;
        worker_log_path(p, sizeof p, r->c->run_dir, (long long)t->id, f->attempt,
                        k ? "err" : "out");
        len += (size_t)snprintf(logs + len, sizeof logs - len, "%s%s", len ? ", " : "", p);
    }
    /* Logs stay on the node that ran the task. */
    bool remote = t->dev >= 0 && r->c->remote && r->c->remote->dev_rank[t->dev] != 0;
    fprintf(stderr, "  task %" PRId64 ": %s after %d attempt(s); logs: %s%s%s\n", t->id,
            f ? f->why : "", t->attempts, logs, remote ? " on node " : "",
            remote ? r->c->devs->v[t->dev].node : "");
}

/* Prints which tasks failed and where their logs are, and how many never
 * finished (notrun: pending in report.json). */
static void print_failures(const struct runner *r, size_t notrun)
{
    size_t shown = 0, nfailed = 0;
    for (size_t i = 0; i < r->rec.ntasks; i++)
        nfailed += r->rec.tasks[i].status == REC_FAILED;
    if (notrun)
        fprintf(stderr,
                "shotq: %zu task(s) not run (status \"pending\" in report.json)\n",
                notrun);
    if (!nfailed)
        return;
    fprintf(stderr, "shotq: %zu task(s) failed:\n", nfailed);
    for (size_t i = 0; i < r->rec.ntasks && shown < 20; i++) {
        const struct rec_task *t = &r->rec.tasks[i];
        if (t->status != REC_FAILED)
            continue;
        shown++;
        const struct rec_fail *f = NULL;
        for (size_t k = r->rec.nfails; k-- > 0 && !f;)
            if (r->rec.fails[k].task == i)
                f = &r->rec.fails[k];
        print_failure(r, t, f);
    }
    if (nfailed > shown)
        fprintf(stderr, "  ... and %zu more (see report.json)\n", nfailed - shown);
}

static int setup(struct runner *r)
{
    const struct runner_config *c = r->c;
    size_t n = c->tasks->n, nd = c->devs->n;
    r->rec.tasks = calloc(n ? n : 1, sizeof *r->rec.tasks);
    r->rec.devs = calloc(nd, sizeof *r->rec.devs);
    r->depth = calloc(nd, sizeof *r->depth);
    r->wall_avg = calloc(nd, sizeof *r->wall_avg);
    r->dev_dead = calloc(nd, sizeof *r->dev_dead);
    r->qstate = calloc(nd, sizeof *r->qstate);
    r->abase = calloc(n ? n : 1, sizeof *r->abase);
    r->pdev = calloc(nd, sizeof *r->pdev);
    r->busy = calloc(nd ? nd : 1, sizeof *r->busy);
    r->last_refresh = -1;
    const char *rs = getenv("SHOTQ_REFRESH_S");
    r->refresh_s = rs && strtod(rs, NULL) > 0 ? strtod(rs, NULL) : REFRESH_S;
    int slots = c->sp.policy == SCHED_MEMFREE ? (int)nd * c->sp.slots : c->sp.slots;
    r->nw = nd * (size_t)slots;
    r->w = calloc(r->nw, sizeof *r->w);
    r->s = sched_create(&c->sp);
    if (!r->rec.tasks || !r->rec.devs || !r->depth || !r->wall_avg || !r->dev_dead ||
        !r->qstate || !r->abase || !r->pdev || !r->busy || !r->w || !r->s)
        return -ENOMEM;
    r->rec.ntasks = n;
    r->rec.ndevs = nd;
    r->rec.policy = sched_policy_name(c->sp.policy);
    r->rec.run_dir = c->run_dir;
    size_t pool = 0;
    for (size_t i = 0; i < n; i++) {
        r->rec.tasks[i].id = c->tasks->id[i];
        r->rec.tasks[i].dev = -1;
        if (sched_add_task(r->s, c->tasks->weight[i], c->tasks->mem[i]) < 0)
            return -ENOMEM;
        int width = c->tasks->width ? c->tasks->width[i] : 1;
        if (width > 1) {
            r->wide = true;
            r->rec.tasks[i].devs_off = (uint32_t)pool;
            pool += (size_t)width;
            if (sched_set_task_width(r->s, i, width))
                return -EINVAL;
        }
    }
    if (pool && !(r->rec.devpool = calloc(pool, sizeof *r->rec.devpool)))
        return -ENOMEM;
    for (size_t d = 0; d < nd; d++) {
        const struct dev_info *v = &c->devs->v[d];
        /* CPU devices share host memory with everything else: no admission. */
        uint64_t mem = v->kind == DEV_CPU ? 0 : v->mem_total;
        int rank = c->remote ? c->remote->dev_rank[d] : 0;
        if (sched_add_device(r->s, v->speed > 0 ? v->speed : 1.0, mem, rank) < 0)
            return -ENOMEM;
        if (v->kind == DEV_GPU && v->mem_total >= v->mem_free)
            sched_set_foreign_mem(r->s, d, v->mem_total - v->mem_free);
        r->depth[d] = 1;
        struct rec_device *rd = &r->rec.devs[d];
        snprintf(rd->name, sizeof rd->name, "%s", v->name);
        snprintf(rd->node, sizeof rd->node, "%s", v->node);
        rd->kind = dev_kind_name(v->kind);
        rd->slots = slots;
        for (int s = 0; s < slots; s++) {
            struct worker *w = &r->w[d * (size_t)slots + (size_t)s];
            w->dev = (int)d;
            w->slot = s;
            w->fd = -1;
            w->rank = rank;
        }
    }
    return 0;
}

/* Opens the run: checks RUN_DIR/logs, opens the journal (replaying it on
 * resume), takes the run-directory lock, creates logs/, cleans a dead run's
 * temp files, becomes a child subreaper and starts the guard, restores
 * attempt numbers and starts the scheduler. Returns 0, or the exit status (2
 * for a bad or busy run directory, 1 otherwise) with the reason logged. */
static int open_run(struct runner *r, int *lock_fd)
{
    const struct runner_config *c = r->c;
    char err[1024] = "";
    if (check_logs_dir(c->run_dir, err, sizeof err)) {
        log_msg(LOG_ERROR, "%s", err);
        return 2;
    }
    struct jrnl_run run = {.fingerprint = c->fingerprint,
                           .command = c->command_fp,
                           .what = c->what,
                           .tasks = c->tasks};
    enum jrnl_mode mode = c->retry_failed ? JRNL_RETRY_FAILED
                          : c->resume     ? JRNL_RESUME
                                          : JRNL_NEW;
    int rc = jrnl_open_run(c->run_dir, &run, mode, restore_done, r, &r->j, err,
                           sizeof err);
    if (rc) {
        util_fill_err(err, sizeof err, c->run_dir, rc); /* never an empty line */
        log_msg(LOG_ERROR, "%s", err);
        return 2;
    }
    /* One coordinator per run directory: a second resume would run every
     * remaining task twice into one journal. */
    if ((rc = jrnl_lock(c->run_dir, lock_fd, err, sizeof err))) {
        log_msg(LOG_ERROR, "%s", err);
        return 2;
    }
    char logs[4200];
    snprintf(logs, sizeof logs, "%s/logs", c->run_dir);
    if (mkdir(logs, 0777) && errno != EEXIST) {
        log_msg(LOG_ERROR, "%s: cannot create: %s", logs, strerror(errno));
        return 1;
    }
    /* A killed run may have left half-written reports behind. */
    if (c->resume)
        atomic_clean_stale(c->run_dir);
    /* Orphans of a killed worker's tasks come to us, not to init; the guard
     * covers our own death. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    if ((rc = guard_start(c->self_exe, &r->guard)))
        log_msg(LOG_WARN, "cannot start the guard (%s): processes of a killed worker may "
                "outlive it", strerror(-rc));
    if (c->resume && (rc = jrnl_attempts(c->run_dir, restore_attempt, r))) {
        log_msg(LOG_ERROR, "%s/journal: cannot read: %s", c->run_dir, strerror(-rc));
        return 1;
    }
    if (c->resume)
        restore_log_attempts(r);
    rc = sched_start(r->s);
    if (rc && rc != -E2BIG) {
        log_msg(LOG_ERROR, "out of memory");
        return 1;
    }
    if (rc == -E2BIG) /* the CLI checks this before the journal; memory may have changed */
        sched_abandon(r->s);
    plan_prior(r);
    r->eta_every = 1.0;
    r->eta_last = -1;
    return 0;
}

/* Waits for a worker message, a signal, the next timeout or redraw, and
 * handles what came. pf and pw have room for every worker plus one. Returns
 * false when poll failed (the loop ends). */
static bool wait_and_read(struct runner *r, struct pollfd *pf, struct worker **pw,
                          double now)
{
    const struct runner_config *c = r->c;
    nfds_t np = 0;
    pf[np] = (struct pollfd){r->sigpipe[0], POLLIN, 0};
    pw[np++] = NULL;
    int wait_ms = c->timeout_s > 0 ? 50 : 250;
    if (r->refresh_s * 1000 < wait_ms)
        wait_ms = r->refresh_s * 1000 >= 1 ? (int)(r->refresh_s * 1000) : 1;
    for (size_t i = 0; i < r->nw; i++) {
        struct worker *w = &r->w[i];
        if (w->state == W_CLOSING && w->rank == 0)
            wait_ms = 2; /* reap it soon */
        if (w->state == W_DEAD || w->state == W_CLOSING || w->rank != 0)
            continue;
        pf[np] = (struct pollfd){w->fd, POLLIN, 0};
        pw[np++] = w;
    }
    /* MPI has no fd to wait on: look at it every REMOTE_POLL_US while
     * messages come, less often when none came for a while. */
    long us = now - r->remote_busy < REMOTE_BUSY_S ? REMOTE_POLL_US : REMOTE_IDLE_POLL_US;
    struct timespec remote_wait = {0, us * 1000L};
    int pr = c->remote ? ppoll(pf, np, &remote_wait, NULL) : poll(pf, np, wait_ms);
    if (pr < 0 && errno != EINTR)
        return false;
    now = elapsed(r);
    if (pf[0].revents)
        handle_signals(r);
    for (nfds_t k = 1; k < np && pr > 0; k++)
        if (pf[k].revents && pw[k]->state != W_DEAD && pw[k]->state != W_CLOSING)
            worker_read(r, pw[k], now);
    if (c->remote)
        remote_read(r, now);
    return true;
}

/* The event loop: one turn reaps, restarts, times out, dispatches, journals,
 * draws and waits. Returns 0 when the run is over, -ENOMEM. */
static int run_loop(struct runner *r)
{
    struct pollfd *pf = calloc(r->nw + 1, sizeof *pf);
    struct worker **pw = calloc(r->nw + 1, sizeof *pw);
    if (!pf || !pw) {
        free(pf);
        free(pw);
        return -ENOMEM;
    }
    double last_draw = -1;
    for (;;) {
        double now = elapsed(r);
        reap_closing(r, now);
        kill_strays(r, now, false);
        restart_workers(r, now);
        check_timeouts(r, now);
        refresh_memory(r, now);
        if (!r->interrupts && gate_open(r, now))
            dispatch(r, now);
        note_devices(r, now);
        if (jrnl_flush(r->j) && !r->io_error) {
            r->io_error = true;
            log_msg(LOG_ERROR, "journal: cannot write (%s): stopping", strerror(errno));
            sched_drain(r->s);
        }
        write_state(r, now, sched_finished(r->s));
        if (sched_finished(r->s))
            break;
        if (sched_count(r->s, SCHED_RUNNING) == 0 && !can_progress(r)) {
            log_msg(LOG_ERROR, "no device can run the remaining tasks");
            sched_abandon(r->s);
            break;
        }
        if (now - last_draw >= (r->prog.tty ? 0.25 : 1.0)) {
            draw(r, now, false);
            last_draw = now;
        }
        if (!wait_and_read(r, pf, pw, now))
            break;
    }
    free(pf);
    free(pw);
    return 0;
}

/* Writes report.json and the outputs the run promised; one that cannot be
 * written is logged in one line. Returns the number not written; *no_report
 * says whether RUN_DIR/report.json was one of them. */
static int write_reports(struct runner *r, bool *no_report)
{
    const struct runner_config *c = r->c;
    char path[4200], why[8400];
    snprintf(path, sizeof path, "%s/report.json", c->run_dir);
    int unwritten = 0;
    *no_report = report_write_json(path, &r->rec, why, sizeof why) != 0;
    if (*no_report) {
        log_msg(LOG_ERROR, "%s", why);
        unwritten++;
    }
    if (c->report_path && report_write_json(c->report_path, &r->rec, why, sizeof why)) {
        log_msg(LOG_ERROR, "--report: %s", why);
        unwritten++;
    }
    if (c->gantt_path && report_write_gantt(c->gantt_path, &r->rec, why, sizeof why)) {
        log_msg(LOG_ERROR, "--gantt: %s", why);
        unwritten++;
    }
    return unwritten;
}

/* Ends the run: final draw, stops the workers and kills strays, writes the
 * reports, prints the failures and the final line. Returns the exit status:
 * 130 after an interrupt, 1 when a task failed or did not run, the journal
 * or a promised output could not be written, else 0. */
static int finish_run(struct runner *r)
{
    const struct runner_config *c = r->c;
    draw(r, elapsed(r), true);
    jrnl_flush(r->j);
    /* Stop the workers: closing the socket ends them. */
    for (size_t i = 0; i < r->nw; i++) {
        struct worker *w = &r->w[i];
        if (w->state == W_DEAD || w->rank != 0)
            continue; /* remote workers stop with their node's agent */
        close(w->fd);
        w->fd = -1;
    }
    stop_local_workers(r);
    kill_strays(r, elapsed(r), true);
    finish_record(r);
    bool no_report;
    int unwritten = write_reports(r, &no_report);
    size_t n[REC_RESUMED + 1];
    rec_counts(r, n);
    size_t nfailed = n[REC_FAILED], notrun = n[REC_PENDING] + n[REC_RUNNING];
    print_failures(r, notrun);
    if (!c->quiet)
        fprintf(
            stderr,
            "shotq: %zu done (%zu of them by an earlier run), %zu failed, %zu not run; "
            "makespan %.3f s (lower bound %.3f s); report %s/report.json%s\n",
            n[REC_DONE] + n[REC_RESUMED], n[REC_RESUMED], nfailed, notrun,
            r->rec.makespan_s, r->rec.lower_bound_s, c->run_dir,
            no_report ? " (not written)" : "");
    handle_signals(r); /* interrupts while the report was written count */
    if (r->interrupts)
        return 130;
    return r->io_error || unwritten || nfailed || notrun ? 1 : 0;
}

/* Frees what setup() and the run allocated. */
static void free_runner(struct runner *r)
{
    sched_destroy(r->s);
    free(r->rec.tasks);
    free(r->rec.fails);
    free(r->rec.cancels);
    free(r->rec.devs);
    free(r->depth);
    free(r->wall_avg);
    free(r->dev_dead);
    free(r->qstate);
    free(r->abase);
    free(r->rec.events);
    free(r->rec.etas);
    free(r->pdev);
    free(r->busy);
    free(r->rec.devpool);
    free(r->w);
}

int runner_run(const struct runner_config *c)
{
    struct runner rr, *r = &rr;
    memset(r, 0, sizeof *r);
    r->c = c;
    r->sigpipe[0] = r->sigpipe[1] = -1;
    int status = 1;
    int lock_fd = -1; /* RUN_DIR/lock, held until the end */
    /* Our handlers stay until the report is written and the journal closed:
     * a burst of interrupts still ends with a report and exit 130. */
    struct sigaction old_int, old_term;
    bool handlers = false;
    if (setup(r)) {
        log_msg(LOG_ERROR, "out of memory");
        goto out;
    }
    if ((status = open_run(r, &lock_fd)) != 0)
        goto out;
    status = 1;
    if (pipe2(r->sigpipe, O_CLOEXEC | O_NONBLOCK)) {
        log_msg(LOG_ERROR, "pipe: %s", strerror(errno));
        goto out;
    }
    g_sigpipe = r->sigpipe[1];
    struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    handlers = true;
    signal(SIGPIPE, SIG_IGN);
    r->prog.f = stderr;
    r->prog.tty = isatty(2) && getenv("TERM") && strcmp(getenv("TERM"), "dumb");
    clock_gettime(CLOCK_MONOTONIC, &r->t0);
    if (run_loop(r)) {
        log_msg(LOG_ERROR, "out of memory");
        goto out;
    }
    status = finish_run(r);
out:
    guard_stop(r->guard);
    if (r->j && jrnl_close(r->j) && status == 0)
        status = 1;
    if (lock_fd >= 0)
        close(lock_fd);
    if (handlers) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
    if (r->sigpipe[0] >= 0) {
        close(r->sigpipe[0]);
        close(r->sigpipe[1]);
        g_sigpipe = -1;
    }
    free_runner(r);
    return status;
}
