/* tasks: the task set of a run, from --tasks RANGE, a tasks file or stdin.
 * A task has a unique id from 0 to TASKS_ID_MAX, a weight (default 1), a
 * memory need in bytes (0 = none) and an argument string (may be empty),
 * kept as written (the fingerprint hashes it) and split into words by
 * tasks_split_args when a command is built. */
#ifndef SHOTQ_TASKS_H
#define SHOTQ_TASKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The largest task id: 2^53-1. report.json and the journal are read with
 * cJSON, which holds numbers as doubles; every id up to this one is exact
 * there, so larger ids are refused at input (exit 2). */
#define TASKS_ID_MAX INT64_C(9007199254740991)

struct taskset {
    int64_t *id;     /* ids, in input order */
    double *weight;  /* weights */
    uint64_t *mem;   /* bytes */
    uint16_t *width; /* devices per task at once (gpus=N / cpus=N), default 1 */
    size_t *argoff;  /* offset of each argument string in args */
    char *args;      /* NUL-terminated argument strings, back to back */
    size_t n, alloc; /* tasks, capacity */
    size_t args_len, args_alloc;
    size_t *sorted; /* indices sorted by id, set by tasks_check_unique */
    size_t *pos;     /* per task: line (file) or position (range), 0 = none */
    size_t cur_pos;  /* pos that tasks_add gives the next task */
    const char *src; /* the file name or range, for messages (not owned) */
    bool src_range;  /* src is a --tasks RANGE: pos are positions in it */
};

/* Parses a RANGE ("0-99", "0-99:2", "1,5,9", combinations separated by
 * commas) into ts, appending; ids above TASKS_ID_MAX are refused. Returns 0,
 * or -EINVAL / -ENOMEM with one line in err naming the range, the position
 * and what was expected (or "out of memory"). range must outlive ts. */
int tasks_parse_range(struct taskset *ts, const char *range, char *err, size_t errlen);

/* Largest gpus=N / cpus=N (as the policy core's SCHED_MAX_WIDTH). */
#define TASKS_WIDTH_MAX 64

/* Reads task lines "ID [weight=W] [mem=MiB] [gpus=N|cpus=N] ARGS..." from f
 * (gpus=N: N GPUs of one node at once, mem= then per GPU; cpus=N: N CPU
 * devices, i.e. N cores with cpu:NCORES) (name for
 * messages; it must outlive ts). Blank lines and '#' comments are skipped;
 * ids above TASKS_ID_MAX are refused. Returns 0, -EINVAL with
 * "NAME:LINE: column C: expected ..., got ..." in err, or -errno (err says
 * what failed: "NAME:LINE: out of memory"). Input echoed in err is escaped
 * (util_escape). */
int tasks_read(struct taskset *ts, FILE *f, const char *name, char *err, size_t errlen);

/* Adds one task (its pos: ts->cur_pos; width 1). Returns 0 or -ENOMEM. */
int tasks_add(struct taskset *ts, int64_t id, double weight, uint64_t mem,
              const char *args);

/* Checks that ids are unique. Returns 0, -ENOMEM ("out of memory" in err),
 * or -EINVAL naming the duplicate id, where it came from and where it came
 * first ("FILE:LINE: task id N appears twice (first on line L; expected
 * unique ids)"). */
int tasks_check_unique(struct taskset *ts, char *err, size_t errlen);

/* Splits an argument string s into words with shell-like quoting: blanks
 * (space, tab) separate words; '...' is literal; in "..." a backslash escapes
 * only \" \\ \$ \` (and newline), elsewhere it stays; outside quotes a
 * backslash makes the next character literal. Nothing is expanded ($, *, ~ are
 * ordinary characters); '' or "" is an empty word. Each word is written
 * NUL-terminated at out + *len, advancing *len, with at least one byte of cap
 * left over; with out NULL nothing is written (only checked and *len
 * counted). Returns the number of words; -E2BIG when they do not fit; or
 * -EINVAL with *col the 1-based column in s of the unterminated quote or the
 * trailing backslash and *expected what was expected there. */
long tasks_split_args(const char *s, char *out, size_t cap, size_t *len, size_t *col,
                      const char **expected);

static inline const char *tasks_args(const struct taskset *ts, size_t i)
{
    return ts->args + ts->argoff[i];
}

/* Index of the task with this id, or -1. O(log n) after tasks_check_unique. */
long tasks_find(const struct taskset *ts, int64_t id);

void tasks_free(struct taskset *ts);

#endif
