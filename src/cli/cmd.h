/* Subcommands of the shotq program. Each returns the process exit status:
 * 0 success, 1 some task failed, 2 bad input, 130 interrupted. */
#ifndef SHOTQ_CMD_H
#define SHOTQ_CMD_H

#include <stdbool.h>
#include <stdint.h>

#include "shotq/plugin.h"

int cmd_devices(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_simulate(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_worker(int argc, char **argv);
int cmd_status(int argc, char **argv);

/* `shotq guard --watch PID`: internal; started by the coordinator (see
 * exec/guard.h). Returns the exit status. */
int cmd_guard(int argc, char **argv);

/* What a built-in workload (`shotq model`) hands to the run machinery in place
 * of --plugin/--plugin-config/--tasks. */
struct run_preset {
    const char *plugin; /* plugin spec given to workers, e.g. "builtin:fd" */
    const char *config; /* plugin configuration string (the job file path) */
    int64_t ntasks;     /* tasks 0 .. ntasks-1 */
    uint64_t config_digest; /* hash of what config names (the job file's bytes), part
                               of the command's fingerprint: a changed job is a
                               changed command for --resume; 0 = none */
};

/* Runs `shotq run` with the scheduler options in argv (argv[0] is the command
 * name) and the preset's plugin and tasks. Returns the exit status. */
int run_main(int argc, char **argv, const struct run_preset *preset);

/* True when the scheduler option NAME (e.g. "--halt") takes a value. */
bool run_opt_takes_value(const char *name);

/* Built-in plugins, by name ("fd"). NULL if unknown. */
const struct shotq_plugin *builtin_plugin(const char *name);

#endif /* SHOTQ_CMD_H */
