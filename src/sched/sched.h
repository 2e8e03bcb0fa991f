/* sched: the policy core. Decides which task runs on which device and when.
 *
 * Pure and deterministic: no I/O, no clock reads, no allocation after
 * sched_start() except when a retry queue grows. Time is a parameter
 * (seconds since the run started). The live event loop and `shotq simulate`
 * drive the same code with the same events, so they make the same decisions.
 *
 * Tasks and devices are referred to by their insertion index (0-based).
 */
#ifndef SHOTQ_SCHED_H
#define SHOTQ_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sched_policy {
    SCHED_DYNAMIC = 0, /* pull + learned speeds + tail guard + LPT + admission */
    SCHED_STATIC = 1,  /* task i -> device i mod n, each device in order */
    SCHED_MEMFREE = 2  /* the article's rule: most free memory ratio */
};

enum sched_task_state {
    SCHED_PENDING = 0,
    SCHED_RUNNING = 1,
    SCHED_DONE = 2,
    SCHED_FAILED = 3
};

/* What sched_finish() decided for a task that ended. */
enum sched_outcome {
    SCHED_OUT_DONE = 0,     /* succeeded */
    SCHED_OUT_RETRY = 1,    /* failed, queued again (prefers another device) */
    SCHED_OUT_FAILED = 2,   /* failed after all its retries, or no device left */
    SCHED_OUT_CONTINUES = 3 /* this attempt failed, the task's other one runs on */
};

/* Quarantine back-off (defaults): a device with quarantine_after consecutive
 * failures rests BASE s, then 2 x BASE, 4 x BASE ... at most CAP s after each
 * new quarantine; a success resets it. A device that fails again after a
 * rest of CAP s is retired for good. Base 0 = no back-off (retire at once). */
#define SCHED_BACKOFF_BASE_S 10.0
#define SCHED_BACKOFF_CAP_S 600.0

struct sched_params {
    enum sched_policy policy;
    int slots;                    /* default concurrent tasks per device (>= 1) */
    int max_retries;              /* extra attempts after the first failure (>= 0) */
    int quarantine_after;         /* consecutive failures that quarantine a device (>= 1) */
    double backoff_base_s;        /* first quarantine's rest (0 = retire at once) */
    double backoff_cap_s;         /* longest rest (>= base) */
    int halt_fail_count;          /* --halt fail=N: stop after N failed attempts (0 = off) */
    double halt_fail_pct;         /* --halt fail=P%: ... after P% of the task count (0 = off) */
    double ewma_alpha;            /* weight of a new speed observation, (0, 1] */
    bool tail_guard;              /* earliest-finish-time guard (dynamic policy) */
    bool speculate;               /* backup copies of stragglers (dynamic policy) */
    double speculate_margin;      /* backup only if it saves this factor, >= 1 */
    uint64_t memfree_default_mem; /* memfree: bytes assumed per task without mem */
};

/* Returns the defaults: dynamic, 1 slot, 2 retries, quarantine after 3,
 * back-off 10 s .. 600 s, no halt rule, alpha 0.3, tail guard on.
 * Failures (of two or more tasks) that quarantine a device are not charged to
 * their tasks' retries: an outage costs no task its retries. */
struct sched_params sched_params_default(void);

/* Devices one task may run on at once (gpus=N / cpus=N). */
#define SCHED_MAX_WIDTH 64

struct sched_assign {
    size_t task;                  /* task index */
    size_t dev;                   /* device index (a group's first device) */
    int attempt;                  /* 1 for the first attempt */
    bool backup;                  /* a speculative copy of a task that runs elsewhere */
    size_t ndevs;                 /* devices it runs on: 1, or its width */
    size_t devs[SCHED_MAX_WIDTH]; /* them, devs[0] = dev; all of one node */
};

struct sched_dev_stats {
    double speed_estimate; /* weight per second */
    double busy_s;         /* summed task time on the device */
    int64_t tasks_done;    /* successful tasks */
    int64_t tasks_failed;  /* failed attempts */
    int running;           /* tasks running now */
    bool quarantined;      /* resting (or retired) */
    bool probing;          /* back from a rest, no success yet */
    bool retired;          /* quarantined for good */
    int quarantines;       /* quarantines since its last success */
    double probe_at;       /* resting: when it takes tasks again; else -1 */
    bool busy;             /* used by others (sched_set_busy): no new task */
    uint64_t mem_reserved; /* bytes its running tasks reserved */
};

