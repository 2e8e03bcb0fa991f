/* `shotq run`: options -> devices, tasks, checks -> the event loop.
 * Every bad input is reported here, before anything starts (exit 2). */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "cli/opts.h"
#include "cluster/cluster.h"
#include "devices/devices.h"
#include "exec/plugin_load.h"
#include "exec/proto.h"
#include "exec/runner.h"
#include "exec/spawn.h"
#include "journal/journal.h"
#include "sched/costhist.h"
#include "sched/simrun.h"
#include "tasks/tasks.h"
#include "util/escape.h"
#include "util/log.h"

static const char run_usage[] =
    "usage: shotq run [OPTIONS] -- COMMAND [ARG...]\n"
    "       shotq run [OPTIONS] --plugin LIB.so [--plugin-config STRING]\n"
    "Runs every task once, pulling the next task onto each device slot as it frees.\n"
    "  --devices SPEC      devices: auto (default, or $SHOTQ_DEVICES), cpu[:N], 0,2,\n"
    "                      GPU-<uuid>, sim:NAME:SPEED[:MEM_MIB][xCOUNT],...\n"
    "  --tasks RANGE       task ids: 0-99, 0-99:2, 1,5,9\n"
    "  --tasks-file FILE   lines 'ID [weight=W] [mem=MiB] [gpus=N|cpus=N] ARGS...'\n"
    "                      ('-' = stdin); gpus=N: N devices of one node at once\n"
    "                      (CUDA_VISIBLE_DEVICES lists their UUIDs); cpus=N: N CPU\n"
    "                      devices (cores: OMP_NUM_THREADS, affinity);\n"
    "                      without --tasks/--tasks-file, task lines come from stdin\n"
    "  --slots N           concurrent tasks per device (default 1)\n"
    "  --task-mem MIB|auto device memory each task needs (admission; default none);\n"
    "                      auto: 1.25 x the largest peak measured so far (none\n"
    "                      before the first task ends)\n"
    "  --gpu-busy PCT|off  a GPU more than PCT % used by others (memory, or\n"
    "                      utilisation while no task of ours is on it) takes no\n"
    "                      new task until it frees (default 50; off with\n"
    "                      --task-mem MIB)\n"
    "  --gpus-per-task N   devices each task runs on at once, of one node, for tasks\n"
    "                      without their own gpus=N / cpus=N (default 1)\n"
    "  --policy P          dynamic (default), static or memfree\n"
    "  --retries N         extra attempts of a failed task, on another device (default "
    "2)\n"
    "  --timeout SEC       kill a task after SEC seconds (counts as a failure)\n"
    "  --max-log MIB       cap each stream of a task's log (logs/task-ID.ATTEMPT.out\n"
    "                      and .err) at MIB MiB; the rest is dropped and a marker\n"
    "                      line ends the file (default 1024)\n"
    "  --halt fail=N|fail=P%  stop dispatch after N failed attempts (or P% of the\n"
    "                      task count); default: never, while a device may recover\n"
    "  --backoff BASE:CAP  a quarantined device rests BASE s, doubling, at most CAP s\n"
    "                      (default 10:600); after a CAP-long rest it fails for good\n"
    "  --speculate         when nothing is pending, start a backup copy of a task\n"
    "                      that runs late on its device on an idle faster one; the\n"
    "                      first copy to succeed wins, the other is killed. Only for\n"
    "                      commands whose outputs are written atomically or per\n"
    "                      {attempt} (default: off for run, on for shotq model)\n"
    "  --no-speculate      no backup copies\n"
    "  --run-dir DIR       journal, logs and report (default ./shotq-run)\n"
    "  --costs-from PATH   weights from the task costs an earlier run measured\n"
    "                      (its run directory or report.json); others: the median\n"
    "  --resume            continue the run in --run-dir: only tasks not done run;\n"
    "                      the task set may grow (new ids are added), but every\n"
    "                      task of the run must be in it with the same arguments,\n"
    "                      and the command must be the same\n"
    "  --retry-failed      continue the run in --run-dir with the command given now\n"
    "                      (it may differ): its tasks not done (failed, or not\n"
    "                      finished) run again, done ones never; no task added.\n"
    "                      Both use the run's own report.json as --costs-from\n"
    "  --report FILE       another copy of report.json\n"
    "  --gantt FILE.svg    Gantt chart of the run\n"
    "  --quiet, -q         no progress output\n"
    "  --dry-run           print the plan (devices and their speed priors, which\n"
    "                      devices can hold each task, the first commands, the\n"
    "                      simulated makespan) and exit: starts nothing, writes\n"
    "                      nothing\n"
    "Command placeholders: {} or {task}, {device}, {slot}, {attempt}, {args}.\n"
    "Task ARGS are split like a shell would, without expansion: '...', \"...\", \\.\n"
    "Each task's environment: SHOTQ_TASK, SHOTQ_DEVICE, SHOTQ_DEVICE_NAME,\n"
    "SHOTQ_DEVICE_SPEED, SHOTQ_SLOT, SHOTQ_ATTEMPT, SHOTQ_RUN_DIR,\n"
    "CUDA_VISIBLE_DEVICES, SHOTQ_DEVICES_ASSIGNED (every device of the task,\n"
    "comma-separated), and OMP_WAIT_POLICY=passive unless it is set already.\n"
    "sim: devices are for trying out policies: a task on one runs on this machine\n"
    "like any other command, at full speed; shotq only sets SHOTQ_DEVICE_SPEED to\n"
    "SPEED (and CUDA_VISIBLE_DEVICES to \"\", so no GPU is visible) and admits tasks\n"
    "against MEM_MIB (default 16384). To make a sim device slow, the command must\n"
    "act on it, e.g. sh -c 'sleep $(echo \"0.4 / $SHOTQ_DEVICE_SPEED\" | bc -l)'.\n"
    "Watch a run from elsewhere with shotq status [RUN_DIR].\n"
    "Exit status: 0 all done, 1 some task failed, 2 bad input, 130 interrupted.\n";

