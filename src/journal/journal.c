/* journal: append-only JSON-lines record of a run (see journal.h). */
#include "journal/journal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tasks/tasks.h"
#include "util/atomic_file.h"
#include "util/escape.h"
#include "util/sysio.h"

struct jrnl {
    int fd;          /* journal file, O_APPEND */
    char *buf;       /* pending lines */
    size_t len, cap; /* bytes pending, capacity */
    bool need_sync;  /* a completion is pending */
};

uint64_t jrnl_hash(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* Creates dir (one level) if missing. Returns 0 or -errno. */
static int ensure_dir(const char *dir)
{
    if (mkdir(dir, 0777) == 0 || errno == EEXIST)
        return 0;
    return -errno;
}

/* Reads a whole file into a NUL-terminated buffer. Returns it or NULL. */
static char *slurp(int fd, size_t *len)
{
    size_t cap = 65536, n = 0;
    char *b = malloc(cap);
    if (!b)
        return NULL;
    for (;;) {
        if (n + 1 >= cap) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) {
                free(b);
                return NULL;
            }
            b = nb;
        }
        ssize_t r = read(fd, b + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(b);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    b[n] = '\0';
    *len = n;
    return b;
}

/* True when task (NULL ok) is a number that is an exact integer task id:
 * 0 to 2^53-1, the ids cJSON's doubles hold exactly (tasks.h TASKS_ID_MAX). */
static bool valid_task_id(const cJSON *task)
{
    if (!cJSON_IsNumber(task))
        return false;
    double v = task->valuedouble;
    return v >= 0 && v <= 9007199254740991.0 && v == floor(v);
}

/* Reads the journal open on fd into a malloc'ed text cut after its last
 * newline (anything after it is a record torn by a crash); *complete is that
 * length. Returns the text, or NULL with err set and errno. */
static char *read_complete(const char *path, int fd, off_t *complete, char *err,
                           size_t errlen)
{
    size_t len;
    errno = 0;
    char *text = slurp(fd, &len);
    if (!text) {
        int e = errno ? errno : EIO;
        snprintf(err, errlen, "%s: cannot read: %s", path, util_errtext(-e));
        errno = e;
        return NULL;
    }
    size_t good = len;
    while (good > 0 && text[good - 1] != '\n')
        good--;
    *complete = (off_t)good;
    text[good] = '\0';
    return text;
}

/* Fills e from the event line o (line lineno). Returns 0, or -EINVAL with err
 * set when its task is not an exact integer id. */
static int parse_entry(const char *path, size_t lineno, const cJSON *o,
                       struct jrnl_entry *e, char *err, size_t errlen)
{
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(o, "ev");
    const cJSON *task = cJSON_GetObjectItemCaseSensitive(o, "task");
    const cJSON *att = cJSON_GetObjectItemCaseSensitive(o, "attempt");
    const cJSON *dev = cJSON_GetObjectItemCaseSensitive(o, "dev");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "t");
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(o, "exit");
    const cJSON *detail = cJSON_GetObjectItemCaseSensitive(o, "detail");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(o, "args");
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(o, "command");
    const cJSON *what = cJSON_GetObjectItemCaseSensitive(o, "what");
    const cJSON *cost = cJSON_GetObjectItemCaseSensitive(o, "cost");
    *e = (struct jrnl_entry){.line = lineno, .ev = "", .task = -1, .dev = -1,
                             .detail = "", .args = "", .command = "", .what = ""};
    if (cJSON_IsString(ev))
        e->ev = ev->valuestring;
    if ((task || !strcmp(e->ev, "done")) && !valid_task_id(task)) {
        /* A rounded or invented id must not mark some task done. */
        snprintf(err, errlen,
                 "%s:%zu: expected \"task\" to be an integer task id from 0 to "
                 "9007199254740991 (2^53-1) (corrupt journal)",
                 path, lineno);
        return -EINVAL;
    }
    if (task)
        e->task = (int64_t)task->valuedouble;
    if (cJSON_IsNumber(att))
        e->attempt = att->valueint;
    /* A device index out of range (a corrupt or hand-edited line) reads as
     * none: casting it would be undefined. */
    if (cJSON_IsNumber(dev) && dev->valuedouble >= 0 && dev->valuedouble < 1e9)
        e->dev = (long)dev->valuedouble;
    if (cJSON_IsNumber(t))
        e->t = t->valuedouble;
    if (cJSON_IsNumber(ex))
        e->exit_code = ex->valueint;
    if (cJSON_IsString(detail))
        e->detail = detail->valuestring;
    if (cJSON_IsString(args))
        e->args = args->valuestring;
    if (cJSON_IsString(cmd))
        e->command = cmd->valuestring;
    if (cJSON_IsString(what))
        e->what = what->valuestring;
    if (cJSON_IsNumber(cost) && isfinite(cost->valuedouble) && cost->valuedouble > 0)
        e->cost = cost->valuedouble;
    return 0;
}

