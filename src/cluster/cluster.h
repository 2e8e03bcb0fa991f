/* cluster: multi-node runs over MPI, one rank per node.
 *
 * Rank 0 is the coordinator of the whole cluster: it runs the event loop
 * (runner.c) with one policy core that sees every device of every node, and
 * may run tasks on its own devices. Every other rank is a node agent: it
 * discovers its devices, reports them to rank 0, starts `shotq worker`
 * processes for its devices (exec'd, never forked bare) and relays
 * assignments and results between rank 0 and them.
 *
 * MPI is joined only when the launcher announces several ranks in the
 * environment (cluster_env_size() > 1), so a plain run, or a run with one
 * rank, never calls MPI_Init. Built without MPI (src/cluster/nompi), such a
 * launch is refused with a message. */
#ifndef SHOTQ_CLUSTER_H
#define SHOTQ_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>

#include "devices/devices.h"
#include "exec/runner.h"

struct cluster;

/* What rank 0 tells the agents about the run (their workers' arguments). */
struct cluster_job {
    bool plugin_mode;    /* plugin (true) or command (false) tasks */
    const char *plugin;  /* plugin spec, NULL if none */
    const char *config;  /* plugin configuration string, NULL if none */
    const char *run_dir; /* run directory; made absolute for the agents */
};

/* Number of ranks the launcher's environment announces: OMPI_COMM_WORLD_SIZE
 * (Open MPI), PMI_SIZE (MPICH, Intel MPI), or under PMIx (PMIX_RANK set)
 * SLURM_STEP_NUM_TASKS. 1 when not launched by an MPI launcher; -1 when a
 * launcher is there but does not say how many ranks (PMIx alone). */
int cluster_env_size(void);

/* A copy of the environment without the MPI launcher's variables (OMPI_*,
 * PMIX_*, PMI_*, ORTE_*, OPAL_*, HYDRA_*, MPI_LOCALRANKID, ...), for worker
 * processes: neither they nor their tasks must take themselves for ranks of
 * this job. Returns NULL when out of memory. Free with cluster_env_free. */
char **cluster_worker_env(void);
void cluster_env_free(char **env);

/* True when this build has MPI support (multi-node runs). */
bool cluster_has_mpi(void);

/* Joins the MPI job when launched with several ranks. Returns 0 with *out
 * NULL (single node: nothing to do), 0 with *out set (free with
 * cluster_fini), -ENOTSUP when shotq was built without MPI and launched with
 * several ranks, or -EIO when MPI cannot start; err holds one line. */
int cluster_init(struct cluster **out, char *err, size_t errlen);

/* This process's rank (0 for NULL) and the number of ranks (1 for NULL). */
int cluster_rank(const struct cluster *cl);
int cluster_size(const struct cluster *cl);

/* Node agent (rank > 0): reports devs to rank 0, or the one-line error
 * dev_err when this node could not get as far (bad options, discovery
 * failed), then starts workers and relays messages until rank 0 says stop.
 * Workers run self_exe. Returns the process exit status: 0, or 2 after
 * dev_err; 1 when the transport failed. */
int cluster_agent_run(struct cluster *cl, const struct dev_list *devs,
                      const char *dev_err, const char *self_exe);

/* Rank 0: receives every agent's devices and appends them to devs, after
 * its own, and gives every device a node name unique to its rank (the host
 * name, or HOST:RANK when ranks share a host). Returns 0, -EINVAL with err
 * naming the rank when an agent reported an error, or -ENOMEM / -EIO. */
int cluster_gather(struct cluster *cl, struct dev_list *devs, char *err, size_t errlen);

/* Rank 0, after cluster_gather: sends the job to the agents and fills *out,
 * the transport the event loop uses for remote workers (valid until
 * cluster_fini). Returns 0 or -ENOMEM / -EIO. */
int cluster_begin(struct cluster *cl, const struct cluster_job *job,
                  struct runner_remote *out);

/* Ends the cluster part of the run: rank 0 tells every agent to stop
 * (agents stop their workers and tasks) and waits until they have; then MPI
 * is finalized and cl freed. NULL is fine. Returns 0 or -EIO. */
int cluster_fini(struct cluster *cl);

#endif
