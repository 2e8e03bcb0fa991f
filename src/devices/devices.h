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
 *
 * Environment: SHOTQ_DEVICES (default SPEC), CUDA_VISIBLE_DEVICES (which GPUs
 * exist, as for CUDA), SHOTQ_NVML_LIB (NVML library to dlopen, default
 * libnvidia-ml.so.1), SHOTQ_NVIDIA_SMI (nvidia-smi program) and
 * SHOTQ_NVIDIA_SMI_TIMEOUT_MS (how long it may take, default 15000).
 * Library code never prints; details of an unavailable back end go to
 * log_msg at LOG_DEBUG.
 */
#ifndef SHOTQ_DEVICES_H
#define SHOTQ_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum dev_kind { DEV_CPU = 0, DEV_GPU = 1, DEV_SIM = 2 };

struct dev_info {
    char name[96];       /* "NVIDIA GeForce GTX 1080 Ti", "cpu", sim NAME */
    char uuid[96];       /* "GPU-..." for GPUs, "" otherwise */
    char pci_bus_id[32]; /* "00000000:3B:00.0" for GPUs, "" otherwise */
    char node[64];       /* host name of the node the device is on */
    enum dev_kind kind;
    int ordinal;           /* NVML/nvidia-smi index of a GPU; CPU/sim: 0..n-1 */
    uint64_t mem_total;    /* bytes; CPU: host memory / number of CPU devices */
    uint64_t mem_free;     /* bytes, as of the last refresh */
    uint64_t mem_reserved; /* bytes the driver reserves (nvidia-smi -q), 0 if unknown */
    int util_pct;          /* GPU utilisation %, -1 if unknown */
    int nprocs;            /* compute processes on the GPU, -1 if unknown */
    int mem_bus_width;     /* bits, 0 if unknown */
    int mem_clock_mhz;     /* MHz, 0 if unknown */
    int ncpus;             /* CPU cores for a CPU device, 0 otherwise */
    double speed;          /* speed prior: sim speed; GPUs from bandwidth; CPU 1 */
    char source[16];       /* "nvml", "nvidia-smi", "cpu", "sim" */
};

struct dev_list {
    struct dev_info *v; /* owned array of n entries */
    size_t n;
};

/* Discovers the devices a SPEC names (NULL or "" = $SHOTQ_DEVICES, else "auto").
 * Returns 0 and fills *out (free with dev_list_free), or -EINVAL for a
 * malformed spec / unknown device with a one-line message in err naming the
 * spec, the position and what was expected, or -ENODEV when the spec names
 * GPUs and neither NVML nor nvidia-smi works (message in err), or -ENOMEM.
 * On error *out is empty. Both -EINVAL and -ENODEV are bad input (exit 2).
 * GPU indices and UUIDs select among the GPUs CUDA_VISIBLE_DEVICES shows
 * (see dev_filter_visible); indices count in NVML's order (PCI bus order,
 * CUDA_DEVICE_ORDER=PCI_BUS_ID), not CUDA's default fastest-first order. */
int dev_discover(const char *spec, struct dev_list *out, char *err, size_t errlen);

/* Refreshes mem_free, util_pct and nprocs of GPU devices in place (NVML
 * GPUs from NVML, nvidia-smi GPUs from nvidia-smi, matched by UUID).
 * Simulated and CPU devices are left unchanged. Returns 0 or the first
 * -errno (-ENODEV when a back end or a GPU cannot be read; the fields of what
 * could not be read stay as they were). */
int dev_refresh(struct dev_list *list);

/* A compute process on a GPU, as the driver lists it. */
struct dev_proc {
    size_t dev;   /* index of its GPU in the list given to dev_procs */
    long pid;     /* process id (in the driver's pid namespace) */
    uint64_t mem; /* bytes of GPU memory it uses, DEV_MEM_UNKNOWN if not told */
};
#define DEV_MEM_UNKNOWN UINT64_MAX

