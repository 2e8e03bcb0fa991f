/* costhist: per-task costs learned across runs (see costhist.h). */
#include "sched/costhist.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "journal/journal.h"
#include "util/escape.h"

struct hist_entry {
    int64_t id;
    double cost;
    size_t rank; /* preference among entries of the same id, lower wins (gather) */
};

static int cmp_entry(const void *a, const void *b)
{
    const struct hist_entry *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

/* By id, then rank: the first entry of an id is the preferred one. */
static int cmp_entry_rank(const void *a, const void *b)
{
    const struct hist_entry *x = a, *y = b;
    int c = cmp_entry(a, b);
    return c ? c : (x->rank > y->rank) - (x->rank < y->rank);
}

static int cmp_cost(const void *a, const void *b)
{
    double x = ((const struct hist_entry *)a)->cost;
    double y = ((const struct hist_entry *)b)->cost;
    return (x > y) - (x < y);
}

/* Reads a whole file into a NUL-terminated buffer (owned by the caller).
 * Returns NULL with errno set. */
static char *slurp(const char *file)
{
    FILE *f = fopen(file, "re");
    if (!f)
        return NULL;
    size_t len = 0, cap = 65536;
    char *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - len - 1, f);
        if (len < cap - 1)
            break;
        char *nb = realloc(buf, cap *= 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            errno = ENOMEM;
        }
        buf = nb;
    }
    int bad = ferror(f);
    fclose(f);
    if (buf && bad) {
        free(buf);
        errno = EIO;
        return NULL;
    }
    if (buf)
        buf[len] = '\0';
    return buf;
}

/* Collects (id, cost) of the report's tasks with a positive cost into *out
 * (allocated). Returns the count, -EINVAL when json is not a report, -ERANGE
 * with *bad the index of a task whose id is not an integer from 0 to 2^53-1
 * (the ids report.json's doubles hold exactly), or -ENOMEM. */
static long collect(const cJSON *root, struct hist_entry **out, size_t *bad)
{
    const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(root, "tasks");
    if (!cJSON_IsArray(tasks))
        return -EINVAL;
    size_t cap = (size_t)cJSON_GetArraySize(tasks), n = 0;
    *out = malloc((cap ? cap : 1) * sizeof **out);
    if (!*out)
        return -ENOMEM;
    const cJSON *t;
    size_t k = 0;
    cJSON_ArrayForEach(t, tasks)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(t, "id");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(t, "cost");
        double v = cJSON_IsNumber(id) ? id->valuedouble : 0;
        if (id && !(cJSON_IsNumber(id) && v >= 0 && v <= 9007199254740991.0 &&
                    v == floor(v))) {
            *bad = k;
            return -ERANGE;
        }
        k++;
        if (cJSON_IsNumber(id) && cJSON_IsNumber(c) && c->valuedouble > 0 &&
            isfinite(c->valuedouble))
            (*out)[n++] = (struct hist_entry){(int64_t)id->valuedouble, c->valuedouble, 0};
    }
    return (long)n;
}

/* The growing list of entries from both sources. */
struct hist {
    struct hist_entry *v;
    size_t n, cap;
};

