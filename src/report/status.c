/* status: the state file and `shotq status`'s view of a run (see status.h). */
#define _GNU_SOURCE
#include "report/status.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal/journal.h"
#include "util/atomic_file.h"
#include "util/escape.h"
#include "util/sysio.h"

/* ---- the state file ---- */

/* The device d as a JSON object, or NULL when out of memory. */
static cJSON *dev_json(const struct status_dev *d, size_t index)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *run = cJSON_CreateArray();
    if (!o || !run) {
        cJSON_Delete(o);
        cJSON_Delete(run);
        return NULL;
    }
    cJSON_AddNumberToObject(o, "index", (double)index);
    cJSON_AddStringToObject(o, "name", d->name);
    cJSON_AddStringToObject(o, "state", d->state);
    cJSON_AddNumberToObject(o, "speed", d->speed);
    cJSON_AddNumberToObject(o, "speed_rel", d->speed_rel);
    cJSON_AddStringToObject(o, "speed_basis", d->learned ? "learned" : "prior");
    cJSON_AddNumberToObject(o, "busy_s", d->busy_s);
    cJSON_AddNumberToObject(o, "utilisation", d->utilisation);
    cJSON_AddNumberToObject(o, "probe_at", d->probe_at);
    cJSON_AddNumberToObject(o, "slots", d->slots);
    cJSON_AddNumberToObject(o, "done", (double)d->done);
    cJSON_AddNumberToObject(o, "failed", (double)d->failed);
    cJSON_AddNumberToObject(o, "nrunning", (double)d->nrunning);
    cJSON_AddNumberToObject(o, "queued", (double)d->queued);
    for (size_t i = 0; i < d->nrunning && i < STATUS_RUNNING_MAX; i++)
        cJSON_AddItemToArray(run, cJSON_CreateNumber((double)d->running[i]));
    cJSON_AddItemToObject(o, "running", run);
    return o;
}

/* The state s as a JSON object (without devices when devs is false). */
static cJSON *state_json(const struct status_state *s, bool devs)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "shotq_state", 1);
    cJSON_AddNumberToObject(o, "pid", (double)s->pid);
    cJSON_AddStringToObject(o, "host", s->host);
    cJSON_AddNumberToObject(o, "started", s->started);
    cJSON_AddNumberToObject(o, "updated", s->updated);
    cJSON_AddNumberToObject(o, "elapsed_s", s->elapsed);
    cJSON_AddNumberToObject(o, "eta_s", s->eta);
    cJSON_AddStringToObject(o, "eta_basis", s->eta_basis);
    cJSON_AddNumberToObject(o, "total", (double)s->total);
    cJSON_AddBoolToObject(o, "finished", s->finished);
    cJSON *arr = devs ? cJSON_AddArrayToObject(o, "devices") : NULL;
    for (size_t d = 0; arr && d < s->ndevs; d++) {
        cJSON *dj = dev_json(&s->devs[d], d);
        if (!dj) {
            cJSON_Delete(o);
            return NULL;
        }
        cJSON_AddItemToArray(arr, dj);
    }
    return o;
}

int status_write_state(const char *run_dir, const struct status_state *s, char *err,
                       size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/state.json", run_dir);
    cJSON *o = state_json(s, true);
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!text) {
        snprintf(err, errlen, "%s: cannot write: out of memory", path);
        return -ENOMEM;
    }
    struct atomic_file a;
    int rc = atomic_open(&a, path, err, errlen);
    if (!rc) {
        fputs(text, a.f);
        fputc('\n', a.f);
        rc = atomic_close(&a, true, err, errlen);
    }
    free(text);
    return rc;
}

/* ---- reading ---- */

/* Reads all of path (at most max bytes) into a malloc'ed NUL-terminated
 * buffer. Returns it, or NULL with errno set. */
