/* `shotq simulate`: the policy core on a virtual clock, to plan clusters and
 * compare policies. Task duration = weight / device speed. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/opts.h"
#include "devices/devices.h"
#include "sched/simrun.h"
#include "tasks/tasks.h"
#include "util/atomic_file.h"
#include "util/log.h"

static const char sim_usage[] =
    "usage: shotq simulate --devices sim:SPEC (--tasks N | --tasks-file FILE)\n"
    "                      [--nodes N] [--policy P] [--slots N] [--latency SEC] "
    "[--json]\n"
    "Runs the scheduler on a virtual clock: a task of weight W takes W/SPEED seconds.\n"
    "  --devices SPEC   simulated devices, sim:NAME:SPEED[:MEM_MIB][xCOUNT],...;\n"
    "                   ';' separates nodes: 'sim:a:1x8;sim:b:0.5x4' is 8 a on node 0\n"
    "                   (the coordinator's) and 4 b on node 1\n"
    "  --nodes N        N nodes, taking the ';'-separated specs in turn (default: one\n"
    "                   per spec): --devices sim:a:1x8 --nodes 64 is 64 nodes x 8 GPUs\n"
    "  --tasks N        N tasks of weight 1\n"
    "  --tasks-file F   lines 'ID [weight=W] [mem=MiB] [gpus=N] ...' ('-' = stdin);\n"
    "                   a task with gpus=N runs on N devices of one node at once,\n"
    "                   at the sum of their speeds\n"
    "  --gpus-per-task N  devices per task for tasks without gpus= (default 1)\n"
    "  --schedule FILE  write each task's devices, start and end as JSON\n"
    "  --policy P       dynamic (default), static or memfree\n"
    "  --slots N        concurrent tasks per device (default 1)\n"
    "  --latency SEC    dispatch latency to devices off the coordinator's node (node "
    "0),\n"
    "                   added to every task started there\n"
    "  --cost-model lognormal:SIGMA[:SEED]\n"
    "                   true cost of a task = its weight x exp(SIGMA x N(0,1)), unknown\n"
    "                   to the scheduler (default: the weight is the true cost)\n"
    "  --costs-file F   true costs, one number per line in task order\n"
    "  --slowdown DEV@T:F  device DEV runs at F x its speed from T seconds on\n"
    "                   (repeatable, factors compound)\n"
    "  --speculate      backup copies of stragglers when nothing is pending\n"
    "  --no-tail-guard  turn the tail guard off\n"
    "  --json           print a JSON object instead of text\n";

#define SIM_MAX_SLOW 64

/* splitmix64: a small seeded generator, so that runs are reproducible. */
static uint64_t sim_rand(uint64_t *st)
{
    uint64_t z = (*st += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A uniform number in (0, 1). */
static double sim_unif(uint64_t *st)
{
    return ((double)(sim_rand(st) >> 11) + 0.5) / 9007199254740992.0;
}

/* Fills cost[i] = weight[i] x lognormal(0, sigma) from seed (Box-Muller). */
static void sim_lognormal(double *cost, const double *weight, size_t n, double sigma,
                          uint64_t seed)
{
    uint64_t st = seed;
    for (size_t i = 0; i < n; i++) {
        double z = sqrt(-2 * log(sim_unif(&st))) * cos(6.283185307179586 * sim_unif(&st));
        cost[i] = (weight ? weight[i] : 1.0) * exp(sigma * z);
    }
}

/* Parses "lognormal:SIGMA[:SEED]". Returns 0 or -EINVAL with err set. */
static int sim_parse_model(const char *m, double *sigma, uint64_t *seed, char *err,
                           size_t errlen)
{
    char *end;
    *seed = 1;
    if (strncmp(m, "lognormal:", 10))
        goto bad;
    *sigma = strtod(m + 10, &end);
    if (end == m + 10 || !(*sigma >= 0 && *sigma <= 10))
        goto bad;
    if (*end == ':') {
        const char *q = end + 1;
        errno = 0;
        *seed = strtoull(q, &end, 10);
        if (end == q || errno)
            goto bad;
    }
    if (*end == '\0')
        return 0;
bad:
    snprintf(err, errlen,
             "option --cost-model '%s': expected lognormal:SIGMA[:SEED] with 0 <= SIGMA "
             "<= 10",
             m);
    return -EINVAL;
}

/* Parses "DEV@T:F" into *out. Returns 0 or -EINVAL with err set. */
static int sim_parse_slow(const char *a, struct simrun_slowdown *out, char *err,
                          size_t errlen)
{
    char *end;
    errno = 0;
    unsigned long d = strtoul(a, &end, 10);
    if (end == a || *end != '@' || errno)
        goto bad;
    const char *q = end + 1;
    out->at_s = strtod(q, &end);
    if (end == q || *end != ':' || !(out->at_s >= 0) || !isfinite(out->at_s))
        goto bad;
    q = end + 1;
    out->factor = strtod(q, &end);
    if (end == q || *end || !(out->factor > 0) || !isfinite(out->factor))
        goto bad;
    out->dev = d;
    return 0;
bad:
    snprintf(err, errlen,
             "option --slowdown '%s': expected DEV@SECONDS:FACTOR (e.g. 3@10:0.1)", a);
    return -EINVAL;
}

/* Reads n true costs, one per line, from path. Returns 0 or -EINVAL with err
 * set. */
static int sim_read_costs(const char *path, double *cost, size_t n, char *err,
                          size_t errlen)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(err, errlen, "--costs-file '%s': cannot open: %s", path,
                 strerror(errno));
        return -EINVAL;
    }
    char line[256];
    size_t i = 0, lineno = 0;
    int rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *end;
        double c = strtod(line, &end);
        while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
            end++;
        if (end == line || *end || !(c > 0) || !isfinite(c) || i >= n) {
            snprintf(err, errlen, "--costs-file '%s' line %zu: expected %s", path, lineno,
                     i >= n ? "no more lines than tasks" : "one positive number");
            rc = -EINVAL;
            goto out;
        }
        cost[i++] = c;
    }
    if (i != n) {
        snprintf(err, errlen, "--costs-file '%s': %zu costs, expected one per task (%zu)",
                 path, i, n);
        rc = -EINVAL;
    }