struct run_opts {
    const char *devices, *tasks_range, *tasks_file, *run_dir, *report, *gantt;
    const char *plugin, *plugin_config, *costs_from;
    uint64_t config_digest; /* run_preset's */
    long slots, retries, gpus_per_task;
    double task_mem_mib, timeout;
    bool task_mem_auto; /* --task-mem auto */
    double gpu_busy;    /* --gpu-busy PCT, 0 = off; < 0 = not given */
    long max_log_mib; /* --max-log */
    double halt_count, halt_pct, backoff_base, backoff_cap;
    enum sched_policy policy;
    int speculate; /* --speculate 1, --no-speculate 0, -1 = the default */
    bool resume, retry_failed, quiet, dry_run;
    char **cmd; /* after "--" */
};

/* Parses --halt fail=N / fail=P% and --backoff BASE:CAP (value v of option
 * name). Returns 0 or -EINVAL with o->err set. */
static int parse_pair(struct opts *o, const char *name, const char *v,
                      struct run_opts *ro)
{
    char *end = NULL;
    bool halt = !strcmp(name, "--halt");
    if (halt && !strcmp(v, "never")) {
        ro->halt_count = ro->halt_pct = 0;
        return 0;
    }
    const char *num = halt ? (strncmp(v, "fail=", 5) ? NULL : v + 5) : v;
    double a = num ? strtod(num, &end) : -1, b = 0;
    bool ok = num && end != num && a >= 0 && a <= 1e9;
    if (ok && halt) {
        bool pct = *end == '%';
        ok = a > 0 && !end[pct] && (pct ? a <= 100 : a == (double)(long)a);
        ro->halt_pct = pct ? a : 0;
        ro->halt_count = pct ? 0 : a;
    } else if (ok) {
        ok = *end == ':';
        b = ok ? strtod(end + 1, &end) : 0;
        ok = ok && !*end && b >= a && b <= 1e9;
        ro->backoff_base = a;
        ro->backoff_cap = b;
    }
    if (!ok) {
        char esc[256];
        snprintf(o->err, sizeof o->err, "option %s '%s': expected %s", name,
                 util_escape(v, UTIL_ESC_ALL, esc, sizeof esc),
                 halt ? "fail=N (a count), fail=P% (1-100) or never"
                      : "BASE:CAP seconds with 0 <= BASE <= CAP");
        return -EINVAL;
    }
    return 0;
}

/* Parses --task-mem MIB|auto and --gpu-busy PCT|off (option name). Returns
 * 0 or -EINVAL with o->err set. */
static int parse_mem_busy(struct opts *o, const char *name, struct run_opts *ro)
{
    bool mem = !strcmp(name, "--task-mem");
    const char *v;
    if (opts_str(o, &v))
        return -EINVAL;
    char *end = NULL;
    double x = strtod(v, &end);
    bool word = !strcmp(v, mem ? "auto" : "off");
    bool ok =
        word || (end != v && !*end && (mem ? x >= 0 && x <= 1e9 : x >= 1 && x <= 100));
    if (!ok) {
        char esc[256];
        snprintf(o->err, sizeof o->err, "option %s '%s': expected %s", name,
                 util_escape(v, UTIL_ESC_ALL, esc, sizeof esc),
                 mem ? "MiB (0-1e9) or auto" : "a percentage (1-100) or off");
        return -EINVAL;
    }
    if (mem) {
        ro->task_mem_auto = word;
        ro->task_mem_mib = word ? 0 : x;
    } else {
        ro->gpu_busy = word ? 0 : x;
    }
    return 0;
}

/* The scheduler options that take a value: what `shotq model` needs to pass
 * them through. Keep in step with parse() below. */
static const char *const run_value_opts[] = {
    "--devices",  "--tasks",         "--tasks-file", "--slots",         "--task-mem",
    "--gpu-busy", "--gpus-per-task", "--policy",     "--retries",       "--timeout",
    "--max-log",  "--halt",          "--backoff",    "--run-dir",       "--costs-from",
    "--report",   "--gantt",         "--plugin",     "--plugin-config", NULL};

bool run_opt_takes_value(const char *name)
{
    for (int k = 0; run_value_opts[k]; k++)
        if (!strcmp(name, run_value_opts[k]))
            return true;
    return false;
}