static char *read_small(const char *path, size_t max)
{
    int fd = sysio.open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
    if (fd < 0)
        return NULL;
    char *b = malloc(max + 1);
    size_t n = 0;
    while (b && n < max) {
        ssize_t r = read(fd, b + n, max - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    int e = errno;
    sysio.close(fd);
    if (b)
        b[n] = '\0';
    errno = b ? e : ENOMEM;
    return b;
}

/* The number at key in o, or dflt. */
static double num(const cJSON *o, const char *key, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* Copies the string at key in o (or dflt) into out. */
static void str(const cJSON *o, const char *key, const char *dflt, char *out, size_t len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    snprintf(out, len, "%s", cJSON_IsString(v) ? v->valuestring : dflt);
}

/* Fills d from the device object o. */
static void dev_from_json(const cJSON *o, struct status_dev *d)
{
    str(o, "name", "?", d->name, sizeof d->name);
    str(o, "state", "?", d->state, sizeof d->state);
    d->speed = num(o, "speed", 0);
    d->speed_rel = num(o, "speed_rel", 0);
    char basis[16];
    str(o, "speed_basis", "prior", basis, sizeof basis);
    d->learned = !strcmp(basis, "learned");
    d->busy_s = num(o, "busy_s", 0);
    d->utilisation = num(o, "utilisation", 0);
    d->probe_at = num(o, "probe_at", -1);
    d->slots = (int)num(o, "slots", 0);
    d->done = (int64_t)num(o, "done", 0);
    d->failed = (int64_t)num(o, "failed", 0);
    d->nrunning = (size_t)num(o, "nrunning", 0);
    d->queued = (size_t)num(o, "queued", 0);
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(o, "running");
    size_t i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, run)
    {
        if (i < STATUS_RUNNING_MAX && cJSON_IsNumber(v))
            d->running[i++] = (int64_t)v->valuedouble;
    }
}

/* Reads RUN_DIR/state.json into r->st. Returns 0 (r->have_state tells
 * whether there was one), -EINVAL (err set) or -ENOMEM. */
static int read_state(const char *run_dir, struct status_report *r, char *err,
                      size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/state.json", run_dir);
    char *text = read_small(path, 1 << 22);
    if (!text)
        return errno == ENOMEM ? -ENOMEM : 0; /* none yet (or unreadable) */
    cJSON *o = cJSON_Parse(text);
    free(text);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        snprintf(err, errlen, "%s: expected a JSON object (corrupt state file)", path);
        return -EINVAL;
    }
    struct status_state *s = &r->st;
    s->pid = (long)num(o, "pid", 0);
    str(o, "host", "?", s->host, sizeof s->host);
    s->started = num(o, "started", 0);
    s->updated = num(o, "updated", 0);
    s->elapsed = num(o, "elapsed_s", 0);
    s->eta = num(o, "eta_s", -1);
    str(o, "eta_basis", "", s->eta_basis, sizeof s->eta_basis);
    s->total = (int64_t)num(o, "total", -1);
    s->finished = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "finished"));
    const cJSON *devs = cJSON_GetObjectItemCaseSensitive(o, "devices");
    size_t n = (size_t)cJSON_GetArraySize(devs);
    s->devs = calloc(n ? n : 1, sizeof *s->devs);
    if (!s->devs) {
        cJSON_Delete(o);
        return -ENOMEM;
    }
    const cJSON *d;
    cJSON_ArrayForEach(d, devs) dev_from_json(d, &s->devs[s->ndevs++]);
    cJSON_Delete(o);
    r->have_state = true;
    return 0;
}

/* One task event of the journal, for the tally. */
struct tev {
    int64_t task;
    size_t seq; /* line */
    char kind;  /* 's' start, 'd' done, 'f' fail, 'r' retry */
    int attempt;
};

/* What the journal reader collects. */
struct tally {
    struct status_report *r;
    struct tev *v;
    size_t n, cap;
    size_t ecap; /* r->events allocated */
};

/* Appends one element of size sz to *v (n used, *cap allocated). Returns the
 * new element, or NULL when out of memory. */
static void *grow(void **v, size_t *n, size_t *cap, size_t sz)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        void *nv = realloc(*v, nc * sz);
        if (!nv)
            return NULL;
        *v = nv;
        *cap = nc;
    }
    return (char *)*v + (*n)++ * sz;
}

/* jrnl_read's function: collects the header's description, task events and
 * run events. */