out:
    fclose(f);
    return rc;
}

/* Prints per-device utilisation, grouped by device name when there are many. */
static void print_text(const struct dev_list *devs, const struct simrun_result *r,
                       const char *policy, size_t ntasks, size_t nnodes, double latency)
{
    printf("policy %s: %zu tasks on %zu devices", policy, ntasks, devs->n);
    if (nnodes > 1)
        printf(" on %zu nodes (latency %g s off node 0)", nnodes, latency);
    printf("\n");
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

/* Parses the ';'-separated per-node SPECs and lays them out on nodes nodes
 * (0 = one per spec), in turn; names the nodes node0, node1, ... and sets
 * each simulated device's node index in sd (allocated here). Returns 0, or
 * -EINVAL / -ENOMEM with err set. */
static int node_devices(const char *spec, long nodes, struct dev_list *devs,
                        struct simrun_dev **sd, char *err, size_t errlen)
{
    size_t ngroups = 1;
    for (const char *p = spec; *p; p++)
        ngroups += *p == ';';
    struct dev_list *g = calloc(ngroups, sizeof *g);
    char *copy = strdup(spec);
    int rc = -ENOMEM;
    if (!g || !copy) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    char *item = copy;
    for (size_t k = 0; k < ngroups; k++) {
        char *semi = strchr(item, ';');
        if (semi)
            *semi = '\0';
        if (strncmp(item, "sim:", 4)) {
            snprintf(err, errlen,
                     "--devices '%s': node %zu: expected simulated devices "
                     "sim:NAME:SPEED[:MEM_MIB][xCOUNT],... (nodes separated by ';')",
                     spec, k);
            rc = -EINVAL;
            goto out;
        }
        if ((rc = dev_discover(item, &g[k], err, errlen)))
            goto out;
        item = semi ? semi + 1 : item;
    }
    size_t nn = nodes > 0 ? (size_t)nodes : ngroups, total = 0;
    for (size_t n = 0; n < nn; n++)
        total += g[n % ngroups].n;
    devs->v = calloc(total, sizeof *devs->v);
    *sd = calloc(total, sizeof **sd);
    if (!devs->v || !*sd) {
        snprintf(err, errlen, "out of memory");
        rc = -ENOMEM;
        goto out;
    }
    for (size_t n = 0; n < nn; n++) {
        const struct dev_list *src = &g[n % ngroups];
        for (size_t i = 0; i < src->n; i++) {
            struct dev_info *v = &devs->v[devs->n];
            *v = src->v[i];
            if (nn > 1)
                snprintf(v->node, sizeof v->node, "node%zu", n);
            (*sd)[devs->n] = (struct simrun_dev){
                .speed = v->speed, .mem_total = v->mem_total, .node = (int)n};
            devs->n++;
        }
    }
    rc = 0;
out:
    for (size_t k = 0; g && k < ngroups; k++)
        dev_list_free(&g[k]);
    free(g);
    free(copy);
    return rc;
}

static int print_json(const struct dev_list *devs, const struct simrun_result *r,
                      const char *policy, size_t ntasks, size_t nnodes, double latency)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "policy", policy);
    cJSON_AddNumberToObject(o, "tasks", (double)ntasks);
    cJSON_AddNumberToObject(o, "nodes", (double)nnodes);
    cJSON_AddNumberToObject(o, "latency_s", latency);
    cJSON_AddNumberToObject(o, "makespan_s", r->makespan_s);
    cJSON_AddNumberToObject(o, "lower_bound_s", r->lower_bound_s);
    cJSON_AddNumberToObject(o, "ratio",
                            r->lower_bound_s > 0 ? r->makespan_s / r->lower_bound_s : 0);
    cJSON_AddNumberToObject(o, "sched_lower_bound_s", r->sched_lower_bound_s);
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