/* Parses the options. Returns 0, 1 for --help, or -EINVAL with o->err set. */
static int parse(struct opts *o, struct run_opts *ro, bool preset)
{
    const char *name;
    while ((name = opts_next(o))) {
        int rc = 0;
        if (opts_is(o, "--help") || opts_is(o, "-h")) {
            return 1;
        } else if (opts_is(o, "--devices")) {
            rc = opts_str(o, &ro->devices);
        } else if (opts_is(o, "--tasks") && !preset) {
            rc = opts_str(o, &ro->tasks_range);
        } else if (opts_is(o, "--tasks-file") && !preset) {
            rc = opts_str(o, &ro->tasks_file);
        } else if (opts_is(o, "--slots")) {
            rc = opts_int(o, 1, 1024, &ro->slots);
        } else if (opts_is(o, "--gpus-per-task")) {
            rc = opts_int(o, 1, TASKS_WIDTH_MAX, &ro->gpus_per_task);
        } else if (opts_is(o, "--task-mem") || opts_is(o, "--gpu-busy")) {
            rc = parse_mem_busy(o, name, ro);
        } else if (opts_is(o, "--policy")) {
            const char *p;
            rc = opts_str(o, &p);
            char esc[256];
            if (!rc && sched_policy_parse(p, &ro->policy)) {
                snprintf(o->err, sizeof o->err,
                         "option --policy '%s': expected dynamic, static or memfree",
                         util_escape(p, UTIL_ESC_ALL, esc, sizeof esc));
                rc = -EINVAL;
            }
        } else if (opts_is(o, "--retries")) {
            rc = opts_int(o, 0, 100, &ro->retries);
        } else if (opts_is(o, "--timeout")) {
            rc = opts_double(o, 0.001, 1e9, &ro->timeout);
        } else if (opts_is(o, "--max-log")) {
            rc = opts_int(o, 1, 1048576, &ro->max_log_mib);
        } else if (opts_is(o, "--halt") || opts_is(o, "--backoff")) {
            const char *v;
            rc = opts_str(o, &v);
            if (!rc)
                rc = parse_pair(o, name, v, ro);
        } else if (opts_is(o, "--run-dir")) {
            rc = opts_str(o, &ro->run_dir);
        } else if (opts_is(o, "--costs-from")) {
            rc = opts_str(o, &ro->costs_from);
        } else if (opts_is(o, "--resume")) {
            rc = opts_flag(o);
            ro->resume = true;
        } else if (opts_is(o, "--retry-failed")) {
            rc = opts_flag(o);
            ro->resume = ro->retry_failed = true;
        } else if (opts_is(o, "--report")) {
            rc = opts_str(o, &ro->report);
        } else if (opts_is(o, "--gantt")) {
            rc = opts_str(o, &ro->gantt);
        } else if (opts_is(o, "--quiet") || opts_is(o, "-q")) {
            rc = opts_flag(o);
            ro->quiet = true;
        } else if (opts_is(o, "--speculate") || opts_is(o, "--no-speculate")) {
            rc = opts_flag(o);
            ro->speculate = opts_is(o, "--speculate");
        } else if (opts_is(o, "--dry-run")) {
            rc = opts_flag(o);
            ro->dry_run = true;
        } else if (opts_is(o, "--plugin") && !preset) {
            rc = opts_str(o, &ro->plugin);
        } else if (opts_is(o, "--plugin-config") && !preset) {
            rc = opts_str(o, &ro->plugin_config);
        } else {
            return opts_unknown(o, preset ? "a scheduler option; see shotq run --help"
                                          : "an option of shotq run; see --help");
        }
        if (rc)
            return rc;
    }
    if (o->i < o->argc) {
        if (preset || (o->i > 0 && strcmp(o->argv[o->i - 1], "--"))) {
            char esc[256];
            snprintf(o->err, sizeof o->err,
                     "unexpected argument '%s' (expected an option%s)",
                     util_escape(o->argv[o->i], UTIL_ESC_ALL, esc, sizeof esc),
                     preset ? "" : ", or '--' before the command");
            return -EINVAL;
        }
        ro->cmd = &o->argv[o->i];
    }
    return 0;
}

/* Reads the tasks the options name. Returns 0 or -EINVAL with err set. */
static int load_tasks(const struct run_opts *ro, const struct run_preset *preset,
                      struct taskset *ts, char *err, size_t errlen)
{
    if (preset) {
        for (int64_t i = 0; i < preset->ntasks; i++)
            if (tasks_add(ts, i, 1.0, 0, "")) {
                snprintf(err, errlen, "%" PRId64 " shots: out of memory", preset->ntasks);
                return -ENOMEM;
            }
        /* The id index is what --resume matches the journal's done events
         * with: every task set gets it, a preset's as much as a file's. */
        return tasks_check_unique(ts, err, errlen);
    }
    if (ro->tasks_range && ro->tasks_file) {
        snprintf(err, errlen, "--tasks and --tasks-file: expected only one of them");
        return -EINVAL;
    }
    int rc;
    if (ro->tasks_range) {
        rc = tasks_parse_range(ts, ro->tasks_range, err, errlen);
    } else if (ro->tasks_file && strcmp(ro->tasks_file, "-")) {
        FILE *f = fopen(ro->tasks_file, "re");
        if (!f) {
            int e = errno;
            char esc[256];
            snprintf(err, errlen, "--tasks-file '%s': cannot open: %s",
                     util_escape(ro->tasks_file, UTIL_ESC_ALL, esc, sizeof esc),
                     util_errtext(-e));
            return -EINVAL;
        }
        rc = tasks_read(ts, f, ro->tasks_file, err, errlen);
        fclose(f);
    } else {
        if (!ro->tasks_file && isatty(0)) {
            snprintf(
                err, errlen,
                "no tasks: expected --tasks RANGE, --tasks-file FILE or task lines on "
                "stdin");
            return -EINVAL;
        }
        rc = tasks_read(ts, stdin, "stdin", err, errlen);
    }
    if (rc)
        return rc;
    if (ts->n == 0) {
        snprintf(err, errlen, "no tasks: the task list is empty (expected at least one)");
        return -EINVAL;
    }
    return tasks_check_unique(ts, err, errlen);
}

