/* tasks: parsing of ranges and task lines (see tasks.h). */
#include "tasks/tasks.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/escape.h"

int tasks_add(struct taskset *ts, int64_t id, double weight, uint64_t mem,
              const char *args)
{
    if (ts->n == ts->alloc) {
        size_t na = ts->alloc ? ts->alloc * 2 : 256;
        int64_t *id2 = realloc(ts->id, na * sizeof *id2);
        if (!id2)
            return -ENOMEM;
        ts->id = id2;
        double *w2 = realloc(ts->weight, na * sizeof *w2);
        if (!w2)
            return -ENOMEM;
        ts->weight = w2;
        uint64_t *m2 = realloc(ts->mem, na * sizeof *m2);
        if (!m2)
            return -ENOMEM;
        ts->mem = m2;
        size_t *o2 = realloc(ts->argoff, na * sizeof *o2);
        if (!o2)
            return -ENOMEM;
        ts->argoff = o2;
        size_t *p2 = realloc(ts->pos, na * sizeof *p2);
        if (!p2)
            return -ENOMEM;
        ts->pos = p2;
        uint16_t *wd2 = realloc(ts->width, na * sizeof *wd2);
        if (!wd2)
            return -ENOMEM;
        ts->width = wd2;
        ts->alloc = na;
    }
    size_t len = strlen(args) + 1;
    if (ts->args_len + len > ts->args_alloc) {
        size_t na = ts->args_alloc ? ts->args_alloc * 2 : 4096;
        while (na < ts->args_len + len)
            na *= 2;
        char *a2 = realloc(ts->args, na);
        if (!a2)
            return -ENOMEM;
        ts->args = a2;
        ts->args_alloc = na;
    }
    memcpy(ts->args + ts->args_len, args, len);
    ts->id[ts->n] = id;
    ts->weight[ts->n] = weight;
    ts->width[ts->n] = 1;
    ts->mem[ts->n] = mem;
    ts->argoff[ts->n] = ts->args_len;
    ts->pos[ts->n] = ts->cur_pos;
    ts->args_len += len;
    ts->n++;
    return 0;
}

/* Parses a non-negative integer at *p; advances *p. Returns false if none. */
static bool parse_uint(const char **p, int64_t *out)
{
    const char *s = *p;
    if (!isdigit((unsigned char)*s))
        return false;
    int64_t v = 0;
    while (isdigit((unsigned char)*s)) {
        int dgt = *s - '0';
        if (v > (INT64_MAX - dgt) / 10)
            return false;
        v = v * 10 + dgt;
        s++;
    }
    *p = s;
    *out = v;
    return true;
}

/* What a task id must be, for messages. */
#define ID_RANGE "0 to 9007199254740991 (2^53-1)"

/* Parses a task id at *p like parse_uint. Returns 0, -1 without digits, or
 * -2 when the digits exceed TASKS_ID_MAX (*p unchanged then). */
static int parse_id(const char **p, int64_t *out)
{
    const char *s = *p;
    if (!isdigit((unsigned char)*s))
        return -1;
    if (!parse_uint(&s, out) || *out > TASKS_ID_MAX)
        return -2;
    *p = s;
    return 0;
}

int tasks_parse_range(struct taskset *ts, const char *range, char *err, size_t errlen)
{
    const char *p = range;
    char esc[256];
    ts->src = range;
    ts->src_range = true;
#define RANGE_ERR(what)                                                                  \
    do {                                                                                 \
        snprintf(err, errlen, "--tasks '%s': position %zu: expected %s",                 \
                 util_escape(range, UTIL_ESC_ALL, esc, sizeof esc),                      \
                 (size_t)(p - range) + 1, what);                                         \
        return -EINVAL;                                                                  \
    } while (0)
    if (!*p)
        RANGE_ERR("a task id, a range A-B[:STEP] or a list");
    for (;;) {
        int64_t a, b, step = 1;
        ts->cur_pos = (size_t)(p - range) + 1; /* the item's tasks' position */
        int r = parse_id(&p, &a);
        if (r)
            RANGE_ERR(r == -2 ? "a task id from " ID_RANGE : "a non-negative task id");
        b = a;
        if (*p == '-') {
            p++;
            r = parse_id(&p, &b);
            if (r)
                RANGE_ERR(r == -2 ? "the end of the range (a task id from " ID_RANGE ")"
                                  : "the end of the range (a non-negative integer)");
            if (b < a)
                RANGE_ERR("an end not below the start");
            if (*p == ':') {
                p++;
                if (!parse_uint(&p, &step) || step == 0)
                    RANGE_ERR("a positive step");
            }
        }
        for (int64_t v = a; v <= b; v += step) {
            if (tasks_add(ts, v, 1.0, 0, "")) {
                snprintf(err, errlen, "--tasks '%s': out of memory (%zu tasks so far)",
                         util_escape(range, UTIL_ESC_ALL, esc, sizeof esc), ts->n);
                return -ENOMEM;
            }
            if (v > INT64_MAX - step)
                break;
        }
        if (*p == '\0')
            break;
        if (*p != ',')
            RANGE_ERR("',' or the end of the range");
        p++;
    }
#undef RANGE_ERR
    return 0;
}