/* Checks that every slowdown names a device. Returns 0 or -EINVAL with err
 * set. */
static int sim_check_slow(const struct simrun_slowdown *slow, size_t nslow, size_t ndev,
                          char *err, size_t errlen)
{
    for (size_t k = 0; k < nslow; k++) {
        if (slow[k].dev >= ndev) {
            snprintf(err, errlen, "option --slowdown: device %zu: expected 0..%zu",
                     slow[k].dev, ndev - 1);
            return -EINVAL;
        }
    }
    return 0;
}

/* Builds the true costs of n tasks from --cost-model or --costs-file into
 * *cost (allocated; NULL when neither is given: the weights are the costs).
 * Returns 0, or -EINVAL / -ENOMEM with err set. */
static int sim_costs(const char *cost_model, const char *costs_file, const double *weight,
                     size_t n, double **cost, char *err, size_t errlen)
{
    double sigma = 0;
    uint64_t seed = 1;
    *cost = NULL;
    if (!cost_model && !costs_file)
        return 0;
    if (cost_model && costs_file) {
        snprintf(err, errlen, "expected at most one of --cost-model and --costs-file");
        return -EINVAL;
    }
    if (cost_model && sim_parse_model(cost_model, &sigma, &seed, err, errlen))
        return -EINVAL;
    if (!(*cost = malloc((n ? n : 1) * sizeof **cost))) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    if (cost_model) {
        sim_lognormal(*cost, weight, n, sigma, seed);
        return 0;
    }
    return sim_read_costs(costs_file, *cost, n, err, errlen);
}

/* Widths of the n tasks (a task file's gpus=N, else gpt) into a new array
 * *out. Returns 0, -ENOMEM, or -EINVAL with err naming a task wider than
 * every node, or wide tasks under another policy than dynamic. */
static int sim_widths(const struct taskset *ts, size_t n, long gpt,
                      const struct simrun_dev *sd, size_t nd, enum sched_policy pol,
                      int **out, char *err, size_t errlen)
{
    size_t most = 0; /* devices of the largest node */
    for (size_t a = 0, b = 0; a < nd; a = b) {
        for (b = a; b < nd && sd[b].node == sd[a].node; b++)
            ;
        most = b - a > most ? b - a : most;
    }
    *out = malloc((n ? n : 1) * sizeof **out);
    if (!*out)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        int w = ts && ts->width[i] > 1 ? ts->width[i] : (int)gpt;
        long long id = ts ? (long long)ts->id[i] : (long long)i;
        (*out)[i] = w;
        if (w > 1 && pol != SCHED_DYNAMIC) {
            snprintf(err, errlen,
                     "task %lld: gpus=%d needs the dynamic policy (expected "
                     "--policy dynamic or single-device tasks)",
                     id, w);
            return -EINVAL;
        }
        if ((size_t)w > most) {
            snprintf(err, errlen,
                     "task %lld: gpus=%d but no node has more than %zu devices "
                     "(expected gpus= at most %zu)",
                     id, w, most, most);
            return -EINVAL;
        }
    }
    return 0;
}

/* Writes the simulated schedule to path: {"tasks": [{"id", "devices",
 * "start_s", "end_s"}]} (null times for tasks that never ran). Returns 0 or
 * -errno with err set. */
static int sim_write_schedule(const char *path, const struct taskset *ts,
                              const struct simrun_result *r, size_t n, char *err,
                              size_t errlen)
{
    struct atomic_file a;
    int rc = atomic_open(&a, path, err, errlen);
    if (rc)
        return rc;
    fputs("{\"tasks\":[", a.f);
    for (size_t i = 0; i < n; i++) {
        const struct simrun_task *t = &r->tasks[i];
        fprintf(a.f, "%s{\"id\":%lld,\"devices\":[", i ? "," : "",
                ts ? (long long)ts->id[i] : (long long)i);
        for (size_t k = 0; k < t->ndevs; k++)
            fprintf(a.f, "%s%zu", k ? "," : "", t->devs[k]);
        if (t->ndevs)
            fprintf(a.f, "],\"start_s\":%.9g,\"end_s\":%.9g}", t->start_s, t->end_s);
        else
            fputs("],\"start_s\":null,\"end_s\":null}", a.f);
    }
    fputs("]}\n", a.f);
    return atomic_close(&a, true, err, errlen);
}

