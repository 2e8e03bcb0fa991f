/* runner: the coordinator's event loop for `shotq run` and `shotq model`.
 * Single-threaded: poll() over the workers' sockets and a self-pipe for
 * signals; it owns the policy core, the journal, progress and reports. */
#ifndef SHOTQ_RUNNER_H
#define SHOTQ_RUNNER_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/devices.h"
#include "sched/sched.h"
#include "tasks/tasks.h"

struct runner_config {
    bool plugin_mode;            /* plugin tasks (true) or command tasks */
    char **cmd;                  /* command template (NULL-terminated) */
    const char *plugin;          /* plugin spec */
    const char *plugin_config;   /* plugin configuration string */
    const struct dev_list *devs; /* devices */
    struct taskset *tasks;       /* tasks (ids checked unique) */
    struct sched_params sp;      /* policy parameters */
    double timeout_s;            /* per task, 0 = none */
    const char *run_dir;         /* run directory */
    bool resume;                 /* continue the journal in run_dir */
    bool quiet;                  /* no progress output */
    const char *report_path;     /* extra copy of report.json, or NULL */
    const char *gantt_path;      /* SVG Gantt chart, or NULL */
    const char *self_exe;        /* path of the shotq binary (for workers) */
    const char *what;            /* one-line description for the journal */
    uint64_t fingerprint;        /* task set + command, for --resume */
    char *const *worker_env;     /* workers' environment, NULL = ours */
};

/* Runs every task. Returns the exit status: 0 all done, 1 some failed,
 * 2 bad input (nothing started), 130 interrupted. */
int runner_run(const struct runner_config *c);

#endif