/* Fingerprint of the command, or of the plugin and its configuration. */
static uint64_t command_fingerprint(const struct run_opts *ro)
{
    uint64_t h = JRNL_FNV_INIT;
    if (ro->plugin) {
        h = jrnl_hash(h, "plugin", 7);
        h = jrnl_hash(h, ro->plugin, strlen(ro->plugin) + 1);
        if (ro->plugin_config)
            h = jrnl_hash(h, ro->plugin_config, strlen(ro->plugin_config) + 1);
        if (ro->config_digest)
            h = jrnl_hash(h, &ro->config_digest, sizeof ro->config_digest);
    } else {
        for (char **a = ro->cmd; *a; a++)
            h = jrnl_hash(h, *a, strlen(*a) + 1);
    }
    return h;
}

/* Fingerprint of what the run does: command or plugin + task set. */
static uint64_t fingerprint(const struct run_opts *ro, const struct taskset *ts)
{
    uint64_t h = command_fingerprint(ro);
    for (size_t i = 0; i < ts->n; i++) {
        h = jrnl_hash(h, &ts->id[i], sizeof ts->id[i]);
        h = jrnl_hash(h, &ts->weight[i], sizeof ts->weight[i]);
        h = jrnl_hash(h, &ts->mem[i], sizeof ts->mem[i]);
        const char *a = tasks_args(ts, i);
        h = jrnl_hash(h, a, strlen(a) + 1);
        if (ts->width[i] != 1) /* so that older journals keep their fingerprint */
            h = jrnl_hash(h, &ts->width[i], sizeof ts->width[i]);
    }
    return h;
}

/* Applies --task-mem and the plugin's estimates to tasks without their own. */
static int estimate_tasks(const struct run_opts *ro, const struct shotq_plugin *pl,
                          struct taskset *ts, char *err, size_t errlen)
{
    uint64_t dflt = (uint64_t)(ro->task_mem_mib * 1048576.0);
    for (size_t i = 0; i < ts->n; i++) {
        if (pl && pl->estimate) {
            struct shotq_task_info ti = {.id = ts->id[i],
                                         .args = tasks_args(ts, i),
                                         .weight = ts->weight[i],
                                         .attempt = 1,
                                         .run_dir = ro->run_dir};
            struct shotq_estimate e = {0, 0};
            if (pl->estimate(ro->plugin_config ? ro->plugin_config : "", &ti, &e)) {
                snprintf(err, errlen, "task %" PRId64 ": plugin %s rejects it (estimate)",
                         ts->id[i], pl->name);
                return -EINVAL;
            }
            if (ts->mem[i] == 0)
                ts->mem[i] = e.mem_bytes;
            if (ts->weight[i] == 1.0 && e.weight > 0)
                ts->weight[i] = e.weight;
        }
        if (ts->mem[i] == 0)
            ts->mem[i] = dflt;
    }
    return 0;
}

/* Checks that every task's message fits the worker protocol: the command
 * words (placeholders expand to at most 20 digits) and the task's arguments.
 * Returns 0 or -EINVAL. */
static int check_lengths(const struct run_opts *ro, const struct taskset *ts, char *err,
                         size_t errlen)
{
    size_t base = sizeof(struct proto_msg) + 1, uses = 0;
    for (char **a = ro->cmd; a && *a; a++) {
        base += strlen(*a) + 1 + 20 * 4; /* {...} holders, each expanded */
        for (const char *p = strstr(*a, "{args}"); p; p = strstr(p + 1, "{args}"))
            uses++;
    }
    if (uses == 0)
        uses = 1; /* appended */
    for (size_t i = 0; i < ts->n; i++) {
        size_t len = base + uses * (strlen(tasks_args(ts, i)) + 1);
        if (len > PROTO_MAX) {
            snprintf(err, errlen,
                     "task %" PRId64 ": command and arguments too long (about %zu bytes; "
                     "expected at most %d)",
                     ts->id[i], len, PROTO_MAX);
            return -EINVAL;
        }
    }
    return 0;
}

/* The most devices one node has (a node's devices are next to each other
 * in the table, in rank order), and whether a node other than the first has
 * CPU devices (*remote_cpu). */
