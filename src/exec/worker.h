/* worker: the process behind one device slot (`shotq worker`, started by the
 * coordinator with exec). In plugin mode it loads the plugin, calls init()
 * once and run() per task; in command mode it spawns each task's command.
 * Either way it runs one task at a time, in its own process group with its
 * tasks, and takes them all down if the coordinator dies. */
#ifndef SHOTQ_WORKER_H
#define SHOTQ_WORKER_H

#include <stdbool.h>
#include <sys/types.h>

#include "devices/devices.h"
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
    uint32_t token;               /* sent with every message */
    uint64_t max_log;             /* cap per log stream of a task, bytes */
};

/* Serves tasks until the coordinator closes the socket. Returns the process
 * exit status. */
int worker_main(const struct worker_args *a, plugin_builtin_fn builtins);

/* What starting a worker process needs: used by the coordinator for its own
 * devices and by a node agent for the devices of its node. */
struct worker_spawn_args {
    const char *self_exe;       /* the shotq binary */
    bool plugin_mode;           /* plugin (true) or command (false) tasks */
    const char *plugin;         /* plugin spec, NULL if none */
    const char *config;         /* plugin configuration string, NULL if none */
    const char *run_dir;        /* run directory */
    const struct dev_info *dev; /* the device */
    int dev_index;              /* its index in the coordinator's device table */
    int slot;                   /* slot on the device */
    char *const *envp;          /* environment of the worker */
    uint32_t token;             /* its messages' token (proto_token()) */
    uint64_t max_log;           /* cap per log stream, bytes (0: WORKER_MAX_LOG) */
};

/* Starts `shotq worker` for one device slot, exec'd (never a bare fork), in a
 * process group of its own, with the calling process as its coordinator.
 * Returns 0 with the pid and our end of a SOCK_SEQPACKET socketpair
 * (non-blocking, close-on-exec) in *fd, or -errno with nothing left open. */
int worker_spawn(const struct worker_spawn_args *a, pid_t *pid, int *fd);

/* The fd a worker moves its socket to (close-on-exec, far from 0-3, which
 * tasks and plugins use). */
#define WORKER_SOCK_FD 1000

/* Default cap of one stream of a task's log (--max-log), bytes. */
#define WORKER_MAX_LOG ((uint64_t)1024 << 20)

/* Log file name of a task attempt: RUN_DIR/logs/task-ID.ATTEMPT.{out,err}. */
void worker_log_path(char *out, size_t outlen, const char *run_dir, long long task,
                     int attempt, const char *stream);

#endif