static int tally_entry(void *ctx, const struct jrnl_entry *e)
{
    struct tally *t = ctx;
    struct status_report *r = t->r;
    if (e->header) {
        snprintf(r->what, sizeof r->what, "%s", e->header->what);
        return 0;
    }
    static const char kinds[][8] = {"start", "done", "fail", "retry", "cancel"};
    static const char codes[] = "sdfrc";
    for (size_t k = 0; k < 5; k++) {
        if (strcmp(e->ev, kinds[k]))
            continue;
        struct tev *v = grow((void **)&t->v, &t->n, &t->cap, sizeof *v);
        if (!v)
            return -ENOMEM;
        *v = (struct tev){e->task, e->line, codes[k], e->attempt};
        return 0;
    }
    if (e->task >= 0 || !e->ev[0])
        return 0; /* an event of a later version: not ours to count */
    if (!strcmp(e->ev, "epoch") && e->what[0]) /* the task set may have grown */
        snprintf(r->what, sizeof r->what, "%s", e->what);
    struct status_event *ev =
        grow((void **)&r->events, &r->nevents, &t->ecap, sizeof *ev);
    if (!ev)
        return -ENOMEM;
    ev->t = e->t;
    ev->dev = e->dev;
    snprintf(ev->ev, sizeof ev->ev, "%s", e->ev);
    snprintf(ev->detail, sizeof ev->detail, "%s", e->detail);
    return 0;
}

/* Orders task events by task, then line. */
static int cmp_tev(const void *a, const void *b)
{
    const struct tev *x = a, *y = b;
    if (x->task != y->task)
        return (x->task > y->task) - (x->task < y->task);
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Copies the last non-empty line of the file at path (its final 4 KiB are
 * read), escaped, into out. Leaves out "" when there is none. */
static void last_line(const char *path, char *out, size_t len)
{
    out[0] = '\0';
    int fd = sysio.open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
    if (fd < 0)
        return;
    struct stat st;
    char buf[4097];
    ssize_t n = 0;
    if (fstat(fd, &st) == 0) {
        off_t off = st.st_size > 4096 ? st.st_size - 4096 : 0;
        while ((n = pread(fd, buf, 4096, off)) < 0 && errno == EINTR)
            ;
    }
    sysio.close(fd);
    if (n <= 0)
        return;
    size_t e = (size_t)n;
    while (e > 0 && (buf[e - 1] == '\n' || buf[e - 1] == '\r'))
        e--;
    size_t b = e;
    while (b > 0 && buf[b - 1] != '\n')
        b--;
    util_escape(buf + b, e - b, out, len);
}

/* Fills f's log paths and last stderr line: the highest attempt up to a few
 * past the journal's whose .err or .out log exists. */
static void find_logs(const char *run_dir, struct status_fail *f)
{
    for (int a = f->attempt + 4; a >= 1; a--) {
        char e[4200], o[4200];
        snprintf(e, sizeof e, "%s/logs/task-%" PRId64 ".%d.err", run_dir, f->task, a);
        snprintf(o, sizeof o, "%s/logs/task-%" PRId64 ".%d.out", run_dir, f->task, a);
        bool he = access(e, F_OK) == 0, ho = access(o, F_OK) == 0;
        if (!he && !ho)
            continue;
        f->log_attempt = a;
        if (he) {
            snprintf(f->err_path, sizeof f->err_path, "%s", e);
            last_line(e, f->last_line, sizeof f->last_line);
        }
        if (ho)
            snprintf(f->out_path, sizeof f->out_path, "%s", o);
        return;
    }
}

/* Counts the tasks from the sorted events (see status_collect) and collects
 * the failed ones. Returns 0 or -ENOMEM. */
static int count_tasks(const char *run_dir, struct tally *t)
{
    struct status_report *r = t->r;
    size_t fcap = 0;
    for (size_t i = 0; i < t->n;) {
        size_t j = i;
        bool done = false;
        int attempt = 0;    /* highest attempt seen */
        bool ended = false; /* ... and it has ended */
        for (; j < t->n && t->v[j].task == t->v[i].task; j++) {
            done |= t->v[j].kind == 'd';
            if (t->v[j].attempt > attempt)
                ended = false;
            attempt = t->v[j].attempt > attempt ? t->v[j].attempt : attempt;
            ended |= t->v[j].attempt == attempt && t->v[j].kind != 's';
        }
        char last = t->v[j - 1].kind;
        if (done) {
            r->done++;
        } else if (last == 's' || (last == 'r' && !ended)) {
            /* With speculation an older attempt may fail while a later
             * copy runs on. */
            r->running++;
        } else if (last == 'f') {
            r->failed++;
            struct status_fail *f =
                grow((void **)&r->fails, &r->nfails, &fcap, sizeof *f);
            if (!f)
                return -ENOMEM;
            memset(f, 0, sizeof *f);
            f->task = t->v[i].task;
            f->attempt = attempt;
            find_logs(run_dir, f);
        }
        i = j;
    }
    return 0;
}

/* Reads RUN_DIR/lock: the holder's pid and host into r, and whether it still
 * runs. The lock is tried with LOCK_SH | LOCK_NB on a descriptor of our own
 * and released at once (jrnl_lock retries a busy lock for about a second,
 * so this never makes a starting coordinator fail); on this host a pid that
 * no longer exists means gone too (flock may not reach across a network file
 * system). */
static bool coordinator_alive(const char *run_dir, struct status_report *r)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/lock", run_dir);
    int fd = sysio.open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
    if (fd < 0)
        return false;
    char who[300];
    ssize_t n = pread(fd, who, sizeof who - 1, 0);
    who[n > 0 ? n : 0] = '\0';
    sscanf(who, "%ld %255s", &r->pid, r->host);
    int rc;
    while ((rc = flock(fd, LOCK_SH | LOCK_NB)) < 0 && errno == EINTR)
        ;
    bool held = rc < 0 && errno == EWOULDBLOCK;
    if (rc == 0)
        flock(fd, LOCK_UN);
    sysio.close(fd);
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    if (held && r->pid > 0 && !strcmp(host, r->host) && kill((pid_t)r->pid, 0) < 0 &&
        errno == ESRCH)
        held = false;
    return held;
}