/* Parses the complete journal text (path for messages): line 1 is the header,
 * given to fn as an entry with .header set; every later line as an event.
 * Stops at the first nonzero return of fn and returns it; else 0, or -EINVAL
 * with err set (a line that is no JSON object, a bad task id, an empty
 * journal). */
static int parse_text(const char *path, char *text, jrnl_entry_fn fn, void *ctx,
                      char *err, size_t errlen)
{
    int rc = 0;
    size_t lineno = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line && !rc;
         line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        cJSON *o = cJSON_Parse(line);
        if (!o) {
            snprintf(err, errlen, "%s:%zu: expected a JSON object (corrupt journal)",
                     path, lineno);
            return -EINVAL;
        }
        struct jrnl_entry e;
        if (lineno == 1) {
            struct jrnl_header h = {"", "", ""};
            const cJSON *fp = cJSON_GetObjectItemCaseSensitive(o, "fingerprint");
            const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(o, "command");
            const cJSON *what = cJSON_GetObjectItemCaseSensitive(o, "what");
            snprintf(h.fingerprint, sizeof h.fingerprint, "%s",
                     cJSON_IsString(fp) ? fp->valuestring : "");
            snprintf(h.command, sizeof h.command, "%s",
                     cJSON_IsString(cmd) ? cmd->valuestring : "");
            snprintf(h.what, sizeof h.what, "%s",
                     cJSON_IsString(what) ? what->valuestring : "?");
            e = (struct jrnl_entry){.line = 1, .ev = "", .task = -1, .dev = -1,
                                    .detail = "", .args = "", .command = "",
                                    .what = "", .header = &h};
            rc = fn(ctx, &e);
        } else if (!(rc = parse_entry(path, lineno, o, &e, err, errlen))) {
            rc = fn(ctx, &e);
        }
        cJSON_Delete(o);
    }
    if (!rc && lineno == 0) { /* written by a shotq before headers were atomic */
        snprintf(err, errlen,
                 "%s: expected a journal header, found an empty file (nothing was "
                 "recorded): remove it or use another --run-dir",
                 path);
        rc = -EINVAL;
    }
    return rc;
}

/* One task record of a replayed journal. */
struct rev {
    int64_t task; /* task id */
    size_t seq;   /* its line: the order of the records */
    size_t args;  /* 'D': offset of its arguments in replay.abuf */
    char kind;    /* 'D' def, 's' start, 'd' done, 'f' fail, 'r' retry */
};

/* What replay collected from a journal. */
struct replay {
    struct jrnl_header h; /* line 1 */
    char command[24];     /* command in force: the header's, then each epoch's */
    struct rev *v;        /* task records; sorted by task, then line, after parse */
    size_t n, cap;        /* records, capacity */
    char *abuf;           /* "def" arguments, NUL-terminated back to back */
    size_t alen, acap;    /* bytes used, capacity */
};

/* Makes room for need more bytes (or elements of size sz) at *p. Returns 0
 * or -ENOMEM (nothing changed). */
static int reserve(void **p, size_t *cap, size_t used, size_t need, size_t sz)
{
    if (used + need <= *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 1024;
    while (nc < used + need)
        nc *= 2;
    void *np = realloc(*p, nc * sz);
    if (!np)
        return -ENOMEM;
    *p = np;
    *cap = nc;
    return 0;
}

/* parse_text's function for replay: keeps the header, the command in force
 * and every task record (with a def's arguments). Returns 0 or -ENOMEM. */
static int collect_entry(void *ctx, const struct jrnl_entry *e)
{
    struct replay *rp = ctx;
    if (e->header) {
        rp->h = *e->header;
        snprintf(rp->command, sizeof rp->command, "%s", e->header->command);
        return 0;
    }
    if (e->task < 0) {
        if (!strcmp(e->ev, "epoch") && e->command[0])
            snprintf(rp->command, sizeof rp->command, "%s", e->command);
        return 0;
    }
    static const char names[][8] = {"def", "start", "done", "fail", "retry"};
    static const char kinds[] = "Dsdfr";
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        if (strcmp(e->ev, names[k]))
            continue;
        size_t alen = strlen(e->args) + 1;
        if (reserve((void **)&rp->v, &rp->cap, rp->n, 1, sizeof *rp->v) ||
            (k == 0 && reserve((void **)&rp->abuf, &rp->acap, rp->alen, alen, 1)))
            return -ENOMEM;
        rp->v[rp->n++] = (struct rev){e->task, e->line, rp->alen, kinds[k]};
        if (k == 0) {
            memcpy(rp->abuf + rp->alen, e->args, alen);
            rp->alen += alen;
        }
        return 0;
    }
    return 0; /* an event of a later version */
}

