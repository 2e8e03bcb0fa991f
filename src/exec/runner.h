/* runner: the coordinator's event loop for `shotq run` and `shotq model`.
 * Single-threaded: poll() over the workers' sockets and a self-pipe for
 * signals; it owns the policy core, the journal, progress and reports. */
#ifndef SHOTQ_RUNNER_H
#define SHOTQ_RUNNER_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/devices.h"
#include "exec/proto.h"
#include "sched/sched.h"
#include "tasks/tasks.h"

/* Something a remote transport delivers to the loop. */
enum runner_ev_kind {
    RUNNER_EV_MSG = 1,  /* a worker's message (READY, INITFAIL, DONE, PROGRESS) */
    RUNNER_EV_LOST = 2, /* a worker is gone: it exited or could not start */
    RUNNER_EV_MEM = 3   /* a GPU's free memory, refreshed on its node */
};

struct runner_event {
    enum runner_ev_kind kind;
    size_t worker;       /* MSG, LOST: worker index */
    struct proto_msg m;  /* MSG: the message */
    const char *payload; /* MSG: its payload (NUL-terminated), valid until next() */
    int wstatus;         /* LOST: waitpid status, -1 when it never started */
    size_t dev;          /* MEM: device index */
    uint64_t mem_free;   /* MEM: bytes free */
};

/* Workers on other nodes (multi-node runs), reached through a transport. A
 * device's workers are remote when dev_rank[dev] != 0. Workers are numbered
 * by the loop (0 .. devices x slots - 1); the transport keeps the numbers.
 * Every call returns 0 (or 1 from next() with an event) or -errno. */
struct runner_remote {
    void *ctx;
    const int *dev_rank; /* per device: rank of its node, 0 = this process */
    /* Starts worker `worker` for slot `slot` of device `dev` on rank `rank`;
     * its READY, INITFAIL or LOST comes later through next(). */
    int (*start)(void *ctx, int rank, size_t worker, size_t dev, int slot);
    /* Passes a message (PROTO_RUN) to a remote worker. */
    int (*send)(void *ctx, int rank, size_t worker, const struct proto_msg *m,
                const void *payload);
    /* Kills a remote worker and its task (SIGKILL to its process group). */
    int (*kill)(void *ctx, int rank, size_t worker);
    /* Fills *ev with the next event, without blocking: 1, or 0 if none. */
    int (*next)(void *ctx, struct runner_event *ev);
};

struct runner_config {
    bool plugin_mode;                   /* plugin tasks (true) or command tasks */
    char **cmd;                         /* command template (NULL-terminated) */
    const char *plugin;                 /* plugin spec */
    const char *plugin_config;          /* plugin configuration string */
    const struct dev_list *devs;        /* devices */
    struct taskset *tasks;              /* tasks (ids checked unique) */
    struct sched_params sp;             /* policy parameters */
    double timeout_s;                   /* per task, 0 = none */
    uint64_t max_log_bytes;             /* cap per log stream of a task, 0 = default */
    const char *run_dir;                /* run directory */
    bool resume;                        /* continue the journal in run_dir */
    bool retry_failed;                  /* ... with a changed command allowed (implies
                                           resume; see jrnl_open_run) */
    bool quiet;                         /* no progress output */
    const char *report_path;            /* extra copy of report.json, or NULL */
    const char *gantt_path;             /* SVG Gantt chart, or NULL */
    const char *self_exe;               /* path of the shotq binary (for workers) */
    const char *what;                   /* one-line description for the journal */
    uint64_t fingerprint;               /* task set + command, for --resume */
    uint64_t command_fp;                /* the command (or plugin + config) alone */
    const bool *cost_known;             /* per task: its weight is a cost an earlier run
                                           measured (costhist_apply), NULL = none; a
                                           task done earlier keeps it in report.json */
    char *const *worker_env;            /* workers' environment, NULL = ours */
    const struct runner_remote *remote; /* workers on other nodes, NULL = none */
    double gpu_busy_pct;                /* --gpu-busy: a GPU more than this % used
                                           by others takes no task; 0 = off */
    bool task_mem_auto;                 /* --task-mem auto: tasks without mem need
                                           the largest measured peak + margin */
};

/* The command an attempt of task index ti on device dev, slot slot would
 * run, placeholders expanded: NUL-terminated words back to back in buf (cap
 * bytes). For `shotq run --dry-run`; starts and writes nothing. Returns the
 * length, or -1 when it does not fit. */
long runner_command(const struct runner_config *c, size_t ti, int dev, int slot,
                    int attempt, char *buf, size_t cap);

struct simrun_result;

/* The run on a virtual clock (src/sched/simrun): c's policy, every device at
 * its speed prior (memory: a GPU's free, a sim device's total, a CPU's
 * unlimited), each task taking weight / speed. Tasks with skip[i] set (skip
 * NULL: none) are left out. For --dry-run's makespan and the prior ETA.
 * Returns 0 or -ENOMEM / -EINVAL; fills *res (simrun_result_free). */
int runner_simulate(const struct runner_config *c, const bool *skip,
                    struct simrun_result *res);

/* Runs every task. Returns the exit status: 0 all done, 1 some failed,
 * 2 bad input (nothing started), 130 interrupted. */
int runner_run(const struct runner_config *c);

#endif