static size_t node_devices_max(const struct dev_list *devs, bool *remote_cpu)
{
    size_t most = 0, run = 0;
    *remote_cpu = false;
    for (size_t d = 0; d < devs->n; d++) {
        const char *node = devs->v[d].node;
        run = d && !strcmp(node, devs->v[d - 1].node) ? run + 1 : 1;
        most = run > most ? run : most;
        *remote_cpu |= devs->v[d].kind == DEV_CPU && strcmp(node, devs->v[0].node);
    }
    return most;
}

/* Applies --gpus-per-task and checks multi-device tasks: the dynamic policy,
 * command mode, a node with that many devices, and under MPI no CPU devices
 * off rank 0's node (their cores are known only there). Returns 0 or -EINVAL
 * with err set. */
static int check_widths(const struct run_opts *ro, const struct dev_list *devs,
                        struct taskset *ts, bool multi_node, char *err, size_t errlen)
{
    bool remote_cpu;
    size_t most = node_devices_max(devs, &remote_cpu);
    char many[64];
    snprintf(many, sizeof many, "at most %zu (the devices of the largest node)", most);
    for (size_t i = 0; i < ts->n; i++) {
        if (ts->width[i] == 1)
            ts->width[i] = (uint16_t)ro->gpus_per_task;
        unsigned w = ts->width[i];
        const char *why =
            w == 1                        ? NULL
            : ro->plugin                  ? "command tasks (not --plugin)"
            : ro->policy != SCHED_DYNAMIC ? "--policy dynamic"
            : multi_node && remote_cpu
                ? "GPU or sim devices on the other nodes (cpus= is one node's)"
            : w > most ? many
                       : NULL;
        if (why) {
            snprintf(err, errlen,
                     "task %" PRId64 ": runs on %u devices at once (gpus=, cpus= or "
                     "--gpus-per-task); expected %s",
                     ts->id[i], w, why);
            return -EINVAL;
        }
    }
    return 0;
}

/* Checks that every task fits on some device. Returns 0 or -EINVAL. */
static int check_fit(const struct dev_list *devs, const struct taskset *ts, char *err,
                     size_t errlen)
{
    uint64_t best = 0;
    bool unlimited = false;
    for (size_t d = 0; d < devs->n; d++) {
        const struct dev_info *v = &devs->v[d];
        if (v->kind == DEV_CPU) {
            unlimited = true;
            continue;
        }
        uint64_t avail = v->kind == DEV_GPU ? v->mem_free : v->mem_total;
        if (avail > best)
            best = avail;
    }
    if (unlimited)
        return 0;
    for (size_t i = 0; i < ts->n; i++) {
        if (ts->mem[i] > best) {
            snprintf(err, errlen,
                     "task %" PRId64
                     " needs %.0f MiB of device memory; the most any device "
                     "has free is %.0f MiB (expected --task-mem/mem= within that)",
                     ts->id[i], (double)ts->mem[i] / 1048576.0, (double)best / 1048576.0);
            return -EINVAL;
        }
    }
    return 0;
}

/* Whether device d can hold a task needing mem bytes (as check_fit: a CPU
 * always, a GPU within its free memory, a sim device within its memory). */
static bool admits(const struct dev_info *d, uint64_t mem)
{
    if (d->kind == DEV_CPU)
        return true;
    return mem <= (d->kind == DEV_GPU ? d->mem_free : d->mem_total);
}

/* Prints the words of a command (NUL-separated, len bytes) on one line,
 * single-quoting those a shell would split or expand. */
static void print_words(const char *buf, long len)
{
    for (const char *p = buf; p < buf + len; p += strlen(p) + 1) {
        char esc[512];
        util_escape(p, UTIL_ESC_ALL, esc, sizeof esc);
        if (p > buf)
            putchar(' ');
        if (*esc && !esc[strcspn(esc, " \t'\"\\$`*?[]{}()<>|&;#~")]) {
            fputs(esc, stdout);
            continue;
        }
        putchar('\'');
        for (const char *q = esc; *q; q++)
            fputs(*q == '\'' ? "'\\''" : (char[]){*q, 0}, stdout);
        putchar('\'');
    }
    putchar('\n');
}

/* --dry-run's makespan: the same policy on a virtual clock (src/sched/simrun)
 * with every device at its speed prior and each task taking its weight /
 * speed seconds. Prints one line; a simulation that cannot run says so. */
static void print_plan_makespan(const struct runner_config *c)
{
    struct simrun_result res = {0};
    int rc = runner_simulate(c, NULL, &res);
    if (rc)
        printf("simulated makespan: not available (%s)\n", util_errtext(rc));
    else
        printf("simulated makespan: %.4g (lower bound %.4g), in the time a weight-1 task "
               "takes on a speed-1 device, with the speed priors above%s\n",
               res.makespan_s, res.lower_bound_s,
               res.tasks_unrun ? "; some tasks fit no device" : "");
    simrun_result_free(&res);
}

#define PLAN_TASKS 20   /* tasks whose admission --dry-run lists */
#define PLAN_COMMANDS 3 /* tasks whose command --dry-run shows */