int cmd_simulate(int argc, char **argv)
{
    const char *spec = NULL, *tasks_file = NULL, *cost_model = NULL, *costs_file = NULL;
    struct simrun_slowdown slow[SIM_MAX_SLOW];
    size_t nslow = 0;
    long ntasks = -1, slots = 1, nodes = 0, gpt = 1;
    const char *schedule = NULL;
    int *widths = NULL;
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
        } else if (opts_is(&o, "--gpus-per-task")) {
            rc = opts_int(&o, 1, TASKS_WIDTH_MAX, &gpt);
        } else if (opts_is(&o, "--schedule")) {
            rc = opts_str(&o, &schedule);
        } else if (opts_is(&o, "--nodes")) {
            rc = opts_int(&o, 1, 100000, &nodes);
        } else if (opts_is(&o, "--latency")) {
            rc = opts_double(&o, 0, 3600, &latency);
        } else if (opts_is(&o, "--cost-model")) {
            rc = opts_str(&o, &cost_model);
        } else if (opts_is(&o, "--costs-file")) {
            rc = opts_str(&o, &costs_file);
        } else if (opts_is(&o, "--slowdown")) {
            const char *a;
            rc = opts_str(&o, &a);
            if (!rc && nslow == SIM_MAX_SLOW) {
                snprintf(o.err, sizeof o.err, "option --slowdown: at most %d",
                         SIM_MAX_SLOW);
                rc = -EINVAL;
            }
            if (!rc)
                rc = sim_parse_slow(a, &slow[nslow++], o.err, sizeof o.err);
        } else if (opts_is(&o, "--speculate")) {
            rc = opts_flag(&o);
            p.speculate = true;
        } else if (opts_is(&o, "--no-tail-guard")) {
            rc = opts_flag(&o);
            p.tail_guard = false;
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
    double *cost = NULL;
    int status = 2;
    if (!spec || strncmp(spec, "sim:", 4)) {
        log_msg(LOG_ERROR,
                "--devices '%s': expected simulated devices sim:NAME:SPEED[:MEM_MIB]"
                "[xCOUNT],...",
                spec ? spec : "");
        return 2;
    }
    if (node_devices(spec, nodes, &devs, &sd, err, sizeof err)) {
        log_msg(LOG_ERROR, "%s", err);
        goto out;
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
    struct simrun_model model = {
        .slow = slow, .nslow = nslow, .record = schedule != NULL};
    if (sim_widths(tasks_file ? &ts : NULL, (size_t)ntasks, gpt, sd, devs.n, p.policy,
                   &widths, err, sizeof err) ||
        sim_costs(cost_model, costs_file, tasks_file ? ts.weight : NULL, (size_t)ntasks,
                  &cost, err, sizeof err) ||
        sim_check_slow(slow, nslow, devs.n, err, sizeof err)) {
        log_msg(LOG_ERROR, "%s", err);
        goto out;
    }
    model.cost = cost;
    model.width = widths;
    struct simrun_result r;
    int rc = simrun(&p, sd, devs.n, tasks_file ? ts.weight : NULL,
                    tasks_file ? ts.mem : NULL, (size_t)ntasks, latency, &model, &r);
    if (rc) {
        log_msg(LOG_ERROR, "simulation failed: %s", strerror(-rc));
        status = 1;
        goto out;
    }
    size_t nnodes = devs.n ? (size_t)sd[devs.n - 1].node + 1 : 0;
    if (json)
        print_json(&devs, &r, sched_policy_name(p.policy), (size_t)ntasks, nnodes,
                   latency);
    else
        print_text(&devs, &r, sched_policy_name(p.policy), (size_t)ntasks, nnodes,
                   latency);
    status = r.tasks_unrun ? 1 : 0;
    if (schedule && sim_write_schedule(schedule, tasks_file ? &ts : NULL, &r,
                                       (size_t)ntasks, err, sizeof err)) {
        log_msg(LOG_ERROR, "%s", err);
        status = 1;
    }
    simrun_result_free(&r);
out:
    free(widths);
    free(cost);
    free(sd);
    tasks_free(&ts);
    dev_list_free(&devs);
    return status;
}