/* The total from the header's description ("..., N tasks"), or -1. */
static int64_t total_from_what(const char *what)
{
    const char *p = strrchr(what, ',');
    long long n;
    char tail[16];
    if (p && sscanf(p, ", %lld %15s", &n, tail) == 2 && !strcmp(tail, "tasks") && n >= 0)
        return n;
    return -1;
}

int status_collect(const char *run_dir, struct status_report *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->total = r->pending = -1;
    snprintf(r->host, sizeof r->host, "?");
    struct stat st;
    char jpath[4200];
    snprintf(jpath, sizeof jpath, "%s/journal", run_dir);
    if (stat(jpath, &st) < 0 || !S_ISREG(st.st_mode)) {
        char esc[256];
        snprintf(err, errlen,
                 "'%s' is not a run directory (expected a directory with a journal "
                 "written by shotq run)",
                 util_escape(run_dir, UTIL_ESC_ALL, esc, sizeof esc));
        return -ENOTDIR;
    }
    /* The lock first: a coordinator that ends meanwhile has written its
     * last journal lines before it let go of the lock. */
    bool alive = coordinator_alive(run_dir, r);
    struct tally t = {.r = r};
    int rc = jrnl_read(run_dir, tally_entry, &t, err, errlen);
    if (!rc)
        rc = read_state(run_dir, r, err, errlen);
    if (!rc) {
        qsort(t.v, t.n, sizeof *t.v, cmp_tev);
        rc = count_tasks(run_dir, &t);
    }
    free(t.v);
    if (rc) {
        if (rc == -ENOMEM)
            snprintf(err, errlen, "%s: out of memory", run_dir);
        status_free(r);
        return rc;
    }
    r->total = r->have_state && r->st.total >= 0 ? r->st.total : total_from_what(r->what);
    if (r->total >= 0) {
        int64_t rest = r->total - r->done - r->failed - r->running;
        r->pending = rest > 0 ? rest : 0;
    }
    if (!alive && r->pid == 0 && r->have_state) {
        r->pid = r->st.pid;
        snprintf(r->host, sizeof r->host, "%s", r->st.host);
    }
    r->coord = alive                                                 ? STATUS_LIVE
               : r->have_state && r->st.finished && r->running == 0  ? STATUS_FINISHED
               : r->total >= 0 && r->pending == 0 && r->running == 0 ? STATUS_FINISHED
                                                                     : STATUS_GONE;
    return 0;
}