struct sched_task_stats {
    enum sched_task_state state;
    int attempts;          /* attempts started so far */
    long dev;              /* device of the last attempt, -1 if none */
    long backup_dev;       /* device of a running backup attempt, -1 if none */
    double backup_start_s; /* its start */
    double start_s, end_s; /* last attempt; end_s < 0 while running */
    int width;             /* devices it runs on at once */
};

struct sched;

/* Creates an empty scheduler. Returns NULL on allocation failure or invalid
 * parameters. Free with sched_destroy(). */
struct sched *sched_create(const struct sched_params *p);
void sched_destroy(struct sched *s);

/* Adds a device before sched_start(). speed_prior > 0; mem_total in bytes
 * (0 = unlimited); node = node index (0 for single node). Returns the index,
 * or -ENOMEM / -EINVAL / -EBUSY (after start). */
long sched_add_device(struct sched *s, double speed_prior, uint64_t mem_total, int node);

/* Adds a task before sched_start(). weight > 0 (1 = default cost); mem =
 * device bytes needed (0 = none). Returns the index or a negative errno. */
long sched_add_task(struct sched *s, double weight, uint64_t mem);

/* Makes a task wide before sched_start(): it runs on width devices of one
 * node at once (1 <= width <= SCHED_MAX_WIDTH; dynamic policy only, else
 * sched_start fails with -EINVAL). Returns 0, -EINVAL or -EBUSY. See
 * sched.c, "wide tasks": group speed is the sum of the members' speeds;
 * dispatch is EASY backfilling; a failure counts on the first device. */
int sched_set_task_width(struct sched *s, size_t task, int width);

/* The devices of a task's current or last attempt into out (at most cap):
 * returns their number (0 if it never ran). */
size_t sched_task_devices(const struct sched *s, size_t task, size_t *out, size_t cap);

/* Marks a task done before start (restored from a journal): it is never
 * dispatched. Returns 0 or -EINVAL. */
int sched_restore_done(struct sched *s, size_t task);

/* Freezes the tables and builds the dispatch order (LPT when weights differ).
 * Returns 0, -ENOMEM, -EINVAL (wide tasks under a policy other than
 * dynamic), or -E2BIG when some pending task fits on no device, or a wide
 * one on no node (see sched_first_unfit()). */
int sched_start(struct sched *s);

/* Index of the first pending task that no device's memory can hold, or -1. */
long sched_first_unfit(const struct sched *s);

/* Sets how many tasks a device may run at once now (ready worker slots times
 * prefetch depth). Returns 0 or -EINVAL. */
int sched_set_capacity(struct sched *s, size_t dev, int capacity);

/* Sets the device memory used by others (not by shotq's tasks), from a
 * refresh. Returns 0 or -EINVAL. */
int sched_set_foreign_mem(struct sched *s, size_t dev, uint64_t bytes);

/* ---- shared GPUs (--gpu-busy, --task-mem auto) ---- */

/* Default --gpu-busy threshold: a GPU whose memory or utilisation is more
 * than this % used by others takes no new task. */
#define SCHED_GPU_BUSY_PCT 50.0

/* What a refresh saw of one GPU, without this run's own processes. */
struct sched_gpu_sample {
    uint64_t mem_total;   /* bytes, 0 = unknown */
    uint64_t mem_foreign; /* bytes used by processes that are not this run's */
    int util_foreign;     /* utilisation % due to others, -1 = unknown */
};

/* Predicate: true when others use more than pct % of g's memory or of its
 * utilisation (unknown values never count). pct <= 0 (off): false. Pure. */
bool sched_gpu_busy(const struct sched_gpu_sample *g, double pct);

/* Marks a device busy with others' work (or free again): a busy device
 * takes no new task; its running tasks go on. Returns 0 or -EINVAL. */
int sched_set_busy(struct sched *s, size_t dev, bool busy);

/* Bytes assumed for tasks that declare no memory (--task-mem auto), from
 * now on (0 = none); attempts already running keep what they reserved.
 * Returns 0. */
