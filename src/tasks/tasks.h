/* tasks: the task set of a run, from --tasks RANGE, a tasks file or stdin.
 * A task has a unique non-negative id, a weight (default 1), a memory need in
 * bytes (0 = none) and an argument string (may be empty). */
#ifndef SHOTQ_TASKS_H
#define SHOTQ_TASKS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct taskset {
    int64_t *id;     /* ids, in input order */
    double *weight;  /* weights */
    uint64_t *mem;   /* bytes */
    size_t *argoff;  /* offset of each argument string in args */
    char *args;      /* NUL-terminated argument strings, back to back */
    size_t n, alloc; /* tasks, capacity */
    size_t args_len, args_alloc;
    size_t *sorted; /* indices sorted by id, set by tasks_check_unique */
};

/* Parses a RANGE ("0-99", "0-99:2", "1,5,9", combinations separated by
 * commas) into ts, appending. Returns 0, or -EINVAL with one line in err
 * naming the range, the position and what was expected. */
int tasks_parse_range(struct taskset *ts, const char *range, char *err, size_t errlen);

/* Reads task lines "ID [weight=W] [mem=MiB] ARGS..." from f (name for
 * messages). Blank lines and '#' comments are skipped. Returns 0, -EINVAL with
 * "NAME:LINE: column C: expected ..., got ..." in err, or -errno. */
int tasks_read(struct taskset *ts, FILE *f, const char *name, char *err, size_t errlen);

/* Adds one task. Returns 0 or -ENOMEM. */
int tasks_add(struct taskset *ts, int64_t id, double weight, uint64_t mem,
              const char *args);

/* Checks that ids are unique. Returns 0, or -EINVAL naming the duplicate. */
int tasks_check_unique(struct taskset *ts, char *err, size_t errlen);

static inline const char *tasks_args(const struct taskset *ts, size_t i)
{
    return ts->args + ts->argoff[i];
}

/* Index of the task with this id, or -1. O(log n) after tasks_check_unique. */
long tasks_find(const struct taskset *ts, int64_t id);

void tasks_free(struct taskset *ts);

#endif