void status_free(struct status_report *r)
{
    free(r->st.devs);
    free(r->fails);
    free(r->events);
    memset(r, 0, sizeof *r);
}

/* ---- output ---- */

/* The coordinator's state in words, for the text form. */
static void coord_line(FILE *f, const struct status_report *r, double now)
{
    if (r->coord == STATUS_LIVE) {
        fprintf(f, "coordinator: running (pid %ld on %s", r->pid, r->host);
        if (r->have_state && r->st.started > 0)
            fprintf(f, ", for %.0f s", now - r->st.started);
        fputs(")\n", f);
    } else if (r->coord == STATUS_FINISHED) {
        fputs("coordinator: finished (every task ended)\n", f);
    } else {
        fprintf(
            f,
            "coordinator: gone (pid %ld on %s is no longer running: killed, crashed "
            "or interrupted); the run did not finish: shotq run --resume continues it\n",
            r->pid, r->host);
    }
}

/* The per-device lines of the text form. */
static void dev_lines(FILE *f, const struct status_report *r, double now)
{
    if (!r->have_state) {
        fputs("devices: unknown (no state.json yet)\n", f);
        return;
    }
    fprintf(f, "devices (as of %.1f s ago):\n", now - r->st.updated);
    for (size_t d = 0; d < r->st.ndevs; d++) {
        const struct status_dev *v = &r->st.devs[d];
        fprintf(f,
                "  %zu %-16s %-8s speed %.3g (%.0f%% of fastest, %s)  util %3.0f%%  busy "
                "%.1f s  done %" PRId64 "  failed attempts %" PRId64,
                d, v->name, v->state, v->speed, 100 * v->speed_rel,
                v->learned ? "learned" : "prior", 100 * v->utilisation, v->busy_s, v->done,
                v->failed);
        if (v->nrunning && r->coord == STATUS_LIVE) {
            fputs("  running", f);
            for (size_t i = 0; i < v->nrunning && i < STATUS_RUNNING_MAX; i++)
                fprintf(f, " %" PRId64, v->running[i]);
            if (v->queued)
                fprintf(f, " (+%zu queued)", v->queued);
        }
        fputc('\n', f);
    }
}

/* The failed tasks and the run events of the text form. */
static void fail_lines(FILE *f, const struct status_report *r)
{
    char esc[512], esc2[512];
    if (r->nfails)
        fputs("failed tasks:\n", f);
    for (size_t i = 0; i < r->nfails; i++) {
        const struct status_fail *x = &r->fails[i];
        fprintf(f, "  task %" PRId64 " (attempt %d): ", x->task, x->attempt);
        if (x->last_line[0])
            fprintf(f, "%s\n", x->last_line);
        else
            fputs(x->err_path[0] ? "(empty stderr)\n" : "(no stderr log)\n", f);
        if (x->err_path[0] || x->out_path[0])
            fprintf(f, "    logs: %s%s%s\n",
                    util_escape(x->err_path, UTIL_ESC_ALL, esc, sizeof esc),
                    x->err_path[0] && x->out_path[0] ? " " : "",
                    util_escape(x->out_path, UTIL_ESC_ALL, esc2, sizeof esc2));
    }
    if (r->nevents)
        fputs("events:\n", f);
    for (size_t i = 0; i < r->nevents; i++) {
        const struct status_event *e = &r->events[i];
        fprintf(f, "  %8.1f s  ", e->t);
        if (e->dev >= 0)
            fprintf(f, "device %ld: ", e->dev);
        fprintf(f, "%s: %s\n", e->ev,
                util_escape(e->detail, UTIL_ESC_ALL, esc, sizeof esc));
    }
}

