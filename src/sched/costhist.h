/* costhist: per-task costs learned across runs. A run's report.json records
 * each done task's cost in device-independent units (duration x learned
 * device speed, "cost"); a later run over the same tasks uses them as
 * weights (LPT order, tail guard). */
#ifndef SHOTQ_COSTHIST_H
#define SHOTQ_COSTHIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reads the task costs of an earlier run from path (a run directory, whose
 * report.json and journal are read, the report's cost preferred and the
 * journal's latest "done" else, so that a killed run's costs count too; or
 * a report file) and sets weight[i] of every task
 * whose id[i] has a recorded cost to that cost; tasks without history get
 * the median of the recorded costs; had[i] (had NULL: not kept) says
 * whether task i had a recorded cost. Returns the number of tasks that had
 * history, or -EINVAL / -ENOMEM with one line in err (a file that cannot be
 * read, is not a shotq report, or records no cost). */
long costhist_apply(const char *path, const int64_t *id, double *weight, bool *had,
                    size_t n, char *err, size_t errlen);

#endif
