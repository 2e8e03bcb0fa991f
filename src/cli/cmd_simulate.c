/* `shotq simulate`: the policy core on a virtual clock, to plan clusters and
 * compare policies. Task duration = weight / device speed. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/opts.h"
#include "devices/devices.h"
#include "sched/simrun.h"
#include "tasks/tasks.h"
#include "util/log.h"

static const char sim_usage[] =
    "usage: shotq simulate --devices sim:SPEC (--tasks N | --tasks-file FILE)\n"
    "                      [--policy P] [--slots N] [--latency SEC] [--json]\n"
    "Runs the scheduler on a virtual clock: a task of weight W takes W/SPEED seconds.\n"
    "  --devices SPEC   simulated devices, sim:NAME:SPEED[:MEM_MIB][xCOUNT],...\n"
    "  --tasks N        N tasks of weight 1\n"
    "  --tasks-file F   lines 'ID [weight=W] [mem=MiB] ...' ('-' = stdin)\n"
    "  --policy P       dynamic (default), static or memfree\n"
    "  --slots N        concurrent tasks per device (default 1)\n"
    "  --latency SEC    dispatch latency to devices off the coordinator's node\n"
    "  --json           print a JSON object instead of text\n";

/* Prints per-device utilisation, grouped by device name when there are many. */
static void print_text(const struct dev_list *devs, const struct simrun_result *r,
                       const char *policy, size_t ntasks)
{
    printf("policy %s: %zu tasks on %zu devices\n", policy, ntasks, devs->n);
    printf("makespan     %.6f s\n", r->makespan_s);
    printf("lower bound  %.6f s\n", r->lower_bound_s);
    printf("ratio        %.4f\n",
           r->lower_bound_s > 0 ? r->makespan_s / r->lower_bound_s : 0);
    if (r->tasks_unrun)
        printf("not run      %zu tasks (fit on no device)\n", r->tasks_unrun);
    if (devs->n <= 32) {
        for (size_t d = 0; d < devs->n; d++)
            printf(
                "  [%zu] %-16s speed %-6g tasks %-8lld busy %.3f s  utilisation %.1f%%\n",
                d, devs->v[d].name, devs->v[d].speed, (long long)r->tasks_per_dev[d],
                r->busy_s[d], r->makespan_s > 0 ? 100 * r->busy_s[d] / r->makespan_s : 0);
        return;
    }
    /* Many devices: one line per device name. */
    for (size_t d = 0; d < devs->n; d++) {
        bool first = true;
        for (size_t e = 0; e < d && first; e++)
            first = strcmp(devs->v[e].name, devs->v[d].name) != 0;
        if (!first)
            continue;
        size_t count = 0;
        long long tasks = 0;
        double busy = 0;
        for (size_t e = d; e < devs->n; e++) {
            if (strcmp(devs->v[e].name, devs->v[d].name))
                continue;
            count++;
            tasks += r->tasks_per_dev[e];
            busy += r->busy_s[e];
        }
        printf("  %zu x %-16s speed %-6g tasks %-10lld utilisation %.1f%%\n", count,
               devs->v[d].name, devs->v[d].speed, tasks,
               r->makespan_s > 0 ? 100 * busy / ((double)count * r->makespan_s) : 0);
    }
}

static int print_json(const struct dev_list *devs, const struct simrun_result *r,
                      const char *policy, size_t ntasks)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "policy", policy);
    cJSON_AddNumberToObject(o, "tasks", (double)ntasks);
    cJSON_AddNumberToObject(o, "makespan_s", r->makespan_s);
    cJSON_AddNumberToObject(o, "lower_bound_s", r->lower_bound_s);
    cJSON_AddNumberToObject(o, "ratio",
                            r->lower_bound_s > 0 ? r->makespan_s / r->lower_bound_s : 0);
    cJSON_AddNumberToObject(o, "tasks_not_run", (double)r->tasks_unrun);
    cJSON *arr = cJSON_AddArrayToObject(o, "devices");
    for (size_t d = 0; d < devs->n; d++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "index", (double)d);
        cJSON_AddStringToObject(e, "name", devs->v[d].name);
        cJSON_AddStringToObject(e, "node", devs->v[d].node);
        cJSON_AddNumberToObject(e, "speed", devs->v[d].speed);
        cJSON_AddNumberToObject(e, "tasks_done", (double)r->tasks_per_dev[d]);
        cJSON_AddNumberToObject(e, "busy_s", r->busy_s[d]);
        cJSON_AddNumberToObject(e, "utilisation",
                                r->makespan_s > 0 ? r->busy_s[d] / r->makespan_s : 0);
        cJSON_AddItemToArray(arr, e);
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s)
        return -ENOMEM;
    puts(s);
    free(s);
    return 0;
}