/* Orders task records by task, then line. */
static int cmp_rev(const void *a, const void *b)
{
    const struct rev *x = a, *y = b;
    if (x->task != y->task)
        return (x->task > y->task) - (x->task < y->task);
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Where task index i came from, for messages: "FILE:LINE: ", "--tasks
 * 'RANGE': position P: " or "". */
static const char *task_where(const struct taskset *ts, size_t i, char *buf, size_t len)
{
    char esc[256];
    buf[0] = '\0';
    if (!ts->src || !ts->pos || ts->pos[i] == 0)
        return buf;
    util_escape(ts->src, UTIL_ESC_ALL, esc, sizeof esc);
    if (ts->src_range)
        snprintf(buf, len, "--tasks '%s': position %zu: ", esc, ts->pos[i]);
    else
        snprintf(buf, len, "%s:%zu: ", esc, ts->pos[i]);
    return buf;
}

/* How the journal's tasks compare with the run's. */
struct match {
    int64_t *known;    /* sorted ids the journal defines and the run has */
    size_t nknown;     /* their count */
    size_t nmissing;   /* defined in the journal, absent from the run */
    int64_t missing;   /* the first of them */
    size_t missing_at; /* its def's line */
};

/* Walks the sorted records: each task the journal defines must be in the
 * run with the same arguments (-ESTALE with err naming the first that is
 * not); fills m (m->known allocated, caller frees) and calls on_done for
 * every task recorded done. Returns 0, -ESTALE or -ENOMEM. */
static int match_defs(const char *path, const struct replay *rp,
                      const struct taskset *ts, jrnl_done_fn on_done, void *ctx,
                      struct match *m, char *err, size_t errlen)
{
    m->known = malloc((rp->n ? rp->n : 1) * sizeof *m->known);
    if (!m->known)
        return -ENOMEM;
    for (size_t i = 0; i < rp->n;) {
        size_t j = i;
        const struct rev *def = NULL;
        bool done = false;
        for (; j < rp->n && rp->v[j].task == rp->v[i].task; j++) {
            if (rp->v[j].kind == 'D' && !def)
                def = &rp->v[j];
            done |= rp->v[j].kind == 'd';
        }
        int64_t id = rp->v[i].task;
        i = j;
        long ti = def ? tasks_find(ts, id) : -1;
        if (def && ti < 0 && m->nmissing++ == 0) {
            m->missing = id;
            m->missing_at = def->seq;
        }
        if (ti < 0)
            continue;
        const char *was = rp->abuf + def->args, *now = tasks_args(ts, (size_t)ti);
        if (strcmp(was, now)) {
            char where[512], e1[256], e2[256];
            snprintf(err, errlen,
                     "%stask %" PRId64 ": arguments '%s' differ from '%s' in %s:%zu; "
                     "refusing to resume: a changed task needs a new id, or use "
                     "another --run-dir",
                     task_where(ts, (size_t)ti, where, sizeof where), id,
                     util_escape(now, UTIL_ESC_ALL, e1, sizeof e1),
                     util_escape(was, UTIL_ESC_ALL, e2, sizeof e2), path, def->seq);
            return -ESTALE;
        }
        m->known[m->nknown++] = id;
        if (done)
            on_done(ctx, id);
    }
    return 0;
}

/* Matches a version-2 journal (rp) with the run for mode: the command, then
 * every task (see jrnl_open_run). Sets is_new[i] for the run's tasks the
 * journal does not define, *nnew to their count and *cmd_changed. Returns 0,
 * -ESTALE with err set, or -ENOMEM. */
static int match_run(const char *path, const struct replay *rp, const struct jrnl_run *run,
                     enum jrnl_mode mode, jrnl_done_fn on_done, void *ctx, bool *is_new,
                     size_t *nnew, bool *cmd_changed, char *err, size_t errlen)
{
    char want[32];
    snprintf(want, sizeof want, "%016" PRIx64, run->command);
    *cmd_changed = strcmp(rp->command, want) != 0;
    if (*cmd_changed && mode != JRNL_RETRY_FAILED) {
        snprintf(err, errlen,
                 "%s: made for a different command (%s); refusing to resume: "
                 "--retry-failed runs the tasks not done with a new command, or use "
                 "another --run-dir",
                 path, rp->h.what);
        return -ESTALE;
    }
    const struct taskset *ts = run->tasks;
    struct match m = {0};
    int rc = match_defs(path, rp, ts, on_done, ctx, &m, err, errlen);
    if (!rc && m.nmissing) {
        snprintf(err, errlen,
                 "%s:%zu: task %" PRId64 " (and %zu more) of the journal is not in the "
                 "task set; refusing to resume: the task set must hold every task of "
                 "the run (it may add tasks), or use another --run-dir",
                 path, m.missing_at, m.missing, m.nmissing - 1);
        rc = -ESTALE;
    }
    *nnew = 0;
    for (size_t i = 0; !rc && i < ts->n; i++) {
        is_new[i] = !bsearch(&ts->id[i], m.known, m.nknown, sizeof *m.known, cmp_id);
        *nnew += is_new[i];
        if (is_new[i] && mode == JRNL_RETRY_FAILED) {
            char where[512];
            snprintf(err, errlen,
                     "%stask %" PRId64 " is not in %s; --retry-failed runs the run's own "
                     "tasks only: add tasks with --resume (with the journal's command)",
                     task_where(ts, i, where, sizeof where), ts->id[i], path);
            rc = -ESTALE;
        }
    }
    free(m.known);
    return rc;
}

/* Replays an existing journal (fd) for run and mode: collects it, then
 * matches it (match_run; a journal without "command" in its header, or a
 * run without tasks, by the fingerprint alone). Returns 0, or -ESTALE /
 * -EINVAL / -ENOMEM with err set. *complete is the length of the file up to
 * its last newline: anything after it is a record torn by a crash. is_new,
 * *nnew and *cmd_changed as match_run (all false / 0 for a fingerprint
 * match). */
static int replay(const char *path, int fd, const struct jrnl_run *run,
                  enum jrnl_mode mode, jrnl_done_fn on_done, void *ctx, off_t *complete,
                  bool *is_new, size_t *nnew, bool *cmd_changed, char *err, size_t errlen)
{
    char *text = read_complete(path, fd, complete, err, errlen);
    if (!text)
        return -errno;
    struct replay rp = {0};
    int rc = parse_text(path, text, collect_entry, &rp, err, errlen);
    free(text);
    *nnew = 0;
    *cmd_changed = false;
    if (rc == -ENOMEM)
        snprintf(err, errlen, "%s: cannot replay: out of memory", path);
    if (rc)
        goto out;
    if (rp.n) /* qsort wants a non-null array */
        qsort(rp.v, rp.n, sizeof *rp.v, cmp_rev);
    if (rp.h.command[0] && run->tasks) {
        rc = match_run(path, &rp, run, mode, on_done, ctx, is_new, nnew, cmd_changed,
                       err, errlen);
        goto out;
    }
    char want[32];
    snprintf(want, sizeof want, "%016" PRIx64, run->fingerprint);
    if (strcmp(rp.h.fingerprint, want) || mode == JRNL_RETRY_FAILED) {
        snprintf(err, errlen,
                 "%s: made for a different task set or command (%s); refusing to "
                 "resume: use another --run-dir%s",
                 path, rp.h.what,
                 rp.h.command[0] ? ""
                                 : " (an older shotq wrote it: without per-task records "
                                   "it resumes only the same tasks and command, and not "
                                   "with --retry-failed)");
        rc = -ESTALE;
        goto out;
    }
    for (size_t i = 0; i < rp.n; i++)
        if (rp.v[i].kind == 'd')
            on_done(ctx, rp.v[i].task);
out:
    free(rp.v);
    free(rp.abuf);
    return rc;
}

int jrnl_read(const char *run_dir, jrnl_entry_fn fn, void *ctx, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/journal", run_dir);
    int fd = sysio.open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
        return -e;
    }
    off_t complete;
    char *text = read_complete(path, fd, &complete, err, errlen);
    int rc = text ? parse_text(path, text, fn, ctx, err, errlen) : -errno;
    free(text);
    sysio.close(fd);
    return rc;
}

