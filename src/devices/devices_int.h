/* devices_int: the interface between the devices front end (devices.c) and its
 * back ends (devices_nvml.c, devices_nvsmi.c, devices_cpu.c, devices_sim.c).
 * Not part of the public API. Each back end exports exactly one ops table. */
#ifndef SHOTQ_DEVICES_INT_H
#define SHOTQ_DEVICES_INT_H

#include "devices/devices.h"

/* One simulated device entry of a sim: spec, before expansion by COUNT. */
struct dev_sim_entry {
    char name[96];    /* NAME, [A-Za-z0-9_.-]+ */
    double speed;     /* SPEED, > 0 and finite */
    uint64_t mem_mib; /* MEM_MIB, default 16384 */
    unsigned count;   /* COUNT, >= 1 */
};

/* What the spec parser asks a back end to produce. GPU back ends ignore it:
 * they list every GPU and the front end selects. */
struct dev_request {
    unsigned cpu_count;              /* cpu[:N]: N */
    const struct dev_sim_entry *sim; /* sim: entries, in spec order */
    size_t nsim;                     /* number of sim entries */
};

/* A back end. probe appends the devices it provides to out (leaving the
 * entries already there untouched) and returns 0; -ENODEV when the back end
 * is unavailable on this machine (no driver, no library, no binary), with the
 * reason in err; another -errno on failure. On error out is as it was.
 * refresh updates the volatile fields (mem_free, util_pct, nprocs) of the
 * devices in list whose source is this back end, 0 or -errno. */
struct dev_ops {
    const char *name; /* also dev_info.source of what it produces */
    int (*probe)(const struct dev_request *req, struct dev_list *out, char *err,
                 size_t errlen);
    int (*refresh)(struct dev_list *list); /* NULL: nothing changes */
    void (*shutdown)(void); /* releases cached state; NULL when there is none */
    /* Appends the compute processes of list's devices of this back end to
     * out[*n ..] (at most cap in all; *n counts every one) as dev_procs;
     * 0 or -ENODEV. NULL: its devices run no processes. */
    int (*procs)(const struct dev_list *list, struct dev_proc *out, size_t cap,
                 size_t *n);
};

/* Adds one process to a dev_procs result: stored while there is room,
 * counted always. */
void dev_proc_add(struct dev_proc *out, size_t cap, size_t *n, size_t dev, long pid,
                  uint64_t mem);

extern const struct dev_ops dev_nvml_ops;
extern const struct dev_ops dev_nvsmi_ops;
extern const struct dev_ops dev_cpu_ops;
extern const struct dev_ops dev_sim_ops;

/* Extends list by k zeroed entries in one allocation. Returns the first new
 * entry, or NULL when out of memory (list unchanged). */
struct dev_info *dev_list_grow(struct dev_list *list, size_t k);

/* Appends a copy of *d to list, growing the array. Returns 0 or -ENOMEM
 * (list unchanged). */
int dev_list_append(struct dev_list *list, const struct dev_info *d);

/* Truncates list to its first n entries (n <= list->n); keeps the storage. */
void dev_list_truncate(struct dev_list *list, size_t n);

/* Fills d->node with this host's name (truncated to fit, always terminated;
 * "localhost" when gethostname fails). */
void dev_fill_node(struct dev_info *d);

/* Speed prior of a GPU from its memory bandwidth relative to a GTX 1080 Ti
 * (352-bit, 5505 MHz: 484 GB/s); 1.0 when the bus width or clock is unknown. */
double dev_gpu_speed_prior(int bus_width_bits, int mem_clock_mhz);

/* Copies src into dst[size], truncating, always terminated. */
void dev_strlcpy(char *dst, const char *src, size_t size);

#endif /* SHOTQ_DEVICES_INT_H */
