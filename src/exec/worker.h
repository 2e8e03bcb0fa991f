/* worker: the process behind one device slot (`shotq worker`, started by the
 * coordinator with exec). In plugin mode it loads the plugin, calls init()
 * once and run() per task; in command mode it spawns each task's command.
 * Either way it runs one task at a time, in its own process group with its
 * tasks, and takes them all down if the coordinator dies. */
#ifndef SHOTQ_WORKER_H
#define SHOTQ_WORKER_H

#include <stdbool.h>
#include <sys/types.h>

#include "exec/plugin_load.h"
#include "shotq/plugin.h"

struct worker_args {
    int fd;                       /* socket to the coordinator */
    bool plugin_mode;             /* plugin (true) or command (false) tasks */
    const char *plugin;           /* plugin spec */
    const char *config;           /* plugin configuration string */
    struct shotq_device_info dev; /* the device slot */
    const char *run_dir;          /* run directory (logs/ inside) */
    pid_t coordinator;            /* expected parent */
};

/* Serves tasks until the coordinator closes the socket. Returns the process
 * exit status. */
int worker_main(const struct worker_args *a, plugin_builtin_fn builtins);

/* Log file name of a task attempt: RUN_DIR/logs/task-ID.ATTEMPT.{out,err}. */
void worker_log_path(char *out, size_t outlen, const char *run_dir, long long task,
                     int attempt, const char *stream);

#endif