/* The journal's first line: {"shotq_journal":1|2,"fingerprint",["command",]
 * "what"} (version 2 with command, when run has tasks) and a newline,
 * malloc'ed (caller frees), or NULL when out of memory. */
static char *header_line(const struct jrnl_run *run, size_t *len)
{
    cJSON *h = cJSON_CreateObject();
    char fp[32], cmd[32];
    snprintf(fp, sizeof fp, "%016" PRIx64, run->fingerprint);
    snprintf(cmd, sizeof cmd, "%016" PRIx64, run->command);
    char *s = NULL;
    if (h && cJSON_AddNumberToObject(h, "shotq_journal", run->tasks ? 2 : 1) &&
        cJSON_AddStringToObject(h, "fingerprint", fp) &&
        (!run->tasks || cJSON_AddStringToObject(h, "command", cmd)) &&
        cJSON_AddStringToObject(h, "what", run->what))
        s = cJSON_PrintUnformatted(h);
    cJSON_Delete(h);
    if (s) {
        *len = strlen(s) + 1;
        s[*len - 1] = '\n'; /* cJSON allocated len bytes: the NUL becomes the newline */
    }
    return s;
}

/* Creates run_dir (one level) and its journal with the header complete:
 * the header is written and fdatasync'ed under a temp name, hard-linked to
 * "journal" (which fails if one exists, so two creators cannot both win),
 * and the directory fsync'ed. A journal therefore either has a valid header
 * or does not exist, whatever fails when. *fd is left open for appends.
 * Returns 0 or -errno with err set; on error no journal exists. */
