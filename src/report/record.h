/* record: what a run leaves behind for reports: one entry per task (its last
 * attempt), one per failed attempt, one per cancelled speculative copy, one
 * per device. Filled by the event loop
 * or by the simulator; read by report.c and gantt.c. */
#ifndef SHOTQ_RECORD_H
#define SHOTQ_RECORD_H

#include <stddef.h>
#include <stdint.h>

enum rec_status {
    REC_PENDING = 0, /* never started (interrupted run) */
    REC_RUNNING = 1, /* still running when the run stopped */
    REC_DONE = 2,    /* succeeded in this run */
    REC_FAILED = 3,  /* failed after its retries */
    REC_RESUMED = 4  /* recorded done by an earlier run (--resume) */
};

struct rec_task {
    int64_t id;        /* task id */
    double start_s;    /* start of the last attempt, seconds since run start */
    double end_s;      /* its end */
    double cost;       /* done: duration x learned device speed; 0 = unknown */
    uint64_t gpu_mem_peak; /* bytes its last attempt used at most on its GPU(s), as
                              sampled (NVML process list); 0 = not measured */
    int32_t dev;       /* device of the last attempt, -1 if none */
    int32_t exit_code; /* exit code; 128+N for signal N; 124 for a timeout */
    int16_t slot;      /* slot of the last attempt */
    uint8_t status;    /* enum rec_status */
    uint8_t attempts;  /* attempts started */
    uint16_t ndevs;    /* devices of the last attempt: 1, or a wide task's width */
    uint32_t devs_off; /* ndevs > 1: they are run_record.devpool[devs_off ..] */
};

/* An attempt that did not succeed: failed, or cancelled (a speculative copy
 * killed because the task's other attempt finished first). */
struct rec_fail {
    size_t task; /* index in tasks[] */
    double start_s, end_s;
    int32_t dev;
    int32_t exit_code;
    int16_t slot;
    int32_t attempt; /* its attempt number (names its logs) */
    uint32_t logs;   /* logs/task-ID.ATTEMPT.out (1) and .err (2) that exist */
    char why[80];    /* "exit 3", "signal 11", "timeout", "worker died", "cancelled: ..." */
};

/* A device's quarantine, probe, recovery or retirement, or the run's halt. */
struct rec_event {
    double t;        /* seconds since run start */
    int32_t dev;     /* device index, -1 for the run (halt) */
    char what[16];   /* "quarantine", "probe", "recover", "retire", "halt" */
    char detail[96]; /* one line for a person */
};

/* The ETA as the run estimated it at one moment (report.json "eta"). */
struct rec_eta {
    double t;          /* seconds since run start */
    double eta_s;      /* seconds left, as estimated then; < 0 unknown */
    const char *basis; /* "prior", "learned", "done" (static strings) */
};

struct rec_device {
    char name[96];
    const char *kind; /* "gpu", "cpu", "sim" */
    char node[64];
    int slots; /* worker slots */
    double speed_estimate;
    double busy_s;
    int64_t tasks_done;
    int quarantined;
    int quarantines; /* times it was quarantined in this run */
};

struct run_record {
    const char *policy;     /* policy name */
    double makespan_s;      /* run start to last task end */
    double lower_bound_s;   /* from learned speeds */
    struct rec_task *tasks; /* n entries */
    size_t ntasks;
    struct rec_fail *fails; /* failed attempts */
    size_t nfails, fails_alloc;
    struct rec_fail *cancels; /* cancelled speculative copies */
    size_t ncancels, cancels_alloc;
    struct rec_device *devs;
    size_t ndevs;
    struct rec_event *events; /* device and halt events, in time order */
    size_t nevents, events_alloc;
    struct rec_eta *etas; /* ETA samples, in time order (NULL: none taken) */
    size_t netas;
    const char *run_dir; /* where logs are */
    int32_t *devpool;    /* the devices of wide tasks (rec_task.devs_off), or NULL */
};

#endif
