/* status: what `shotq status` knows about a run directory, live or not.
 *
 * Two sources, neither needing the coordinator alive:
 *   - RUN_DIR/journal (read with jrnl_read, no lock taken): the task counts,
 *     the failed tasks and the run's device events (quarantine, probe, ...);
 *   - RUN_DIR/state.json, which the coordinator rewrites atomically (one
 *     atomic_file write) at most once a second and when the tasks are all
 *     finished: per device its current tasks, learned speed, busy time and
 *     quarantine state; the run's start, ETA, task total, pid and host.
 * Whether the coordinator still runs is read from RUN_DIR/lock: a flock() it
 * holds as long as it lives (tried with LOCK_NB on a separate open file
 * description and released at once; never waited for), and on this host
 * whether its pid exists. Field meanings of the JSON form: docs/design.md. */
#ifndef SHOTQ_STATUS_H
#define SHOTQ_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATUS_RUNNING_MAX 16 /* running task ids kept per device */

/* One device as the coordinator last saw it. */
struct status_dev {
    char name[128];
    char state[16];       /* "ok", "busy" (--gpu-busy), "resting", "probing",
                             "retired", "dead" */
    double speed;         /* learned speed, weight per second (prior until learned) */
    double speed_rel;     /* relative to the fastest device, 0..1 (progress_rel_speeds) */
    bool learned;         /* speed learned from a task done on it, else the prior */
    double busy_s;        /* summed task time on it */
    double utilisation;   /* busy_s / (elapsed x slots), 0..1 */
    double probe_at;      /* "resting": run seconds when it is probed; else -1 */
    int slots;            /* workers on it */
    int64_t done, failed; /* successful tasks, failed attempts */
    size_t nrunning;      /* tasks running on it now */
    size_t queued; /* tasks sent to its workers ahead (prefetched), not yet running */
    int64_t running[STATUS_RUNNING_MAX]; /* the first of them */
};

/* The coordinator's state file, RUN_DIR/state.json. */
struct status_state {
    long pid;       /* coordinator */
    char host[256]; /* its host name */
    double started; /* Unix time the run (this coordinator) started */
    double updated; /* Unix time of this state */
    double elapsed; /* run seconds at that time */
    double eta;     /* seconds left then, < 0 unknown */
    char eta_basis[16]; /* "prior" (no task finished yet: weights, speed priors and
                           the running tasks' time), "learned", "done"; "" unknown */
    int64_t total;  /* tasks in the run */
    bool finished;  /* no task is pending or running */
    struct status_dev *devs;
    size_t ndevs;
};

/* Writes s as RUN_DIR/state.json atomically (util/atomic_file.h; "updated"
 * is s->updated). Returns 0 or -errno with err set (the old file stays). */
int status_write_state(const char *run_dir, const struct status_state *s, char *err,
                       size_t errlen);

/* A task that failed for good, with its logs. */
struct status_fail {
    int64_t task;
    int attempt;         /* its last attempt, from the journal */
    int log_attempt;     /* attempt whose logs were found (highest present), 0 none */
    char err_path[4200]; /* RUN_DIR/logs/task-ID.ATTEMPT.err, "" if none */
    char out_path[4200]; /* ... .out, "" if none */
    char last_line[256]; /* last non-empty line of its stderr log, escaped */
};

/* A device or run event from the journal. */
struct status_event {
    double t;    /* run seconds of its coordinator */
    long dev;    /* -1 for the run */
    char ev[16]; /* "quarantine", "probe", "recover", "retire", "halt", "epoch" */
    char detail[160];
};

enum status_coord { STATUS_LIVE, STATUS_FINISHED, STATUS_GONE };

struct status_report {
    char what[512];          /* the journal header's description */
    enum status_coord coord; /* the coordinator runs / ended with all tasks finished /
                                is gone (killed, crashed, interrupted) */
    long pid;                /* from RUN_DIR/lock (0 unknown) */
    char host[256];          /* ditto ("?" unknown) */
    int64_t total;           /* -1 unknown */
    int64_t done, failed, running, pending; /* pending -1 when total unknown */
    bool have_state;                        /* state.json was read */
    struct status_state st;                 /* valid with have_state */
    struct status_fail *fails;
    size_t nfails;
    struct status_event *events;
    size_t nevents;
};

/* Fills r from RUN_DIR. Counts come from the journal alone: a task is done
 * when a "done" event names it; otherwise by its last event: "start" running
 * (sent to a worker: this includes tasks prefetched behind a running one, the
 * devices' "queued"), "fail" failed, "retry" pending. The total comes from state.json,
 * else from the header ("..., N tasks"), else is unknown. Returns 0; -ENOTDIR when
 * RUN_DIR has no journal (err: one line naming RUN_DIR); -EINVAL for a
 * corrupt journal or state file (err names file and line); -ENOMEM. Free r
 * with status_free. Never changes anything in RUN_DIR. */
int status_collect(const char *run_dir, struct status_report *r, char *err,
                   size_t errlen);

/* The report as text for a person (malloc'ed, NUL-terminated), or NULL when
 * out of memory. now: the current Unix time (for ages and the ETA). */
char *status_text(const char *run_dir, const struct status_report *r, double now);

/* The report as one JSON object and a newline (malloc'ed), or NULL. */
char *status_json(const char *run_dir, const struct status_report *r, double now);

void status_free(struct status_report *r);

#endif