static int create(const char *run_dir, const char *path, const struct jrnl_run *run,
                  const char *body, size_t body_len, int *fd, char *err, size_t errlen)
{
    int rc = ensure_dir(run_dir);
    if (rc) {
        snprintf(err, errlen, "--run-dir '%s': cannot create: %s", run_dir,
                 strerror(-rc));
        return rc;
    }
    size_t n = 0;
    char *line = header_line(run, &n);
    if (!line) {
        snprintf(err, errlen, "%s: cannot write the header: out of memory", path);
        return -ENOMEM;
    }
    char tmp[4200];
    int f = atomic_create_tmp(path, tmp, sizeof tmp, err, errlen);
    if (f < 0) {
        free(line);
        return f;
    }
    const char *step = "write", *name = tmp;
    rc = sysio_write_all(f, line, n);
    free(line);
    if (!rc && body_len)
        rc = sysio_write_all(f, body, body_len);
    if (!rc && (step = "fdatasync", sysio.fdatasync(f)))
        rc = -errno;
    if (!rc && (step = "create", name = path, sysio.link(tmp, path)))
        rc = -errno;
    unlink(tmp);
    if (rc == -EEXIST)
        snprintf(err, errlen,
                 "--run-dir '%s' already holds a run (journal); pass --resume to "
                 "continue it or choose another --run-dir",
                 run_dir);
    else if (rc)
        snprintf(err, errlen, "%s: cannot %s: %s", name, step, strerror(-rc));
    else if ((rc = sysio_sync_dir(run_dir)) != 0) {
        unlink(path); /* not durable: no journal rather than one that may vanish */
        snprintf(err, errlen, "%s: cannot fsync directory: %s", run_dir, strerror(-rc));
    } else if (fcntl(f, F_SETFL, O_APPEND) < 0) {
        rc = -errno;
        unlink(path);
        snprintf(err, errlen, "%s: cannot append: %s", path, strerror(-rc));
    }
    if (rc)
        sysio.close(f);
    else
        *fd = f;
    return rc;
}

/* jrnl_attempts' state: the caller's callback. */
struct attempts_ctx {
    jrnl_attempt_fn fn; /* the caller's callback */
    void *ctx;          /* its context */
};

/* Passes a task event's attempt on; skips the header and run notes. */
static int on_attempt_entry(void *ctx, const struct jrnl_entry *e)
{
    const struct attempts_ctx *a = ctx;
    if (!e->header && e->task >= 0 && e->attempt >= 1 &&
        (!strcmp(e->ev, "start") || !strcmp(e->ev, "done") || !strcmp(e->ev, "fail") ||
         !strcmp(e->ev, "retry") || !strcmp(e->ev, "cancel")))
        a->fn(a->ctx, e->task, e->attempt);
    return 0;
}