static int hist_add(struct hist *h, int64_t id, double cost)
{
    if (h->n == h->cap) {
        size_t nc = h->cap ? h->cap * 2 : 256;
        struct hist_entry *nv = realloc(h->v, nc * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        h->v = nv;
        h->cap = nc;
    }
    h->v[h->n++] = (struct hist_entry){id, cost, 0};
    return 0;
}

/* jrnl_read's function: every "done" with a cost, in journal order. */
static int journal_entry(void *ctx, const struct jrnl_entry *e)
{
    if (e->header || strcmp(e->ev, "done") || e->task < 0 || !(e->cost > 0))
        return 0;
    return hist_add(ctx, e->task, e->cost);
}

/* Reads the report at file (missing or not a regular file: skipped when
 * optional) into h. Returns
 * 0, or -EINVAL / -ENOMEM / -ERANGE with err set (prefix: what to name). */
static int read_report(const char *file, bool optional, const char *what, struct hist *h,
                       char *err, size_t errlen)
{
    char efile[256];
    util_escape(file, UTIL_ESC_ALL, efile, sizeof efile);
    struct stat st;
    if (optional && (stat(file, &st) || !S_ISREG(st.st_mode)))
        return 0; /* a run directory without a report (its journal may have costs) */
    char *text = slurp(file);
    if (!text) {
        snprintf(err, errlen, "%s: cannot read %s: %s", what, efile, util_errtext(-errno));
        return -EINVAL;
    }
    cJSON *root = cJSON_Parse(text);
    free(text);
    struct hist_entry *v = NULL;
    size_t bad = 0;
    long nv = root ? collect(root, &v, &bad) : -EINVAL;
    cJSON_Delete(root);
    int rc = 0;
    for (long k = 0; k < nv && !rc; k++)
        rc = hist_add(h, v[k].id, v[k].cost);
    free(v);
    if (nv == -ENOMEM || rc)
        snprintf(err, errlen, "%s: %s: out of memory", what, efile);
    else if (nv == -ERANGE)
        snprintf(err, errlen,
                 "%s: %s: tasks[%zu]: expected \"id\" to be an integer task id from 0 to "
                 "9007199254740991 (2^53-1)",
                 what, efile, bad);
    else if (nv < 0)
        snprintf(err, errlen, "%s: %s: expected a shotq report.json", what, efile);
    return nv == -ENOMEM || rc ? -ENOMEM : nv < 0 ? -EINVAL : 0;
}

/* Gathers the recorded costs of path: a report file, or a run directory's
 * report.json and journal (a killed run has only the latter). Sorted by id,
 * one entry per id (the report's, else the journal's last). */
static int gather(const char *path, struct hist *h, char *err, size_t errlen)
{
    char what[300], epath[256];
    util_escape(path, UTIL_ESC_ALL, epath, sizeof epath);
    snprintf(what, sizeof what, "--costs-from '%s'", epath);
    struct stat st;
    bool dir = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
    char file[4200];
    snprintf(file, sizeof file, dir ? "%s/report.json" : "%s", path);
    int rc = read_report(file, dir, what, h, err, errlen);
    if (rc)
        return rc;
    size_t nreport = h->n;
    char jerr[512]; /* no journal, or an unreadable one: the report alone */
    if (dir && jrnl_read(path, journal_entry, h, jerr, sizeof jerr) == -ENOMEM) {
        snprintf(err, errlen, "%s: out of memory", what);
        return -ENOMEM;
    }
    if (h->n == 0) {
        snprintf(err, errlen, "%s: expected a shotq %s with task costs", what,
                 dir ? "run directory (report.json or journal)" : "report.json");
        return -EINVAL;
    }
    /* Preference: the report's entries, then the journal's latest first. */
    for (size_t i = 0; i < h->n; i++)
        h->v[i].rank = i < nreport ? i : nreport + (h->n - 1 - i);
    qsort(h->v, h->n, sizeof *h->v, cmp_entry_rank);
    size_t m = 0;
    for (size_t i = 0; i < h->n; i++)
        if (m == 0 || h->v[m - 1].id != h->v[i].id)
            h->v[m++] = h->v[i];
    h->n = m;
    return 0;
}

long costhist_apply(const char *path, const int64_t *id, double *weight, bool *had,
                    size_t n, char *err, size_t errlen)
{
    struct hist hs = {0};
    int rc = gather(path, &hs, err, errlen);
    if (rc) {
        free(hs.v);
        return rc == -ENOMEM ? -ENOMEM : -EINVAL;
    }
    struct hist_entry *h = hs.v;
    long nh = (long)hs.n;
    qsort(h, (size_t)nh, sizeof *h, cmp_cost);
    double median = h[nh / 2].cost;
    if (nh % 2 == 0)
        median = (median + h[nh / 2 - 1].cost) / 2;
    qsort(h, (size_t)nh, sizeof *h, cmp_entry);
    long hits = 0;
    for (size_t i = 0; i < n; i++) {
        struct hist_entry key = {id[i], 0, 0};
        const struct hist_entry *e = bsearch(&key, h, (size_t)nh, sizeof *h, cmp_entry);
        weight[i] = e ? e->cost : median;
        hits += e != NULL;
        if (had)
            had[i] = e != NULL;
    }
    free(h);
    return hits;
}