/* --dry-run: prints the devices with their speed priors, each task's
 * admission (the first PLAN_TASKS, then a count of those no device or only
 * some devices hold) and the first commands. Starts and writes nothing.
 * Returns the exit status (0). */
static int print_plan(const struct runner_config *c)
{
    const struct dev_list *devs = c->devs;
    const struct taskset *ts = c->tasks;
    printf("plan (--dry-run: nothing is started or written): %s, policy %s, %d slot(s) "
           "per device, run directory %s\n",
           c->what, sched_policy_name(c->sp.policy), c->sp.slots, c->run_dir);
    printf("devices (speed prior, memory for admission):\n");
    for (size_t d = 0; d < devs->n; d++) {
        const struct dev_info *v = &devs->v[d];
        printf("  %zu %-4s %-20s speed %.3g  ", d, dev_kind_name(v->kind), v->name,
               v->speed);
        if (v->kind == DEV_CPU)
            printf("memory: no limit\n");
        else
            printf("memory %.0f MiB%s\n",
                   (double)(v->kind == DEV_GPU ? v->mem_free : v->mem_total) / 1048576.0,
                   v->kind == DEV_GPU ? " free" : "");
    }
    printf("tasks (weight, memory: devices that can hold it):\n");
    size_t partial = 0;
    for (size_t i = 0; i < ts->n; i++) {
        size_t n = 0;
        for (size_t d = 0; d < devs->n; d++)
            n += admits(&devs->v[d], ts->mem[i]);
        partial += n < devs->n;
        if (i >= PLAN_TASKS)
            continue;
        printf("  task %" PRId64 ": weight %g, memory %.0f MiB:", ts->id[i], ts->weight[i],
               (double)ts->mem[i] / 1048576.0);
        for (size_t d = 0; d < devs->n; d++)
            if (admits(&devs->v[d], ts->mem[i]))
                printf(" %zu", d);
        printf(n == devs->n ? " (all)\n" : "\n");
    }
    if (ts->n > PLAN_TASKS)
        printf("  ... %zu more task(s)\n", ts->n - PLAN_TASKS);
    printf("%zu of %zu task(s) fit on only some devices\n", partial, ts->n);
    print_plan_makespan(c);
    if (c->plugin_mode) {
        printf("plugin %s, config '%s'\n", c->plugin,
               c->plugin_config ? c->plugin_config : "");
        return 0;
    }
    static char buf[PROTO_MAX];
    printf("commands (attempt 1 on device 0, slot 0):\n");
    for (size_t i = 0; i < ts->n && i < PLAN_COMMANDS; i++) {
        long len = runner_command(c, i, 0, 0, 1, buf, sizeof buf);
        printf("  task %" PRId64 ": ", ts->id[i]);
        if (len < 0)
            printf("(too long)\n");
        else
            print_words(buf, len);
    }
    return 0;
}

/* --resume and --retry-failed without --costs-from: the costs the run
 * measured (its report.json, else its journal's done events) become the
 * weights (costhist_apply). A run without costs keeps the declared weights;
 * an unreadable report is only warned about: the journal, not the report,
 * decides what runs. had as costhist_apply (all false when nothing was
 * applied). */
static void own_costs(const char *run_dir, struct taskset *ts, bool *had)
{
    char err[1024];
    double *w = malloc((ts->n ? ts->n : 1) * sizeof *w);
    if (!w)
        return;
    memcpy(w, ts->weight, ts->n * sizeof *w);
    long hits = costhist_apply(run_dir, ts->id, w, had, ts->n, err, sizeof err);
    if (hits > 0)
        memcpy(ts->weight, w, ts->n * sizeof *w);
    else
        memset(had, 0, ts->n * sizeof *had);
    if (hits < 0 && !strstr(err, "with task costs"))
        log_msg(LOG_WARN, "%s (the declared weights are used)", err);
    free(w);
}

/* The options' defaults (every rank parses the same options). */
static struct run_opts run_opts_default(void)
{
    struct run_opts ro = {.run_dir = "shotq-run",
                          .slots = 1,
                          .gpus_per_task = 1,
                          .retries = 2,
                          .max_log_mib = 1024,
                          .policy = SCHED_DYNAMIC,
                          .speculate = -1,
                          .backoff_base = SCHED_BACKOFF_BASE_S,
                          .backoff_cap = SCHED_BACKOFF_CAP_S,
                          .gpu_busy = -1};
    return ro;
}

/* Parses the options and checks what to run (one of a command that exists
 * or a plugin). Returns -1 to go on, else the exit status (0 after --help,
 * 2 with one line printed). */
