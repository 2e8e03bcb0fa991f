/* `shotq worker` and `shotq guard`: internal commands the coordinator starts
 * (one per device slot; one guard per coordinator). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/opts.h"
#include "exec/guard.h"
#include "exec/worker.h"
#include "util/log.h"

int cmd_worker(int argc, char **argv)
{
    struct worker_args a = {.fd = -1, .max_log = WORKER_MAX_LOG};
    a.dev.cuda_ordinal = -1;
    const char *mode = "cmd";
    struct opts o;
    opts_init(&o, argc, argv);
    const char *name;
    long v;
    double d;
    while ((name = opts_next(&o))) {
        int rc;
        if (opts_is(&o, "--fd")) {
            rc = opts_int(&o, 0, 1 << 20, &v);
            a.fd = (int)v;
        } else if (opts_is(&o, "--coordinator")) {
            rc = opts_int(&o, 1, 1L << 30, &v);
            a.coordinator = (pid_t)v;
        } else if (opts_is(&o, "--token")) {
            rc = opts_double(&o, 1, 4294967295.0, &d);
            a.token = (uint32_t)d;
        } else if (opts_is(&o, "--mode")) {
            rc = opts_str(&o, &mode);
        } else if (opts_is(&o, "--plugin")) {
            rc = opts_str(&o, &a.plugin);
        } else if (opts_is(&o, "--config")) {
            rc = opts_str(&o, &a.config);
        } else if (opts_is(&o, "--dev-index")) {
            rc = opts_int(&o, 0, 1 << 20, &v);
            a.dev.index = (int)v;
        } else if (opts_is(&o, "--dev-name")) {
            rc = opts_str(&o, &a.dev.name);
        } else if (opts_is(&o, "--dev-kind")) {
            rc = opts_str(&o, &a.dev.kind);
        } else if (opts_is(&o, "--dev-uuid")) {
            rc = opts_str(&o, &a.dev.uuid);
        } else if (opts_is(&o, "--dev-mem")) {
            rc = opts_double(&o, 0, 1e18, &d);
            a.dev.mem_total = (uint64_t)d;
        } else if (opts_is(&o, "--dev-speed")) {
            rc = opts_double(&o, 0, 1e12, &a.dev.speed);
        } else if (opts_is(&o, "--dev-ncpus")) {
            rc = opts_int(&o, 0, 1 << 20, &v);
            a.dev.ncpus = (int)v;
        } else if (opts_is(&o, "--cuda-ordinal")) {
            rc = opts_int(&o, -1, 1 << 20, &v);
            a.dev.cuda_ordinal = (int)v;
        } else if (opts_is(&o, "--slot")) {
            rc = opts_int(&o, 0, 1 << 20, &v);
            a.dev.slot = (int)v;
        } else if (opts_is(&o, "--max-log")) {
            rc = opts_double(&o, 1, 1e18, &d);
            a.max_log = (uint64_t)d;
        } else if (opts_is(&o, "--run-dir")) {
            rc = opts_str(&o, &a.run_dir);
        } else {
            rc = opts_unknown(&o, "a worker option (internal command)");
        }
        if (rc) {
            log_msg(LOG_ERROR, "worker: %s", o.err);
            return 2;
        }
    }
    if (a.fd < 0 || !a.run_dir || !a.dev.name || !a.dev.kind || !a.dev.uuid) {
        log_msg(LOG_ERROR, "worker: internal command, started by shotq run");
        return 2;
    }
    a.plugin_mode = !strcmp(mode, "plugin");
    return worker_main(&a, builtin_plugin);
}

int cmd_guard(int argc, char **argv)
{
    long watch = 0;
    if (argc != 3 || strcmp(argv[1], "--watch") || (watch = atol(argv[2])) <= 0) {
        fputs("shotq guard: internal command (expected --watch PID)\n", stderr);
        return 2;
    }
    return guard_main((pid_t)watch);
}
