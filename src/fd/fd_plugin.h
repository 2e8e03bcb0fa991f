/* fd_plugin: the FD workload as a shotq plugin ("fd", built in as
 * "builtin:fd"). The configuration string is the job file path.
 *
 *   init      loads and checks the job and model once, refuses a device whose
 *             memory cannot hold a shot, creates the engine on it (dev->kind
 *             "gpu": CUDA ordinal dev->cuda_ordinal; else CPU, dev->ncpus threads)
 *   run       computes shot task->id, writes its file, prints one line to stdout:
 *             "shot K: W s wall, E s engine, G Gpts/s, N traces -> PATH"
 *   estimate  memory of one shot (fd_engine_mem_estimate) and weight 1.0
 *             (acoustic), 1.5 (vti) or 6.0 (tti); every shot of a job costs the same
 *   fini      frees the engine and the model
 */
#ifndef FD_PLUGIN_H
#define FD_PLUGIN_H

#include "shotq/plugin.h"

/* The plugin table. Never NULL. */
const struct shotq_plugin *fd_plugin(void);

#endif /* FD_PLUGIN_H */