int sched_set_default_mem(struct sched *s, uint64_t bytes);

/* Margin of --task-mem auto over the largest peak measured so far. */
#define SCHED_AUTO_MEM_MARGIN 1.25

/* --task-mem auto: peak x SCHED_AUTO_MEM_MARGIN, rounded up to whole MiB;
 * 0 for 0 (nothing measured yet: no limit). Pure. */
uint64_t sched_auto_mem(uint64_t peak);

/* Asks for one task to start at time now. Returns true and fills *a when a
 * task should start; false when nothing should start now (call again after
 * the next event, or at the earliest probe_at of a resting device). Devices
 * whose rest is over take tasks again from here. */
bool sched_pick(struct sched *s, double now, struct sched_assign *a);

/* Reports that task's current attempt ended at time now (ok = succeeded).
 * Updates speeds, retries and quarantine. */
enum sched_outcome sched_finish(struct sched *s, size_t task, double now, bool ok);

/* True when a --halt rule stopped dispatch (then as sched_drain). */
bool sched_halted(const struct sched *s);

/* Failed attempts so far (what --halt counts). */
size_t sched_failed_attempts(const struct sched *s);

/* Reports that the attempt of task on device dev ended at time now. With
 * speculation a task may run on two devices: when one attempt succeeds, the
 * other is over for the scheduler and *kill_dev names its device (the
 * caller kills it and discards its output; never report it); -1 when there
 * is none. When one of two attempts fails, the other runs on
 * (SCHED_OUT_CONTINUES). */
enum sched_outcome sched_finish_on(struct sched *s, size_t task, size_t dev, double now,
                                   bool ok, long *kill_dev);

/* Takes back a backup attempt that sched_pick() just assigned but that never
 * started (no idle worker could take it): its device is free again and the
 * attempt is not counted. No-op when the task has no backup. */
void sched_cancel_backup(struct sched *s, size_t task);

/* Fails every pending task (no device will ever take them). */
void sched_abandon(struct sched *s);

/* Returns a running task to the queue without counting a failure: its
 * attempt never started (e.g. it was queued on a worker that died). */
void sched_requeue(struct sched *s, size_t task);

/* Corrects the start of a running task's attempt (a worker that queued it
 * reports when it really started). */
void sched_set_start(struct sched *s, size_t task, double start);

/* Stops all further dispatch: pending tasks stay pending. */
void sched_drain(struct sched *s);

/* True when no task is pending or running (all done or failed), or when
 * draining and nothing runs. */
bool sched_finished(const struct sched *s);

size_t sched_ntasks(const struct sched *s);
size_t sched_ndevs(const struct sched *s);
size_t sched_count(const struct sched *s, enum sched_task_state st);

/* Expected seconds until all work is done, from the learned speeds. */
double sched_eta(const struct sched *s, double now);

/* With speculation: when the policy next wants sched_pick() called to look
 * for stragglers even if no task ends meanwhile (the live loop's poll period
 * covers this; the simulator wakes then). INFINITY when it wants nothing:
 * speculation off, nothing running, or not yet the last rounds. */
double sched_next_look(const struct sched *s, double now);

/* Lower bound on the makespan of the tasks that ran, from measured task
 * costs (see sched_task_cost) and measured speeds: max(sum of costs / sum
 * of speeds, largest cost / fastest speed). Measures each device's speed as
 * the median of weight/duration over its done tasks (kept for
 * sched_task_cost); allocates temporarily (without memory it falls back on
 * the learned estimates). */
double sched_lower_bound(struct sched *s);

/* A task's cost in device-independent units (weight units): for a task done
 * in this run, its duration x its device's measured speed (after
 * sched_lower_bound; the learned estimate before); otherwise its declared
 * weight. */
double sched_task_cost(const struct sched *s, size_t task);

void sched_dev_stats(const struct sched *s, size_t dev, struct sched_dev_stats *out);
void sched_task_stats(const struct sched *s, size_t task, struct sched_task_stats *out);

const char *sched_policy_name(enum sched_policy p);
/* Parses "dynamic", "static", "memfree". Returns 0 or -EINVAL. */
int sched_policy_parse(const char *name, enum sched_policy *out);

#endif /* SHOTQ_SCHED_H */
