/* simrun: runs the policy core on a virtual clock (task duration = weight /
 * device speed), for `shotq simulate` and for tests. Pure: no I/O. */
#ifndef SHOTQ_SIMRUN_H
#define SHOTQ_SIMRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sched/sched.h"

struct simrun_dev {
    double speed;       /* true speed (weight per second); also the prior */
    uint64_t mem_total; /* bytes, 0 = unlimited */
    int node;           /* node index; node 0 is the coordinator's */
};

/* From at_s on, device dev runs at speed x factor (factors compound). */
struct simrun_slowdown {
    size_t dev;
    double at_s;
    double factor; /* > 0 */
};

/* What really happens, unknown to the scheduler: per-task true costs (the
 * work a task needs, in weight units; NULL = the declared weight) and speed
 * changes of devices during the run. */
struct simrun_model {
    const double *cost;
    const struct simrun_slowdown *slow;
    size_t nslow;
    const int *width; /* per task: devices it runs on at once (gpus=N); NULL = 1.
                         A group runs at the sum of its members' speeds (the
                         slowdowns of its first device apply) */
    bool record;      /* fill simrun_result.tasks */
};

/* One task as it ran (model->record). */
struct simrun_task {
    double start_s, end_s; /* of the attempt that ended it */
    size_t ndevs;          /* devices it ran on; 0 if it never ran */
    size_t devs[SCHED_MAX_WIDTH];
};

struct simrun_result {
    double makespan_s;          /* time the last task ended */
    double lower_bound_s;       /* max(sum c / sum speed, max c / max speed), c = true
                                   cost, speeds as at the start */
    double sched_lower_bound_s; /* the scheduler's own bound (measured costs) */
    size_t tasks_done;          /* tasks that ran */
    size_t tasks_unrun;         /* tasks that fit no device */
    double *busy_s;             /* per device, owned: free with simrun_result_free */
    int64_t *tasks_per_dev;     /* per device, owned */
    struct simrun_task *tasks;  /* per task when model->record, owned; else NULL */
};

/* Simulates ntasks tasks of the given declared weights (NULL = all 1) and memory
 * (NULL = none) on ndev devices. remote_latency_s delays every task start on a
 * device whose node is not 0 (dispatch and result messages). Co-located tasks
 * share a device: a task started while k tasks run there (itself included)
 * takes k times longer. model (NULL = none) gives true costs and slowdowns.
 * Returns 0, -ENOMEM or -EINVAL; fills *out. */
int simrun(const struct sched_params *p, const struct simrun_dev *devs, size_t ndev,
           const double *weights, const uint64_t *mem, size_t ntasks,
           double remote_latency_s, const struct simrun_model *model,
           struct simrun_result *out);

void simrun_result_free(struct simrun_result *r);

#endif