int jrnl_attempts(const char *run_dir, jrnl_attempt_fn on_attempt, void *ctx)
{
    struct attempts_ctx a = {on_attempt, ctx};
    char err[512];
    return jrnl_read(run_dir, on_attempt_entry, &a, err, sizeof err);
}

static int append(struct jrnl *j, const char *line, size_t n);

/* Buffers a "def" line for each task of ts with is_new[i] (all when is_new
 * is NULL). Returns 0 or -ENOMEM. */
static int add_defs(struct jrnl *j, const struct taskset *ts, const bool *is_new)
{
    for (size_t i = 0; i < ts->n; i++) {
        if (is_new && !is_new[i])
            continue;
        cJSON *a = cJSON_CreateString(tasks_args(ts, i));
        char *q = a ? cJSON_PrintUnformatted(a) : NULL; /* quoted and escaped */
        cJSON_Delete(a);
        if (!q)
            return -ENOMEM;
        char head[64];
        int n = snprintf(head, sizeof head, "{\"ev\":\"def\",\"task\":%" PRId64 ",\"args\":",
                         ts->id[i]);
        int rc = append(j, head, (size_t)n);
        if (!rc)
            rc = append(j, q, strlen(q));
        if (!rc)
            rc = append(j, "}\n", 2);
        free(q);
        if (rc)
            return rc;
    }
    return 0;
}

/* Buffers the "epoch" line: run's fingerprint, command and description from
 * here on, and detail for a person. Returns 0 or -ENOMEM. */
static int add_epoch(struct jrnl *j, const struct jrnl_run *run, const char *detail)
{
    char fp[32], cmd[32];
    snprintf(fp, sizeof fp, "%016" PRIx64, run->fingerprint);
    snprintf(cmd, sizeof cmd, "%016" PRIx64, run->command);
    cJSON *o = cJSON_CreateObject();
    char *s = NULL;
    if (o && cJSON_AddStringToObject(o, "ev", "epoch") &&
        cJSON_AddNumberToObject(o, "dev", -1) && cJSON_AddNumberToObject(o, "t", 0) &&
        cJSON_AddStringToObject(o, "detail", detail) &&
        cJSON_AddStringToObject(o, "fingerprint", fp) &&
        cJSON_AddStringToObject(o, "command", cmd) &&
        cJSON_AddStringToObject(o, "what", run->what))
        s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    int rc = s ? append(j, s, strlen(s)) : -ENOMEM;
    if (!rc)
        rc = append(j, "\n", 1);
    free(s);
    j->need_sync = true;
    return rc;
}

/* Resume's part of jrnl_open_run on the open journal j (path): replays and
 * matches it, cuts a torn last record and appends the new tasks' defs and an
 * epoch when the task set grew or the command changed. Returns 0 or -errno
 * with err set. */
static int resume_open(struct jrnl *j, const char *path, const struct jrnl_run *run,
                       enum jrnl_mode mode, jrnl_done_fn on_done, void *ctx, char *err,
                       size_t errlen)
{
    size_t n = run->tasks ? run->tasks->n : 0, nnew = 0;
    bool *is_new = calloc(n ? n : 1, sizeof *is_new), cmd_changed = false;
    if (!is_new)
        return -ENOMEM;
    off_t complete = 0;
    int rc = replay(path, j->fd, run, mode, on_done, ctx, &complete, is_new, &nnew,
                    &cmd_changed, err, errlen);
    /* Cut a torn last record so that appends start on a fresh line. */
    struct stat st;
    if (!rc && fstat(j->fd, &st) == 0 && st.st_size != complete &&
        ftruncate(j->fd, complete)) {
        rc = -errno;
        snprintf(err, errlen, "%s: cannot cut a torn record: %s", path, strerror(errno));
    }
    if (!rc && (nnew || cmd_changed)) {
        char detail[160];
        snprintf(detail, sizeof detail, "%s%s%s%zu task(s) added",
                 mode == JRNL_RETRY_FAILED ? "retry-failed" : "resume",
                 cmd_changed ? ": new command" : "", cmd_changed ? ", " : ": ", nnew);
        /* The defs first: a crash between them leaves defined tasks, never an
         * epoch that names tasks it does not define. */
        rc = add_defs(j, run->tasks, is_new);
        if (!rc)
            rc = add_epoch(j, run, detail);
        if (!rc)
            rc = jrnl_flush(j);
        if (rc)
            snprintf(err, errlen, "%s: cannot record the new tasks or command: %s", path,
                     strerror(-rc));
    }
    free(is_new);
    return rc;
}