int cmd_simulate(int argc, char **argv)
{
    const char *spec = NULL, *tasks_file = NULL;
    long ntasks = -1, slots = 1;
    double latency = 0;
    bool json = false;
    struct sched_params p = sched_params_default();
    struct opts o;
    opts_init(&o, argc, argv);
    const char *name;
    while ((name = opts_next(&o))) {
        int rc = 0;
        if (opts_is(&o, "--help") || opts_is(&o, "-h")) {
            fputs(sim_usage, stdout);
            return 0;
        } else if (opts_is(&o, "--devices")) {
            rc = opts_str(&o, &spec);
        } else if (opts_is(&o, "--tasks")) {
            rc = opts_int(&o, 1, 1000000000L, &ntasks);
        } else if (opts_is(&o, "--tasks-file")) {
            rc = opts_str(&o, &tasks_file);
        } else if (opts_is(&o, "--slots")) {
            rc = opts_int(&o, 1, 1024, &slots);
        } else if (opts_is(&o, "--latency")) {
            rc = opts_double(&o, 0, 3600, &latency);
        } else if (opts_is(&o, "--json")) {
            rc = opts_flag(&o);
            json = true;
        } else if (opts_is(&o, "--policy")) {
            const char *pol;
            rc = opts_str(&o, &pol);
            if (!rc && sched_policy_parse(pol, &p.policy)) {
                snprintf(o.err, sizeof o.err,
                         "option --policy '%s': expected dynamic, static or memfree",
                         pol);
                rc = -EINVAL;
            }
        } else {
            rc = opts_unknown(&o, "an option of shotq simulate; see --help");
        }
        if (rc) {
            log_msg(LOG_ERROR, "%s", o.err);
            return 2;
        }
    }
    if (o.i < o.argc) {
        log_msg(LOG_ERROR, "unexpected argument '%s' (expected an option)", o.argv[o.i]);
        return 2;
    }
    if ((ntasks < 0) == (tasks_file == NULL)) {
        log_msg(LOG_ERROR, "expected exactly one of --tasks N and --tasks-file FILE");
        return 2;
    }
    p.slots = (int)slots;
    char err[1024];
    struct dev_list devs = {0};
    struct taskset ts = {0};
    struct simrun_dev *sd = NULL;
    double *w = NULL;
    int status = 2;
    if (!spec || strncmp(spec, "sim:", 4)) {
        log_msg(LOG_ERROR,
                "--devices '%s': expected simulated devices sim:NAME:SPEED[:MEM_MIB]"
                "[xCOUNT],...",
                spec ? spec : "");
        return 2;
    }
    if (dev_discover(spec, &devs, err, sizeof err)) {
        log_msg(LOG_ERROR, "%s", err);
        return 2;
    }
    if (tasks_file) {
        FILE *f = strcmp(tasks_file, "-") ? fopen(tasks_file, "re") : stdin;
        if (!f) {
            log_msg(LOG_ERROR, "--tasks-file '%s': cannot open: %s", tasks_file,
                    strerror(errno));
            goto out;
        }
        int rc = tasks_read(&ts, f, tasks_file, err, sizeof err);
        if (f != stdin)
            fclose(f);
        if (rc || tasks_check_unique(&ts, err, sizeof err)) {
            log_msg(LOG_ERROR, "%s", err);
            goto out;
        }
        ntasks = (long)ts.n;
    }
    sd = calloc(devs.n, sizeof *sd);
    if (!sd)
        goto out;
    for (size_t d = 0; d < devs.n; d++) {
        sd[d].speed = devs.v[d].speed;
        sd[d].mem_total = devs.v[d].mem_total;
        sd[d].node = 0;
    }
    struct simrun_result r;
    int rc = simrun(&p, sd, devs.n, tasks_file ? ts.weight : NULL,
                    tasks_file ? ts.mem : NULL, (size_t)ntasks, latency, &r);
    if (rc) {
        log_msg(LOG_ERROR, "simulation failed: %s", strerror(-rc));
        status = 1;
        goto out;
    }
    if (json)
        print_json(&devs, &r, sched_policy_name(p.policy), (size_t)ntasks);
    else
        print_text(&devs, &r, sched_policy_name(p.policy), (size_t)ntasks);
    status = r.tasks_unrun ? 1 : 0;
    simrun_result_free(&r);
out:
    free(sd);
    free(w);
    tasks_free(&ts);
    dev_list_free(&devs);
    return status;
}