char *status_text(const char *run_dir, const struct status_report *r, double now)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    char esc[600];
    fprintf(f, "run %s: %s\n", util_escape(run_dir, UTIL_ESC_ALL, esc, sizeof esc),
            util_escape(r->what, UTIL_ESC_ALL, esc + 300, 300));
    coord_line(f, r, now);
    fprintf(f, "tasks: %" PRId64 " done, %" PRId64 " failed, %" PRId64 " %s, ", r->done,
            r->failed, r->running, r->coord == STATUS_GONE ? "interrupted" : "running");
    if (r->total >= 0)
        fprintf(f, "%" PRId64 " pending (of %" PRId64 ")\n", r->pending, r->total);
    else
        fputs("pending unknown (total unknown)\n", f);
    if (r->coord == STATUS_LIVE && r->have_state && r->st.eta >= 0)
        fprintf(f, "ETA: %.0f s (estimated %.1f s ago%s)\n", r->st.eta,
                now - r->st.updated,
                !strcmp(r->st.eta_basis, "prior")
                    ? "; prior: no task finished yet, from the weights, the speed "
                      "priors and how long the running tasks have run"
                    : "");
    else if (r->coord == STATUS_LIVE)
        fputs("ETA: unknown\n", f);
    dev_lines(f, r, now);
    fail_lines(f, r);
    if (fclose(f)) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Adds n to o at key, or null when n < 0. */
static void add_count(cJSON *o, const char *key, int64_t n)
{
    if (n < 0)
        cJSON_AddNullToObject(o, key);
    else
        cJSON_AddNumberToObject(o, key, (double)n);
}

/* The failed tasks and events as JSON arrays added to o. */
static void add_fails_events(cJSON *o, const struct status_report *r)
{
    cJSON *fa = cJSON_AddArrayToObject(o, "failed_tasks");
    for (size_t i = 0; fa && i < r->nfails; i++) {
        const struct status_fail *x = &r->fails[i];
        cJSON *t = cJSON_CreateObject();
        cJSON_AddNumberToObject(t, "task", (double)x->task);
        cJSON_AddNumberToObject(t, "attempt", x->attempt);
        cJSON_AddStringToObject(t, "stderr", x->err_path);
        cJSON_AddStringToObject(t, "stdout", x->out_path);
        cJSON_AddStringToObject(t, "last_line", x->last_line);
        cJSON_AddItemToArray(fa, t);
    }
    cJSON *ea = cJSON_AddArrayToObject(o, "events");
    for (size_t i = 0; ea && i < r->nevents; i++) {
        const struct status_event *e = &r->events[i];
        cJSON *t = cJSON_CreateObject();
        cJSON_AddNumberToObject(t, "t", e->t);
        cJSON_AddNumberToObject(t, "dev", (double)e->dev);
        cJSON_AddStringToObject(t, "ev", e->ev);
        cJSON_AddStringToObject(t, "detail", e->detail);
        cJSON_AddItemToArray(ea, t);
    }
}

char *status_json(const char *run_dir, const struct status_report *r, double now)
{
    static const char *const coords[] = {"running", "finished", "gone"};
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "run_dir", run_dir);
    cJSON_AddStringToObject(o, "what", r->what);
    cJSON_AddStringToObject(o, "coordinator", coords[r->coord]);
    cJSON_AddNumberToObject(o, "pid", (double)r->pid);
    cJSON_AddStringToObject(o, "host", r->host);
    cJSON_AddNumberToObject(o, "now", now);
    add_count(o, "total", r->total);
    add_count(o, "done", r->done);
    add_count(o, "failed", r->failed);
    add_count(o, "running", r->running);
    add_count(o, "pending", r->pending);
    if (r->have_state) {
        cJSON *st = state_json(&r->st, true);
        if (st)
            cJSON_AddItemToObject(o, "state", st);
    } else {
        cJSON_AddNullToObject(o, "state");
    }
    add_fails_events(o, r);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *out = realloc(s, n + 2);
    if (!out) {
        free(s);
        return NULL;
    }
    out[n] = '\n';
    out[n + 1] = '\0';
    return out;
}