int jrnl_open_run(const char *run_dir, const struct jrnl_run *run, enum jrnl_mode mode,
                  jrnl_done_fn on_done, void *ctx, struct jrnl **out, char *err,
                  size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/journal", run_dir);
    struct jrnl *j = calloc(1, sizeof *j);
    if (!j)
        return -ENOMEM;
    j->fd = -1;
    int rc;
    if (mode != JRNL_NEW) {
        j->fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
        if (j->fd < 0) {
            rc = -errno;
            snprintf(err, errlen, "%s: %s: %s (nothing to resume)",
                     mode == JRNL_RESUME ? "--resume" : "--retry-failed", path,
                     strerror(errno));
            goto out_free;
        }
        rc = resume_open(j, path, run, mode, on_done, ctx, err, errlen);
        if (rc)
            goto out_close;
    } else {
        rc = run->tasks ? add_defs(j, run->tasks, NULL) : 0;
        if (rc) {
            snprintf(err, errlen, "%s: cannot write the task records: out of memory",
                     path);
            goto out_free;
        }
        rc = create(run_dir, path, run, j->buf, j->len, &j->fd, err, errlen);
        j->len = 0;
        if (rc)
            goto out_free;
    }
    *out = j;
    return 0;
out_close:
    close(j->fd);
out_free:
    free(j->buf);
    free(j);
    return rc;
}

int jrnl_open(const char *run_dir, uint64_t fingerprint, const char *what, bool resume,
              jrnl_done_fn on_done, void *ctx, struct jrnl **out, char *err,
              size_t errlen)
{
    struct jrnl_run run = {.fingerprint = fingerprint, .what = what};
    return jrnl_open_run(run_dir, &run, resume ? JRNL_RESUME : JRNL_NEW, on_done, ctx,
                         out, err, errlen);
}

/* Appends n bytes of line to j's buffer, growing it. Returns 0 or -ENOMEM
 * (the buffer is unchanged). */
static int append(struct jrnl *j, const char *line, size_t n)
{
    if (j->len + n > j->cap) {
        size_t nc = j->cap ? j->cap * 2 : 65536;
        while (nc < j->len + n)
            nc *= 2;
        char *nb = realloc(j->buf, nc);
        if (!nb)
            return -ENOMEM;
        j->buf = nb;
        j->cap = nc;
    }
    memcpy(j->buf + j->len, line, n);
    j->len += n;
    return 0;
}

/* Appends x's fields (each only when set) at line[n..cap). Returns the new
 * length, or cap when they do not fit. */
static size_t put_extra(char *line, size_t n, size_t cap, const struct jrnl_extra *x)
{
    int k = 0;
    if (x && x->gpu_mem_peak && n < cap)
        k = snprintf(line + n, cap - n, ",\"gpu_mem_peak\":%" PRIu64, x->gpu_mem_peak);
    n = k < 0 || (size_t)k >= cap - n ? cap : n + (size_t)k;
    for (size_t i = 0; x && x->ndevs > 1 && i < x->ndevs && n < cap; i++) {
        k = snprintf(line + n, cap - n, "%s%ld", i ? "," : ",\"devs\":[", x->devs[i]);
        n = k < 0 || (size_t)k >= cap - n ? cap : n + (size_t)k;
    }
    if (x && x->ndevs > 1 && n + 1 < cap)
        line[n++] = ']';
    if (x && x->cost > 0 && isfinite(x->cost) && n < cap) {
        k = snprintf(line + n, cap - n, ",\"cost\":%.9g", x->cost);
        n = k < 0 || (size_t)k >= cap - n ? cap : n + (size_t)k;
    }
    return n;
}

