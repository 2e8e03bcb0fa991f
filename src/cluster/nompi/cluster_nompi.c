/* cluster_nompi: the cluster interface of a build without MPI. A single node
 * works as always; a launch with several ranks is refused (see cluster.h). */
#include <errno.h>
#include <stdio.h>

#include "cluster/cluster.h"

bool cluster_has_mpi(void)
{
    return false;
}

int cluster_init(struct cluster **out, char *err, size_t errlen)
{
    *out = NULL;
    int n = cluster_env_size();
    if (n > 1) {
        snprintf(err, errlen,
                 "launched as one of %d MPI ranks, but this shotq was built without MPI "
                 "support (expected a single process, or a build with MPI: see "
                 "docs/cluster.md)",
                 n);
        return -ENOTSUP;
    }
    return 0;
}

int cluster_rank(const struct cluster *cl)
{
    (void)cl;
    return 0;
}

int cluster_size(const struct cluster *cl)
{
    (void)cl;
    return 1;
}

int cluster_agent_run(struct cluster *cl, const struct dev_list *devs,
                      const char *dev_err, const char *self_exe)
{
    (void)cl;
    (void)devs;
    (void)dev_err;
    (void)self_exe;
    return 1;
}

int cluster_gather(struct cluster *cl, struct dev_list *devs, char *err, size_t errlen)
{
    (void)cl;
    (void)devs;
    (void)err;
    (void)errlen;
    return 0;
}

int cluster_begin(struct cluster *cl, const struct cluster_job *job,
                  struct runner_remote *out)
{
    (void)cl;
    (void)job;
    (void)out;
    return -ENOTSUP;
}

int cluster_fini(struct cluster *cl)
{
    (void)cl;
    return 0;
}
