/* devices: discovery of the compute devices shotq dispatches to.
 *
 * Back ends behind one interface (devices_*.c): NVML loaded with dlopen, the
 * nvidia-smi CSV fallback, CPU, and simulated devices for tests and planning.
 * A device SPEC (DESIGN.md) selects them:
 *   auto                      NVML, else nvidia-smi, else CPU (the default)
 *   cpu[:N]                   N CPU devices (default 1) sharing the host's cores
 *   0,2 | GPU-<uuid>,...      GPUs by index (as CUDA sees them after
 *                             CUDA_VISIBLE_DEVICES) or by UUID
 *   sim:NAME:SPEED[:MEM_MIB][xCOUNT],...   simulated devices
 */
#ifndef SHOTQ_DEVICES_H
#define SHOTQ_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum dev_kind { DEV_CPU = 0, DEV_GPU = 1, DEV_SIM = 2 };

struct dev_info {
    char name[96];          /* "NVIDIA GeForce GTX 1080 Ti", "cpu", sim NAME */
    char uuid[96];          /* "GPU-..." for GPUs, "" otherwise */
    char pci_bus_id[32];    /* "00000000:3B:00.0" for GPUs, "" otherwise */
    char node[64];          /* host name of the node the device is on */
    enum dev_kind kind;
    int ordinal;            /* NVML/nvidia-smi index of a GPU; CPU/sim: 0..n-1 */
    uint64_t mem_total;     /* bytes; CPU: host memory / number of CPU devices */
    uint64_t mem_free;      /* bytes, as of the last refresh */
    int util_pct;           /* GPU utilisation %, -1 if unknown */
    int nprocs;             /* compute processes on the GPU, -1 if unknown */
    int mem_bus_width;      /* bits, 0 if unknown */
    int mem_clock_mhz;      /* MHz, 0 if unknown */
    int ncpus;              /* CPU cores for a CPU device, 0 otherwise */
    double speed;           /* speed prior: sim speed; GPUs from bandwidth; CPU 1 */
    char source[16];        /* "nvml", "nvidia-smi", "cpu", "sim" */
};

struct dev_list {
    struct dev_info *v;     /* owned array of n entries */
    size_t n;
};

/* Discovers the devices a SPEC names (NULL or "" = $SHOTQ_DEVICES, else "auto").
 * Returns 0 and fills *out (free with dev_list_free), or -EINVAL for a
 * malformed spec / unknown device with a one-line message in err naming the
 * spec, the position and what was expected, or another -errno. */
int dev_discover(const char *spec, struct dev_list *out, char *err, size_t errlen);

/* Refreshes mem_free, util_pct and nprocs of GPU devices in place. Simulated
 * and CPU devices are left unchanged. Returns 0 or -errno. */
int dev_refresh(struct dev_list *list);

/* Releases the array. Safe on a zeroed list. */
void dev_list_free(struct dev_list *list);

/* "gpu", "cpu" or "sim". */
const char *dev_kind_name(enum dev_kind kind);

/* Parses `nvidia-smi --query-gpu=index,name,uuid,pci.bus_id,memory.total,
 * memory.free,utilization.gpu,memory.bus_width(optional)... --format=csv,noheader,nounits`
 * output (see devices_nvsmi.c for the exact field list). Exposed for tests. */
int dev_nvsmi_parse_csv(const char *text, struct dev_list *out, char *err,
                        size_t errlen);

#endif /* SHOTQ_DEVICES_H */
