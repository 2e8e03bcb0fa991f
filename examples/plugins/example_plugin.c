/* example_plugin: a shotq plugin showing the ABI, used by the tests and the
 * throughput benchmark.
 *
 * Configuration string (--plugin-config), space-separated:
 *   sleep=SECONDS   each task sleeps SECONDS * weight / device speed
 *                   (default 0: a no-op task);
 *   stall=N:F       ... and F times longer on device N (a device that runs
 *                   slower than its speed says: tests of speculation);
 *   initdir=DIR     init() creates DIR/init.PID (tests count worker starts),
 *                   naming its device, slot and OMP_WAIT_POLICY.
 * Task arguments: "crash" makes run() crash the worker (SIGSEGV), "fail"
 * makes it return an error, "fail-on=N" fails on device N only, "cost=C"
 * sleeps as if the weight were C (a cost the scheduler does not know). */
/* nanosleep() is POSIX: the example builds alone, with -std=c11 too. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shotq/plugin.h"

struct state {
    double sleep_s; /* seconds per unit of weight at speed 1 */
    double speed;   /* device speed */
    int device;     /* device index */
    double stall;   /* sleep factor on this device (stall=N:F), 1 = none */
    long tasks;     /* tasks run by this worker */
};

static int ex_init(const struct shotq_device_info *dev, const char *config, void **out)
{
    struct state *s = calloc(1, sizeof *s);
    if (!s)
        return 1;
    s->speed = dev->speed > 0 ? dev->speed : 1.0;
    s->device = dev->index;
    const char *p = strstr(config, "sleep=");
    if (p)
        s->sleep_s = strtod(p + 6, NULL);
    s->stall = 1;
    p = strstr(config, "stall=");
    if (p && atoi(p + 6) == s->device && strchr(p, ':'))
        s->stall = strtod(strchr(p, ':') + 1, NULL);
    p = strstr(config, "initdir=");
    if (p) {
        char path[4096];
        int n = (int)strcspn(p + 8, " ");
        snprintf(path, sizeof path, "%.*s/init.%ld", n, p + 8, (long)getpid());
        FILE *f = fopen(path, "w");
        if (!f) {
            free(s);
            return 2;
        }
        const char *wait = getenv("OMP_WAIT_POLICY");
        fprintf(f, "device %d slot %d OMP_WAIT_POLICY %s\n", dev->index, dev->slot,
                wait ? wait : "-");
        fclose(f);
    }
    *out = s;
    return 0;
}

static int ex_run(void *state, const struct shotq_task_info *task)
{
    struct state *s = state;
    s->tasks++;
    if (!strcmp(task->args, "crash"))
        raise(SIGSEGV);
    if (!strcmp(task->args, "fail")) {
        fprintf(stderr, "task %lld: failing on purpose\n", (long long)task->id);
        return 3;
    }
    if (!strncmp(task->args, "fail-on=", 8) && atoi(task->args + 8) == s->device) {
        fprintf(stderr, "task %lld: this device (%d) cannot run it\n",
                (long long)task->id, s->device);
        return 4;
    }
    if (s->sleep_s > 0) {
        double cost = !strncmp(task->args, "cost=", 5) ? atof(task->args + 5) : task->weight;
        double t = s->sleep_s * cost / s->speed * s->stall;
        struct timespec ts = {(time_t)t, (long)((t - (double)(time_t)t) * 1e9)};
        while (nanosleep(&ts, &ts))
            ;
        printf("task %lld slept %.3f s on device %d\n", (long long)task->id, t,
               s->device);
    }
    task->progress(task->progress_ctx, 1.0);
    return 0;
}

static void ex_fini(void *state)
{
    free(state);
}

static int ex_estimate(const char *config, const struct shotq_task_info *task,
                       struct shotq_estimate *out)
{
    (void)config;
    (void)task;
    out->mem_bytes = 0;
    out->weight = 0;
    return 0;
}

static const struct shotq_plugin example = {
    .abi_version = SHOTQ_PLUGIN_ABI_VERSION,
    .name = "example",
    .init = ex_init,
    .run = ex_run,
    .fini = ex_fini,
    .estimate = ex_estimate,
};

const struct shotq_plugin *shotq_plugin_entry(void)
{
    return &example;
}