static int parse_run(int argc, char **argv, const struct run_preset *preset,
                     struct run_opts *ro)
{
    struct opts o;
    opts_init(&o, argc, argv);
    int rc = parse(&o, ro, preset != NULL);
    if (rc == 1) {
        fputs(run_usage, stdout);
        printf("Multi-node: mpirun -np NODES shotq run|model ..., one rank per node; "
               "rank 0\n"
               "coordinates (see docs/cluster.md). This build: %s.\n",
               cluster_has_mpi() ? "with MPI" : "without MPI, one node only");
        return 0;
    }
    const char *why = rc ? o.err : NULL;
    if (preset) {
        ro->plugin = preset->plugin;
        ro->plugin_config = preset->config;
        ro->config_digest = preset->config_digest;
    }
    if (!why && !ro->plugin && !ro->cmd)
        why = "nothing to run: expected '-- COMMAND [ARG...]' or --plugin LIB.so";
    else if (!why && ro->plugin && ro->cmd)
        why = "both --plugin and a command given: expected only one of them";
    else if (!why && ro->plugin_config && !ro->plugin)
        why = "--plugin-config without --plugin: expected --plugin LIB.so";
    if (why) {
        log_msg(LOG_ERROR, "%s", why);
        return 2;
    }
    /* The command must exist before anything starts (placeholders aside). */
    char path[PATH_MAX];
    if (ro->cmd && !strchr(ro->cmd[0], '{') && spawn_resolve(ro->cmd[0], path, sizeof path)) {
        char esc[256];
        log_msg(LOG_ERROR,
                "command '%s': not found or not executable (expected a program "
                "in PATH or a path)",
                util_escape(ro->cmd[0], UTIL_ESC_ALL, esc, sizeof esc));
        return 2;
    }
    return -1;
}

/* The runner's configuration from the options (what: the journal's one-line
 * description, self: the shotq binary). */
static struct runner_config make_config(const struct run_opts *ro,
                                        const struct run_preset *preset,
                                        const struct dev_list *devs, struct taskset *ts,
                                        const char *self, const char *what)
{
    struct runner_config c = {
        .plugin_mode = ro->plugin != NULL,
        .cmd = ro->cmd,
        .plugin = ro->plugin,
        .plugin_config = ro->plugin_config,
        .devs = devs,
        .tasks = ts,
        .sp = sched_params_default(),
        .timeout_s = ro->timeout,
        .max_log_bytes = (uint64_t)ro->max_log_mib << 20,
        .run_dir = ro->run_dir,
        .resume = ro->resume,
        .retry_failed = ro->retry_failed,
        .quiet = ro->quiet,
        .report_path = ro->report,
        .gantt_path = ro->gantt,
        .self_exe = self,
        .what = what,
        .fingerprint = fingerprint(ro, ts),
        .command_fp = command_fingerprint(ro),
    };
    c.sp.policy = ro->policy;
    c.sp.slots = (int)ro->slots;
    c.sp.max_retries = (int)ro->retries;
    c.sp.halt_fail_count = (int)ro->halt_count;
    c.sp.halt_fail_pct = ro->halt_pct;
    c.sp.backoff_base_s = ro->backoff_base;
    c.sp.backoff_cap_s = ro->backoff_cap;
    /* shotq model's SEG-Y files are written atomically: copies are safe. */
    c.sp.speculate = ro->speculate >= 0 ? ro->speculate == 1 : preset != NULL;
    /* Shared GPUs are safe by default; a declared --task-mem MIB is the
     * user's own admission rule, so the busy rule is then off unless asked. */
    c.gpu_busy_pct = ro->gpu_busy >= 0                            ? ro->gpu_busy
                     : ro->task_mem_mib > 0 && !ro->task_mem_auto ? 0
                                                                  : SCHED_GPU_BUSY_PCT;
    c.task_mem_auto = ro->task_mem_auto;
    return c;
}

/* Weights from the costs of earlier runs: --costs-from, or on --resume the
 * run's own (after the fingerprint: learned costs do not change what the
 * run does). *known (allocated, or NULL) says per task whether it had a
 * cost. Returns 0, or 2 with one line printed. */
static int apply_costs(const struct run_opts *ro, struct taskset *ts, bool **known)
{
    char err[1024];
    if ((ro->costs_from || ro->resume) && !(*known = calloc(ts->n, sizeof **known))) {
        log_msg(LOG_ERROR, "out of memory");
        return 2;
    }
    if (ro->costs_from && costhist_apply(ro->costs_from, ts->id, ts->weight, *known, ts->n,
                                         err, sizeof err) < 0) {
        log_msg(LOG_ERROR, "%s", err);
        return 2;
    }
    if (!ro->costs_from && ro->resume)
        own_costs(ro->run_dir, ts, *known);
    return 0;
}

/* Starts the run on the other nodes (multi-node): their workers get an
 * environment without the MPI launcher's variables, here as on the agents.
 * Returns 0, or 1 with one line printed. */
static int start_cluster(struct cluster *cl, const struct run_opts *ro,
                         struct runner_config *c, struct runner_remote *remote,
                         char ***worker_env)
{
    struct cluster_job job = {.plugin_mode = c->plugin_mode,
                              .plugin = ro->plugin,
                              .config = ro->plugin_config,
                              .run_dir = ro->run_dir};
    *worker_env = cluster_worker_env();
    int rc = *worker_env ? cluster_begin(cl, &job, remote) : -ENOMEM;
    if (rc) {
        log_msg(LOG_ERROR, "cluster: cannot start the run on the other nodes: %s",
                strerror(-rc));
        return 1;
    }
    c->worker_env = *worker_env;
    c->remote = remote;
    return 0;
}

/* Loads the plugin (ro->plugin made absolute: workers start elsewhere).
 * Returns it, or NULL with one line printed. */
