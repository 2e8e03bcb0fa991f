/* shotq plugin ABI (contract).
 *
 * A plugin is a shared library that exports
 *
 *     const struct shotq_plugin *shotq_plugin_entry(void);
 *
 * shotq starts one persistent worker process per device slot (by exec, never a
 * bare fork). The worker loads the plugin, calls init() once for its device, then
 * calls run() once per task it is sent, and fini() before it exits. A plugin may
 * keep data resident on its device between tasks through the state pointer.
 *
 * Everything a plugin prints on stdout/stderr during run() is captured in the
 * task's log files in the run directory. A worker that crashes fails its current
 * task only; the coordinator retries the task elsewhere and starts a new worker.
 */
#ifndef SHOTQ_PLUGIN_H
#define SHOTQ_PLUGIN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SHOTQ_PLUGIN_ABI_VERSION 1

/* What the worker's device is. All strings stay valid until fini() returns. */
struct shotq_device_info {
    int index;          /* index in shotq's device table (SHOTQ_DEVICE) */
    int cuda_ordinal;   /* CUDA ordinal inside this worker, -1 for CPU devices */
    const char *uuid;   /* GPU UUID ("GPU-..."), "" for CPU and simulated devices */
    const char *name;   /* device name, e.g. "NVIDIA H200" or "cpu" */
    const char *kind;   /* "gpu", "cpu" or "sim" */
    uint64_t mem_total; /* device memory in bytes (host memory for CPU) */
    double speed;       /* simulated speed; 1.0 for real devices */
    int slot;           /* slot number on this device, 0-based */
    int ncpus;          /* CPU cores this worker may use (OpenMP threads) */
};

/* Progress callback a plugin may call from run(): fraction in [0,1]. */
typedef void (*shotq_progress_fn)(void *ctx, double fraction);

/* One task. Strings stay valid until run() returns. */
struct shotq_task_info {
    int64_t id;                 /* task id (SHOTQ_TASK) */
    const char *args;           /* the task's argument string ("" if none) */
    double weight;              /* relative cost, 1.0 by default */
    int attempt;                /* 1 for the first attempt */
    const char *run_dir;        /* the run directory */
    shotq_progress_fn progress; /* never NULL */
    void *progress_ctx;         /* pass back to progress() */
};

/* What estimate() returns for one task. */
struct shotq_estimate {
    uint64_t mem_bytes; /* device memory the task needs, 0 = unknown */
    double weight;      /* relative cost, 0 = unknown (treated as 1) */
};

struct shotq_plugin {
    int abi_version;  /* SHOTQ_PLUGIN_ABI_VERSION */
    const char *name; /* short name for logs and reports */

    /* Called once per worker. Stores the plugin's state in *state.
     * Returns 0, or non-zero if the device cannot be used (the worker reports
     * the failure and the device slot counts a failure). */
    int (*init)(const struct shotq_device_info *dev, const char *config, void **state);

    /* Runs one task. Returns 0 on success, non-zero on failure. */
    int (*run)(void *state, const struct shotq_task_info *task);

    /* Releases the state. May be NULL. */
    void (*fini)(void *state);

    /* Optional (may be NULL): estimates one task's memory and weight from the
     * configuration alone, in the coordinator, before anything runs.
     * Returns 0, or non-zero if the task is invalid. */
    int (*estimate)(const char *config, const struct shotq_task_info *task,
                    struct shotq_estimate *out);
};

typedef const struct shotq_plugin *(*shotq_plugin_entry_fn)(void);

/* The one symbol a plugin exports. */
const struct shotq_plugin *shotq_plugin_entry(void);

#ifdef __cplusplus
}
#endif

#endif /* SHOTQ_PLUGIN_H */
