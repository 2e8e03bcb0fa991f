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

#include "util/escape.h"

struct hist_entry {
    int64_t id;
    double cost;
};

static int cmp_entry(const void *a, const void *b)
{
    const struct hist_entry *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
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
            (*out)[n++] = (struct hist_entry){(int64_t)id->valuedouble, c->valuedouble};
    }
    return (long)n;
}

long costhist_apply(const char *path, const int64_t *id, double *weight, bool *had,
                    size_t n, char *err, size_t errlen)
{
    char file[4096];
    struct stat st;
    bool dir = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
    snprintf(file, sizeof file, dir ? "%s/report.json" : "%s", path);
    char *text = slurp(file);
    int read_err = errno; /* before the escapes below */
    char epath[256], efile[256]; /* for messages */
    util_escape(path, UTIL_ESC_ALL, epath, sizeof epath);
    util_escape(file, UTIL_ESC_ALL, efile, sizeof efile);
    if (!text) {
        snprintf(err, errlen, "--costs-from '%s': cannot read %s: %s", epath, efile,
                 util_errtext(-read_err));
        return -EINVAL;
    }
    cJSON *root = cJSON_Parse(text);
    free(text);
    struct hist_entry *h = NULL;
    size_t bad = 0;
    long nh = root ? collect(root, &h, &bad) : -EINVAL;
    cJSON_Delete(root);
    if (nh <= 0) {
        if (nh == -ENOMEM)
            snprintf(err, errlen, "--costs-from '%s': %s: out of memory", epath, efile);
        else if (nh == -ERANGE)
            snprintf(err, errlen,
                     "--costs-from '%s': %s: tasks[%zu]: expected \"id\" to be an integer "
                     "task id from 0 to 9007199254740991 (2^53-1)",
                     epath, efile, bad);
        else
            snprintf(err, errlen,
                     "--costs-from '%s': %s: expected a shotq report.json with "
                     "task costs",
                     epath, efile);
        free(h);
        return nh == -ENOMEM ? -ENOMEM : -EINVAL;
    }
    qsort(h, (size_t)nh, sizeof *h, cmp_cost);
    double median = h[nh / 2].cost;
    if (nh % 2 == 0)
        median = (median + h[nh / 2 - 1].cost) / 2;
    qsort(h, (size_t)nh, sizeof *h, cmp_entry);
    long hits = 0;
    for (size_t i = 0; i < n; i++) {
        struct hist_entry key = {id[i], 0};
        const struct hist_entry *e = bsearch(&key, h, (size_t)nh, sizeof *h, cmp_entry);
        weight[i] = e ? e->cost : median;
        hits += e != NULL;
        if (had)
            had[i] = e != NULL;
    }
    free(h);
    return hits;
}