static const struct shotq_plugin *load_plugin(struct run_opts *ro, char *abs, void **handle)
{
    char err[1024];
    if (strncmp(ro->plugin, "builtin:", 8) && strchr(ro->plugin, '/') &&
        realpath(ro->plugin, abs))
        ro->plugin = abs;
    const struct shotq_plugin *pl = plugin_load(ro->plugin, builtin_plugin, handle, err,
                                                sizeof err);
    if (!pl)
        log_msg(LOG_ERROR, "%s", err);
    return pl;
}

/* The whole run on one node, or rank 0's part of a multi-node run (cl set):
 * options, devices, tasks and every check before anything starts, then the
 * event loop. Returns the exit status. */
static int run_coordinator(int argc, char **argv, const struct run_preset *preset,
                           struct cluster *cl)
{
    struct run_opts ro = run_opts_default();
    int status = parse_run(argc, argv, preset, &ro);
    if (status >= 0)
        return status;
    char self[PATH_MAX], plugin_abs[PATH_MAX], err[1024];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0) {
        log_msg(LOG_ERROR, "cannot find the shotq binary (/proc/self/exe)");
        return 2;
    }
    self[sl] = '\0';
    const struct shotq_plugin *pl = NULL;
    void *handle = NULL;
    if (ro.plugin && !(pl = load_plugin(&ro, plugin_abs, &handle)))
        return 2;
    struct dev_list devs = {0};
    struct taskset ts = {0};
    char **worker_env = NULL;
    bool *cost_known = NULL; /* per task: weight from an earlier run's cost */
    status = 2;
    if (dev_discover(ro.devices, &devs, err, sizeof err) ||
        (cl && cluster_gather(cl, &devs, err, sizeof err)) ||
        load_tasks(&ro, preset, &ts, err, sizeof err) ||
        check_widths(&ro, &devs, &ts, cl != NULL, err, sizeof err) ||
        estimate_tasks(&ro, pl, &ts, err, sizeof err) ||
        check_fit(&devs, &ts, err, sizeof err) ||
        check_lengths(&ro, &ts, err, sizeof err)) {
        log_msg(LOG_ERROR, "%s", err);
        goto out;
    }
    char what[512];
    if (ro.plugin)
        snprintf(what, sizeof what, "plugin %s (%s), %zu tasks", ro.plugin,
                 ro.plugin_config ? ro.plugin_config : "", ts.n);
    else
        snprintf(what, sizeof what, "command %s, %zu tasks", ro.cmd[0], ts.n);
    struct runner_config rc_ = make_config(&ro, preset, &devs, &ts, self, what);
    if (apply_costs(&ro, &ts, &cost_known))
        goto out;
    rc_.cost_known = cost_known;
    struct runner_remote remote;
    if (ro.dry_run)
        status = print_plan(&rc_);
    else if (!cl || !(status = start_cluster(cl, &ro, &rc_, &remote, &worker_env)))
        status = runner_run(&rc_);
out:
    free(cost_known);
    cluster_env_free(worker_env);
    tasks_free(&ts);
    dev_list_free(&devs);
    plugin_unload(handle);
    return status;
}

/* A node agent's part of a multi-node run (rank > 0): this node's devices
 * (--devices / SHOTQ_DEVICES apply per node) go to rank 0, which sends the
 * rest. Returns the exit status. */
static int run_agent(int argc, char **argv, const struct run_preset *preset,
                     struct cluster *cl)
{
    struct run_opts ro = run_opts_default();
    struct opts o;
    opts_init(&o, argc, argv);
    struct dev_list devs = {0};
    char err[1024];
    const char *why = NULL;
    char self[PATH_MAX];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (parse(&o, &ro, preset != NULL) < 0) {
        why = o.err;
    } else if (sl <= 0) {
        why = "cannot find the shotq binary (/proc/self/exe)";
    } else if (dev_discover(ro.devices, &devs, err, sizeof err)) {
        why = err;
    }
    if (sl > 0)
        self[sl] = '\0';
    int status = cluster_agent_run(cl, &devs, why, self);
    dev_list_free(&devs);
    return status;
}

int run_main(int argc, char **argv, const struct run_preset *preset)
{
    struct cluster *cl = NULL;
    char err[1024];
    /* Workers and tasks inherit it: OpenMP threads that spin at barriers
     * lose 2.4x on a machine shared with other jobs, and nothing on a quiet
     * one (docs/benchmarks-fd.md). A user's own setting wins. */
    setenv("OMP_WAIT_POLICY", "passive", 0);
    if (cluster_init(&cl, err, sizeof err)) {
        log_msg(LOG_ERROR, "%s", err);
        return 2;
    }
    /* A launcher that did not say how many ranks (PMIx alone) may turn out
     * to have started one: then this is a single-node run. */
    int status = cluster_rank(cl) > 0   ? run_agent(argc, argv, preset, cl)
                 : cluster_size(cl) > 1 ? run_coordinator(argc, argv, preset, cl)
                                        : run_coordinator(argc, argv, preset, NULL);
    if (cluster_fini(cl) && status == 0)
        status = 1;
    return status;
}

int cmd_run(int argc, char **argv)
{
    return run_main(argc, argv, NULL);
}