int jrnl_record_ext(struct jrnl *j, enum jrnl_event ev, int64_t task, int attempt,
                    long dev, double t, int exit_code, const struct jrnl_extra *x)
{
    static const char *const names[] = {"start", "done", "fail", "retry", "cancel"};
    char line[1024];
    int n;
    if (ev == JRNL_START)
        n = snprintf(line, sizeof line,
                     "{\"ev\":\"start\",\"task\":%" PRId64 ",\"attempt\":%d,\"dev\":%ld,"
                     "\"t\":%.6f",
                     task, attempt, dev, t);
    else
        n = snprintf(line, sizeof line,
                     "{\"ev\":\"%s\",\"task\":%" PRId64 ",\"attempt\":%d,\"dev\":%ld,"
                     "\"t\":%.6f,\"exit\":%d",
                     names[ev], task, attempt, dev, t, exit_code);
    if (n < 0 || (size_t)n >= sizeof line)
        return -EINVAL;
    size_t len = put_extra(line, (size_t)n, sizeof line - 2, x);
    if (len >= sizeof line - 2)
        return -EINVAL;
    line[len++] = '}';
    line[len++] = '\n';
    if (append(j, line, len))
        return -ENOMEM;
    if (ev != JRNL_START)
        j->need_sync = true;
    return 0;
}

int jrnl_record(struct jrnl *j, enum jrnl_event ev, int64_t task, int attempt, long dev,
                double t, int exit_code)
{
    return jrnl_record_ext(j, ev, task, attempt, dev, t, exit_code, NULL);
}

int jrnl_flush(struct jrnl *j)
{
    size_t off = 0;
    while (off < j->len) {
        ssize_t w = sysio.write(j->fd, j->buf + off, j->len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            /* Keep what was not written for the next try. */
            memmove(j->buf, j->buf + off, j->len - off);
            j->len -= off;
            return -e;
        }
        off += (size_t)w;
    }
    j->len = 0;
    if (j->need_sync) {
        if (sysio.fdatasync(j->fd))
            return -errno;
        j->need_sync = false;
    }
    return 0;
}

int jrnl_close(struct jrnl *j)
{
    if (!j)
        return 0;
    int rc = jrnl_flush(j);
    if (sysio.close(j->fd) && !rc)
        rc = -errno;
    free(j->buf);
    free(j);
    return rc;
}

int jrnl_note(struct jrnl *j, const char *ev, long dev, double t, const char *detail)
{
    char line[320];
    int n = snprintf(line, sizeof line,
                     "{\"ev\":\"%s\",\"dev\":%ld,\"t\":%.6f,\"detail\":\"", ev, dev, t);
    /* detail is our own text: escape only what JSON requires. */
    for (const char *p = detail; *p && n > 0 && (size_t)n + 8 < sizeof line; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\')
            line[n++] = '\\';
        line[n++] = c < 0x20 ? ' ' : (char)c;
    }
    if (n < 0 || (size_t)n + 4 > sizeof line)
        return -EINVAL;
    memcpy(line + n, "\"}\n", 3);
    n += 3;
    if (append(j, line, (size_t)n))
        return -ENOMEM;
    j->need_sync = true;
    return 0;
}

int jrnl_lock(const char *run_dir, int *fd, char *err, size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/lock", run_dir);
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (f < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
        return -e;
    }
    int rc;
    /* `shotq status` takes a shared lock for a moment to see whether a
     * coordinator holds it: a busy lock is tried again for about a second
     * before it counts as held by another coordinator. */
    for (int tries = 0; tries < 20; tries++) {
        while ((rc = flock(f, LOCK_EX | LOCK_NB)) < 0 && errno == EINTR)
            ;
        if (rc == 0 || errno != EWOULDBLOCK)
            break;
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (rc < 0) {
        int e = errno;
        char who[256] = "";
        ssize_t n = pread(f, who, sizeof who - 1, 0);
        who[n > 0 ? n : 0] = '\0';
        who[strcspn(who, "\n")] = '\0';
        long pid = 0;
        char host[200] = "?";
        sscanf(who, "%ld %199s", &pid, host);
        if (e == EWOULDBLOCK)
            snprintf(err, errlen,
                     "run directory %s is in use by shotq pid %ld on host %s "
                     "(expected one coordinator per run directory)",
                     run_dir, pid, host);
        else
            snprintf(err, errlen, "%s: cannot lock: %s", path, strerror(e));
        close(f);
        return e == EWOULDBLOCK ? -EBUSY : -e;
    }
    char host[256] = "?", line[320];
    gethostname(host, sizeof host - 1);
    int len = snprintf(line, sizeof line, "%ld %s\n", (long)getpid(), host);
    if (ftruncate(f, 0) || pwrite(f, line, (size_t)len, 0) != len) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(e));
        close(f);
        return -e;
    }
    *fd = f;
    return 0;
}