/* Parses "gpus=N" or "cpus=N" at *p into *width (once per line). Returns
 * NULL, or what was expected. */
static const char *parse_width(const char **p, uint16_t *width)
{
    const char *q = *p + 5;
    int64_t n;
    if (*width != 0)
        return "one gpus=N or cpus=N per line";
    if (!parse_uint(&q, &n) || (*q && !isspace((unsigned char)*q)) || n < 1 ||
        n > TASKS_WIDTH_MAX)
        return **p == 'g' ? "gpus=N with N from 1 to 64" : "cpus=N with N from 1 to 64";
    *width = (uint16_t)n;
    *p = q;
    return NULL;
}

/* Parses the "weight=W", "mem=MIB", "gpus=N" and "cpus=N" words at *p (any
 * order, blanks between), leaving *p at the arguments after them; *width
 * stays 0 without gpus=/cpus=. Returns NULL, or what was expected with *p at
 * the bad word. */
static const char *parse_attrs(const char **p, double *weight, uint64_t *mem,
                               uint16_t *width)
{
    for (;;) {
        while (isspace((unsigned char)**p))
            (*p)++;
        if (!strncmp(*p, "gpus=", 5) || !strncmp(*p, "cpus=", 5)) {
            const char *what = parse_width(p, width);
            if (what)
                return what;
        } else if (!strncmp(*p, "weight=", 7)) {
            char *end;
            errno = 0;
            double w = strtod(*p + 7, &end);
            if (end == *p + 7 || errno || !(w > 0) || !isfinite(w) ||
                (*end && !isspace((unsigned char)*end)))
                return "weight=W with W a positive number";
            *weight = w;
            *p = end;
        } else if (!strncmp(*p, "mem=", 4)) {
            const char *q = *p + 4;
            int64_t mib;
            if (!parse_uint(&q, &mib) || (*q && !isspace((unsigned char)*q)) ||
                mib > (INT64_MAX >> 20))
                return "mem=MIB with MIB a non-negative integer";
            *mem = (uint64_t)mib << 20;
            *p = q;
        } else {
            return NULL;
        }
    }
}

/* Appends byte c to the words being built (see tasks_split_args). Returns
 * false when it does not fit. */
static bool split_put(char *out, size_t cap, size_t *len, char c)
{
    if (out) {
        if (*len + 2 > cap)
            return false;
        out[*len] = c;
    }
    (*len)++;
    return true;
}

/* Whether a backslash inside double quotes escapes c (POSIX sh). */
static bool dq_escapes(char c)
{
    return c == '"' || c == '\\' || c == '$' || c == '`' || c == '\n';
}

/* Copies the quoted part at *p (its opening quote there) into the word and
 * leaves *p after the closing quote. Returns 0, -E2BIG, or -EINVAL when the
 * line ends first. */
static int split_quoted(const char **p, char *out, size_t cap, size_t *len)
{
    char q = **p;
    const char *s = *p + 1;
    for (; *s && *s != q; s++) {
        if (q == '"' && *s == '\\' && dq_escapes(s[1])) {
            s++;
            if (*s == '\n')
                continue; /* backslash-newline: removed */
        }
        if (!split_put(out, cap, len, *s))
            return -E2BIG;
    }
    if (!*s)
        return -EINVAL;
    *p = s + 1;
    return 0;
}

long tasks_split_args(const char *s, char *out, size_t cap, size_t *len, size_t *col,
                      const char **expected)
{
    long words = 0;
    const char *p = s;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            return words;
        while (*p && *p != ' ' && *p != '\t') {
            int rc = 0;
            const char *at = p;
            if (*p == '\'' || *p == '"') {
                rc = split_quoted(&p, out, cap, len);
                *expected = *at == '"' ? "a closing \" for the quote opened here"
                                       : "a closing ' for the quote opened here";
            } else if (*p == '\\' && !p[1]) {
                rc = -EINVAL;
                *expected = "a character after the backslash";
            } else {
                p += *p == '\\';
                rc = split_put(out, cap, len, *p++) ? 0 : -E2BIG;
            }
            if (rc == -EINVAL)
                *col = (size_t)(at - s) + 1;
            if (rc)
                return rc;
        }
        if (!split_put(out, cap, len, '\0'))
            return -E2BIG;
        words++;
    }
}

