/* guard: a small process that keeps a coordinator's promise "nothing outlives
 * shotq" when a worker or the coordinator itself is killed from outside.
 *
 * Workers are child subreapers, so whatever a task leaves behind stays below
 * its worker, and the worker kills it when the task ends. Only when a worker
 * dies (kill -9, OOM killer) or the coordinator dies do those processes
 * escape to init. The guard (`shotq guard`, spawned by the coordinator, its
 * stdio on /dev/null) walks the coordinator's process tree every
 * GUARD_POLL_MS and remembers each process (pid and start time, so a reused
 * pid is never hit). A remembered process that is still alive but no longer
 * below the coordinator has escaped: it is killed (SIGKILL). When the
 * coordinator is gone, every remembered process still alive is killed and the
 * guard exits. A process born and orphaned within one poll interval can be
 * missed; docs/design.md says so. */
#ifndef SHOTQ_GUARD_H
#define SHOTQ_GUARD_H

#include <sys/types.h>

#define GUARD_POLL_MS 50

/* Starts the guard for the calling process. Returns 0 and its pid, or -errno
 * (the run goes on without it; the caller says so). */
int guard_start(const char *self_exe, pid_t *pid);

/* Asks the guard to make its final sweep and exit, and reaps it. A pid <= 0
 * is ignored. */
void guard_stop(pid_t pid);

/* The guard's body: watches process `watch` (its parent) until it ends or a
 * SIGTERM arrives. Returns the exit status (0). */
int guard_main(pid_t watch);

#endif
