/* fd_plugin: glue between the shotq plugin ABI and fd_shot. */
#include "fd/fd_plugin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fd/fd_check.h"
#include "fd/fd_shot.h"
#include "util/log.h"

/* What a worker keeps between tasks. */
struct fd_plugin_state {
    struct fd_prepared prep;  /* job, model, wavelet */
    struct fd_engine *engine; /* on this worker's device */
    char device[128];         /* for log lines */
};

/* Monotonic clock in seconds. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* shotq_plugin.fini: frees the engine and the prepared job. NULL is ok. */
static void plugin_fini(void *state)
{
    struct fd_plugin_state *s = state;
    if (!s)
        return;
    fd_engine_destroy(s->engine);
    fd_prepared_free(&s->prep);
    free(s);
}

/* shotq_plugin.init: see fd_plugin.h. Returns 0 or -errno; *state NULL on failure. */
static int plugin_init(const struct shotq_device_info *dev, const char *config,
                       void **state)
{
    char err[1024];
    *state = NULL;
    struct fd_plugin_state *s = calloc(1, sizeof *s);
    if (!s) {
        log_msg(LOG_ERROR, "fd: out of memory");
        return -ENOMEM;
    }
    int rc = fd_prepare(config, &s->prep, err, sizeof err);
    if (rc) {
        log_msg(LOG_ERROR, "%s", err);
        goto out_free;
    }
    bool gpu = dev->kind && !strcmp(dev->kind, "gpu");
    snprintf(s->device, sizeof s->device, "%s %d (%s)", dev->kind ? dev->kind : "cpu",
             dev->index, dev->name ? dev->name : "?");
    uint64_t need = fd_check_shot_mem(&s->prep.job);
    if (dev->mem_total && need > dev->mem_total) {
        log_msg(LOG_ERROR, "fd: device %s has %.0f MiB, a shot of %s needs %.0f MiB",
                s->device, (double)dev->mem_total / 1048576.0, config,
                (double)need / 1048576.0);
        rc = -ENOMEM;
        goto out_free;
    }
    s->engine = fd_shot_engine(&s->prep, gpu ? FD_DEVICE_CUDA : FD_DEVICE_CPU,
                               gpu ? dev->cuda_ordinal : 0, gpu ? 0 : dev->ncpus, err,
                               sizeof err);
    if (!s->engine) {
        log_msg(LOG_ERROR, "fd: %s: %s", s->device, err);
        rc = -EIO;
        goto out_free;
    }
    *state = s;
    return 0;
out_free:
    plugin_fini(s);
    return rc;
}

/* shotq_plugin.run: computes and writes shot task->id. Returns 0 or -errno. */
static int plugin_run(void *state, const struct shotq_task_info *task)
{
    struct fd_plugin_state *s = state;
    struct fd_shot_result res;
    char err[1024];
    double t0 = now_s();
    int rc = fd_shot_run(s->engine, &s->prep, task->id, task->progress,
                         task->progress_ctx, &res, err, sizeof err);
    if (rc) {
        log_msg(LOG_ERROR, "shot %lld on %s: %s", (long long)task->id, s->device, err);
        return rc;
    }
    printf("shot %lld: %.3f s wall, %.3f s engine, %.3f Gpts/s, %zu traces on %s -> %s\n",
           (long long)task->id, now_s() - t0, res.seconds, res.gpts, s->prep.job.nrec,
           s->device, res.path);
    fflush(stdout);
    return 0;
}

/* The coordinator calls estimate once per task with the same configuration;
 * one parse is cached (the coordinator is single-threaded). */
static struct {
    char *config;  /* job path of the cached values, owned */
    uint64_t mem;  /* bytes per shot */
    size_t nsrc;   /* shots in the job */
    double weight; /* relative cost of a shot */
} cache;

static int plugin_estimate(const char *config, const struct shotq_task_info *task,
                           struct shotq_estimate *out)
{
    if (!cache.config || strcmp(cache.config, config)) {
        struct fd_job job;
        char err[1024];
        if (fd_job_load(config, &job, err, sizeof err)) {
            log_msg(LOG_ERROR, "%s", err);
            return -EINVAL;
        }
        free(cache.config);
        cache.config = strdup(config);
        cache.mem = fd_check_shot_mem(&job);
        cache.nsrc = job.nsrc;
        /* Relative cost of a shot: vti streams 19 floats per point and step
         * against acoustic1's 14 (measured 1.3-1.5x); tti 44 in four sweeps,
         * measured 4-8.5x acoustic1 on the 2-core CPU (docs/benchmarks-fd.md);
         * acoustic2 stays 1. */
        static const double weights[] = {1.0, 1.0, 1.5, 6.0};
        cache.weight = weights[job.params.equation];
        fd_job_free(&job);
        if (!cache.config)
            return -ENOMEM;
    }
    if (task->id < 0 || (uint64_t)task->id >= cache.nsrc)
        return -EINVAL;
    out->mem_bytes = cache.mem;
    out->weight = cache.weight;
    return 0;
}

static const struct shotq_plugin plugin = {
    .abi_version = SHOTQ_PLUGIN_ABI_VERSION,
    .name = "fd",
    .init = plugin_init,
    .run = plugin_run,
    .fini = plugin_fini,
    .estimate = plugin_estimate,
};

const struct shotq_plugin *fd_plugin(void)
{
    return &plugin;
}