int tasks_read(struct taskset *ts, FILE *f, const char *name, char *err, size_t errlen)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    size_t lineno = 0;
    int rc = 0;
    char esc[256], ename[256];
    util_escape(name, UTIL_ESC_ALL, ename, sizeof ename);
    ts->src = name;
    ts->src_range = false;
    while ((errno = 0, len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        ts->cur_pos = lineno;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        const char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '\0' || *p == '#')
            continue;
#define LINE_ERR(what)                                                                   \
    do {                                                                                 \
        const char *e_ = p;                                                              \
        while (*e_ && !isspace((unsigned char)*e_))                                      \
            e_++;                                                                        \
        snprintf(err, errlen, "%s:%zu: column %zu: expected %s, got '%s'", ename, lineno,\
                 (size_t)(p - line) + 1, what,                                           \
                 util_escape(p, (size_t)(e_ - p), esc, sizeof esc));                     \
        rc = -EINVAL;                                                                    \
        goto out;                                                                        \
    } while (0)
        int64_t id;
        const char *start = p;
        int r = parse_id(&p, &id);
        if (r || (*p && !isspace((unsigned char)*p))) {
            p = start;
            LINE_ERR(r == -2 ? "a task id from " ID_RANGE : "a non-negative task id");
        }
        double weight = 1.0;
        uint64_t mem = 0;
        uint16_t width = 0;
        const char *what = parse_attrs(&p, &weight, &mem, &width);
        if (what)
            LINE_ERR(what);
        size_t col = 0, wlen = 0;
        if (tasks_split_args(p, NULL, 0, &wlen, &col, &what) < 0) {
            snprintf(err, errlen,
                     "%s:%zu: column %zu: expected %s, got the end of the line", ename,
                     lineno, (size_t)(p - line) + col, what);
            rc = -EINVAL;
            goto out;
        }
        if (tasks_add(ts, id, weight, mem, p)) {
            errno = ENOMEM;
            break;
        }
        ts->width[ts->n - 1] = width ? width : 1;
#undef LINE_ERR
    }
    if (errno == ENOMEM) { /* getline's or tasks_add's */
        rc = -ENOMEM;
        snprintf(err, errlen, "%s:%zu: out of memory", ename, lineno + (len < 0));
    } else if (ferror(f)) {
        rc = -EIO;
        snprintf(err, errlen, "%s: read error", ename);
    }
out:
    free(line);
    return rc;
}

static const struct taskset *cmp_ts; /* qsort context */

/* Orders indices by id, then by input order (so the first of equal ids
 * comes first). */
static int cmp_idx(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int64_t x = cmp_ts->id[i], y = cmp_ts->id[j];
    return x != y ? (x > y) - (x < y) : (i > j) - (i < j);
}

/* Writes the message for task index `second` repeating the id of task index
 * `first` (earlier in the input): file line / range position when known. */
static void dup_message(const struct taskset *ts, size_t first, size_t second,
                        char *err, size_t errlen)
{
    int64_t id = ts->id[second];
    size_t p1 = ts->pos ? ts->pos[first] : 0, p2 = ts->pos ? ts->pos[second] : 0;
    char esc[256];
    if (ts->src)
        util_escape(ts->src, UTIL_ESC_ALL, esc, sizeof esc);
    if (!ts->src || !p1 || !p2)
        snprintf(err, errlen, "task id %" PRId64 " appears twice (expected unique ids)",
                 id);
    else if (ts->src_range)
        snprintf(err, errlen,
                 "--tasks '%s': position %zu: task id %" PRId64
                 " appears twice (first at position %zu; expected unique ids)",
                 esc, p2, id, p1);
    else
        snprintf(err, errlen,
                 "%s:%zu: task id %" PRId64
                 " appears twice (first on line %zu; expected unique ids)",
                 esc, p2, id, p1);
}

int tasks_check_unique(struct taskset *ts, char *err, size_t errlen)
{
    free(ts->sorted);
    ts->sorted = malloc((ts->n ? ts->n : 1) * sizeof *ts->sorted);
    if (!ts->sorted) {
        snprintf(err, errlen, "checking %zu task ids: out of memory", ts->n);
        return -ENOMEM;
    }
    size_t *sorted_idx = ts->sorted;
    for (size_t i = 0; i < ts->n; i++)
        sorted_idx[i] = i;
    cmp_ts = ts;
    qsort(sorted_idx, ts->n, sizeof *sorted_idx, cmp_idx);
    for (size_t i = 1; i < ts->n; i++) {
        if (ts->id[sorted_idx[i]] == ts->id[sorted_idx[i - 1]]) {
            dup_message(ts, sorted_idx[i - 1], sorted_idx[i], err, errlen);
            return -EINVAL;
        }
    }
    return 0;
}

long tasks_find(const struct taskset *ts, int64_t id)
{
    const size_t *sorted_idx = ts->sorted;
    if (!sorted_idx)
        return -1;
    size_t lo = 0, hi = ts->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t v = ts->id[sorted_idx[mid]];
        if (v == id)
            return (long)sorted_idx[mid];
        if (v < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

void tasks_free(struct taskset *ts)
{
    free(ts->sorted);
    free(ts->id);
    free(ts->weight);
    free(ts->mem);
    free(ts->argoff);
    free(ts->args);
    free(ts->pos);
    free(ts->width);
    memset(ts, 0, sizeof *ts);
}
