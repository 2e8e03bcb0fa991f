/* devices_cpu: the host's cores as N devices (`cpu[:N]`), sharing cores and
 * memory evenly. */
#define _GNU_SOURCE /* sched_getaffinity */
#include <errno.h>
#include <sched.h>
#include <unistd.h>

#include "devices/devices_int.h"

/* Cores this process may run on: its affinity mask (what Slurm, mpirun
 * binding or taskset allow), else the online cores, else 1. */
static long usable_cores(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}

/* Appends req->cpu_count CPU devices (at least 1 core each). Returns 0, or
 * -ENOMEM with out as it was. */
static int cpu_probe(const struct dev_request *req, struct dev_list *out, char *err,
                     size_t errlen)
{
    (void)err;
    (void)errlen;
    unsigned n = req->cpu_count ? req->cpu_count : 1;
    long cores = usable_cores();
    long pages = sysconf(_SC_PHYS_PAGES);
    long avail = sysconf(_SC_AVPHYS_PAGES);
    long psize = sysconf(_SC_PAGESIZE);
    /* sysconf returns -1 when it cannot tell; treat that as 1 core / 0 bytes. */
    uint64_t total = pages > 0 && psize > 0 ? (uint64_t)pages * (uint64_t)psize : 0;
    uint64_t avail_bytes = avail > 0 && psize > 0 ? (uint64_t)avail * (uint64_t)psize : 0;
    long per = cores > 0 ? cores / (long)n : 1;
    struct dev_info *d = dev_list_grow(out, n);
    if (!d)
        return -ENOMEM;
    for (unsigned k = 0; k < n; k++, d++) {
        dev_strlcpy(d->name, "cpu", sizeof d->name);
        dev_fill_node(d);
        d->kind = DEV_CPU;
        d->ordinal = (int)k;
        d->mem_total = total / n;
        d->mem_free = avail_bytes / n;
        d->util_pct = -1;
        d->nprocs = -1;
        d->ncpus = per >= 1 ? (int)per : 1;
        d->speed = 1.0;
        dev_strlcpy(d->source, "cpu", sizeof d->source);
    }
    return 0;
}

const struct dev_ops dev_cpu_ops = {"cpu", cpu_probe, NULL, NULL, NULL};