/* Lists the compute processes on the GPUs of list (NVML GPUs from NVML's
 * process list, nvidia-smi GPUs from --query-compute-apps; CPU and sim
 * devices have none). Fills out with at most cap entries and returns how many
 * there are in all (more than cap: the rest were dropped), or -ENODEV when a
 * back end of a GPU in list cannot list processes (then nothing is known
 * about any: out is unspecified). */
long dev_procs(const struct dev_list *list, struct dev_proc *out, size_t cap);

/* Parses `nvidia-smi --query-compute-apps=gpu_uuid,pid,used_memory
 * --format=csv,noheader,nounits`: each line names a GPU of list by UUID (lines
 * of other GPUs are skipped), a pid and MiB ([N/A], or a missing third field:
 * DEV_MEM_UNKNOWN). Fills out as dev_procs does. Returns the count, or
 * -EINVAL with "line L: ..." in err. Exposed for tests. */
long dev_nvsmi_parse_procs(const char *text, const struct dev_list *list,
                           struct dev_proc *out, size_t cap, char *err, size_t errlen);

/* Releases the array and zeroes *list. Safe on a zeroed list. */
void dev_list_free(struct dev_list *list);

/* Releases what the back ends keep between calls (the NVML library handle).
 * Optional at exit; later calls load it again. */
void dev_shutdown(void);

/* "gpu", "cpu" or "sim". */
const char *dev_kind_name(enum dev_kind kind);

/* Parses `nvidia-smi --query-gpu=index,name,uuid,pci.bus_id,memory.total,
 * memory.free,utilization.gpu,clocks.max.memory --format=csv,noheader,nounits`
 * output: one GPU per line, 8 comma-separated fields, MiB units; `[N/A]` and
 * `[Not Supported]` read as unknown (0 memory, -1 utilisation, 0 clock).
 * Returns 0 and fills *out (GPUs, source "nvidia-smi"; free with
 * dev_list_free), or -EINVAL with "line L: ..." in err (out left empty), or
 * -ENOMEM. Exposed for tests. */
int dev_nvsmi_parse_csv(const char *text, struct dev_list *out, char *err, size_t errlen);

/* Parses `nvidia-smi -q -d MEMORY` output: for each "GPU <bus id>" section the
 * Total, Reserved, Used and Free lines of its "FB Memory Usage" block (not
 * BAR1 or other blocks), whatever their order and whether or not the driver
 * prints "Reserved". Fills *out with one entry per GPU in output order:
 * pci_bus_id, ordinal, mem_total, mem_reserved, mem_free (other fields as for
 * an unknown GPU). Returns 0, -EINVAL with "line L: ..." in err (out left
 * empty), or -ENOMEM. Exposed for tests. */
int dev_nvsmi_parse_query_memory(const char *text, struct dev_list *out, char *err,
                                 size_t errlen);

/* Parses `nvidia-smi --query-compute-apps=gpu_uuid,pid --format=csv,noheader`
 * output and sets nprocs of every GPU in list to the number of lines naming
 * its UUID (0 when none). Returns 0, or -EINVAL with "line L: ..." in err
 * (list unchanged). Exposed for tests. */
int dev_nvsmi_parse_apps(const char *text, struct dev_list *list, char *err,
                         size_t errlen);

/* Applies CUDA_VISIBLE_DEVICES semantics to a list of all GPUs (in NVML index
 * order): keeps only the GPUs cvd names, in the order it names them. cvd is a
 * comma-separated list of indices or UUIDs ("GPU-..."; a unique prefix is
 * enough); as in CUDA, the first entry that is invalid, unknown, ambiguous or
 * repeated ends the list, so "" and "-1" keep no GPU. NULL keeps all.
 * list holds the GPUs of this node. Returns 0 or -ENOMEM (list unchanged). */
int dev_filter_visible(struct dev_list *list, const char *cvd);

#endif /* SHOTQ_DEVICES_H */
