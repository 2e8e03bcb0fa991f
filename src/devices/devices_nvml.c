/* devices_nvml: GPUs from NVML, the driver's management library, loaded at
 * run time with dlopen so the binary runs on machines without a driver
 * ($SHOTQ_NVML_LIB replaces the library name for tests). The few NVML types
 * used are declared here, following nvml.h, so nothing depends on the CUDA
 * toolkit's headers. The library stays loaded and initialised between calls
 * (refresh runs often) until dev_shutdown. */
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/devices_int.h"
#include "util/log.h"

/* ---- the subset of nvml.h shotq needs ---- */

typedef int nvmlReturn_t; /* an enum in nvml.h */
typedef struct nvmlDevice_st *nvmlDevice_t;

#define NVML_SUCCESS 0
#define NVML_ERROR_INSUFFICIENT_SIZE 7
#define NVML_CLOCK_MEM 2
#define NVML_DEVICE_NAME_V2_BUFFER_SIZE 96
#define NVML_DEVICE_UUID_V2_BUFFER_SIZE 96
#define NVML_VALUE_NOT_AVAILABLE (~0ull) /* usedGpuMemory without permission */
#define NVML_MAX_PROCS 256               /* processes listed per GPU, at most */

typedef struct {
    unsigned long long total; /* bytes */
    unsigned long long free;  /* bytes */
    unsigned long long used;  /* bytes */
} nvmlMemory_t;

typedef struct {
    unsigned int gpu;    /* % of time a kernel ran, last sample period */
    unsigned int memory; /* % of time memory was read or written */
} nvmlUtilization_t;

/* Layout of nvmlDeviceGetPciInfo_v2 and _v3. */
typedef struct {
    char busIdLegacy[16];        /* "0000:3B:00.0" (deprecated) */
    unsigned int domain;         /* PCI domain */
    unsigned int bus;            /* bus number */
    unsigned int device;         /* device number */
    unsigned int pciDeviceId;    /* device id << 16 | vendor id */
    unsigned int pciSubSystemId; /* subsystem id */
    char busId[32];              /* "00000000:3B:00.0" */
} nvmlPciInfo_t;

/* nvmlProcessInfo_v2_t and nvmlProcessInfo_t (v3) share this layout. */
typedef struct {
    unsigned int pid;                 /* process id */
    unsigned long long usedGpuMemory; /* bytes */
    unsigned int gpuInstanceId;       /* MIG GPU instance, or ~0 */
    unsigned int computeInstanceId;   /* MIG compute instance, or ~0 */
} nvmlProcessInfo_t;

/* Entry points, filled by dlsym. */
struct nvml_fns {
    nvmlReturn_t (*init)(void);
    nvmlReturn_t (*shutdown)(void);
    nvmlReturn_t (*count)(unsigned int *);
    nvmlReturn_t (*handle)(unsigned int, nvmlDevice_t *);
    nvmlReturn_t (*name)(nvmlDevice_t, char *, unsigned int);
    nvmlReturn_t (*uuid)(nvmlDevice_t, char *, unsigned int);
    nvmlReturn_t (*pci)(nvmlDevice_t, nvmlPciInfo_t *);
    nvmlReturn_t (*memory)(nvmlDevice_t, nvmlMemory_t *);
    nvmlReturn_t (*util)(nvmlDevice_t, nvmlUtilization_t *);
    nvmlReturn_t (*procs)(nvmlDevice_t, unsigned int *, nvmlProcessInfo_t *);
    nvmlReturn_t (*bus_width)(nvmlDevice_t, unsigned int *);
    nvmlReturn_t (*max_clock)(nvmlDevice_t, int, unsigned int *);
    const char *(*error_string)(nvmlReturn_t);
};

/* Symbol table: name, older name to fall back to, slot, required. */
static const struct nvml_sym {
    const char *name;     /* preferred symbol */
    const char *fallback; /* older version of the same call, or NULL */
    size_t off;           /* offset of the slot in struct nvml_fns */
    bool required;        /* discovery is impossible without it */
} nvml_syms[] = {
    {"nvmlInit_v2", NULL, offsetof(struct nvml_fns, init), true},
    {"nvmlShutdown", NULL, offsetof(struct nvml_fns, shutdown), true},
    {"nvmlDeviceGetCount_v2", NULL, offsetof(struct nvml_fns, count), true},
    {"nvmlDeviceGetHandleByIndex_v2", NULL, offsetof(struct nvml_fns, handle), true},
    {"nvmlDeviceGetName", NULL, offsetof(struct nvml_fns, name), true},
    {"nvmlDeviceGetUUID", NULL, offsetof(struct nvml_fns, uuid), true},
    {"nvmlDeviceGetPciInfo_v3", "nvmlDeviceGetPciInfo_v2", offsetof(struct nvml_fns, pci),
     false},
    {"nvmlDeviceGetMemoryInfo", NULL, offsetof(struct nvml_fns, memory), true},
    {"nvmlDeviceGetUtilizationRates", NULL, offsetof(struct nvml_fns, util), false},
    {"nvmlDeviceGetComputeRunningProcesses_v3", "nvmlDeviceGetComputeRunningProcesses_v2",
     offsetof(struct nvml_fns, procs), false},
    {"nvmlDeviceGetMemoryBusWidth", NULL, offsetof(struct nvml_fns, bus_width), false},
    {"nvmlDeviceGetMaxClockInfo", NULL, offsetof(struct nvml_fns, max_clock), false},
    {"nvmlErrorString", NULL, offsetof(struct nvml_fns, error_string), true},
};

static void *nvml_lib;       /* dlopen handle, NULL until loaded */
static struct nvml_fns nvml; /* valid while nvml_lib != NULL */

/* Describes an NVML status for messages. */
static const char *nvml_str(nvmlReturn_t r)
{
    const char *s = nvml.error_string ? nvml.error_string(r) : NULL;
    return s ? s : "unknown NVML error";
}

/* Loads and initialises NVML once. Returns 0, or -ENODEV with the reason in
 * err (library missing, a required symbol missing, nvmlInit failing); then
 * nothing stays loaded. */
static int nvml_load(char *err, size_t errlen)
{
    if (nvml_lib)
        return 0;
    const char *libname = getenv("SHOTQ_NVML_LIB");
    if (!libname || !*libname)
        libname = "libnvidia-ml.so.1";
    void *lib = dlopen(libname, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        /* dlerror names the library and says why it did not load. */
        const char *why = dlerror();
        snprintf(err, errlen, "%s", why ? why : "dlopen failed");
        return -ENODEV;
    }
    struct nvml_fns f = {0};
    for (size_t i = 0; i < sizeof nvml_syms / sizeof nvml_syms[0]; i++) {
        const struct nvml_sym *s = &nvml_syms[i];
        void *p = dlsym(lib, s->name);
        if (!p && s->fallback)
            p = dlsym(lib, s->fallback);
        if (!p && s->required) {
            snprintf(err, errlen, "%s has no %s", libname, s->name);
            dlclose(lib);
            return -ENODEV;
        }
        /* POSIX guarantees a data pointer from dlsym can hold a function. */
        memcpy((char *)&f + s->off, &p, sizeof p);
    }
    nvmlReturn_t r = f.init();
    if (r != NVML_SUCCESS) {
        const char *s = f.error_string(r);
        snprintf(err, errlen, "nvmlInit: %s", s ? s : "unknown NVML error");
        dlclose(lib);
        return -ENODEV;
    }
    nvml = f;
    nvml_lib = lib;
    return 0;
}

/* Shuts NVML down and unloads it; safe when not loaded. */
static void nvml_unload(void)
{
    if (!nvml_lib)
        return;
    nvml.shutdown();
    dlclose(nvml_lib);
    nvml_lib = NULL;
    nvml = (struct nvml_fns){0};
}

/* Reads the volatile fields of h into d: free memory, utilisation, process
 * count (unknown values -1). Returns the status of the memory query. */
static nvmlReturn_t nvml_read_volatile(nvmlDevice_t h, struct dev_info *d)
{
    nvmlMemory_t mem;
    nvmlReturn_t r = nvml.memory(h, &mem);
    if (r == NVML_SUCCESS) {
        d->mem_total = mem.total;
        d->mem_free = mem.free;
    }
    nvmlUtilization_t u;
    d->util_pct = nvml.util && nvml.util(h, &u) == NVML_SUCCESS ? (int)u.gpu : -1;
    /* Asking with room for none returns the count: SUCCESS when there are no
     * processes, INSUFFICIENT_SIZE with *n set otherwise. */
    unsigned int n = 0;
    nvmlReturn_t pr = nvml.procs ? nvml.procs(h, &n, NULL) : -1;
    d->nprocs = pr == NVML_SUCCESS ? 0 : pr == NVML_ERROR_INSUFFICIENT_SIZE ? (int)n : -1;
    return r;
}

/* Fills d from GPU index i. Returns NVML_SUCCESS or the status of the first
 * required call that failed, with the call named in *what. */
static nvmlReturn_t nvml_read_gpu(unsigned int i, struct dev_info *d, const char **what)
{
    nvmlDevice_t h;
    nvmlReturn_t r;
    *d = (struct dev_info){0};
    if ((r = nvml.handle(i, &h)) != NVML_SUCCESS) {
        *what = "nvmlDeviceGetHandleByIndex";
        return r;
    }
    char name[NVML_DEVICE_NAME_V2_BUFFER_SIZE], uuid[NVML_DEVICE_UUID_V2_BUFFER_SIZE];
    if ((r = nvml.name(h, name, sizeof name)) != NVML_SUCCESS) {
        *what = "nvmlDeviceGetName";
        return r;
    }
    if ((r = nvml.uuid(h, uuid, sizeof uuid)) != NVML_SUCCESS) {
        *what = "nvmlDeviceGetUUID";
        return r;
    }
    if ((r = nvml_read_volatile(h, d)) != NVML_SUCCESS) {
        *what = "nvmlDeviceGetMemoryInfo";
        return r;
    }
    name[sizeof name - 1] = uuid[sizeof uuid - 1] = '\0';
    dev_strlcpy(d->name, name, sizeof d->name);
    dev_strlcpy(d->uuid, uuid, sizeof d->uuid);
    nvmlPciInfo_t pci;
    if (nvml.pci && nvml.pci(h, &pci) == NVML_SUCCESS) {
        pci.busId[sizeof pci.busId - 1] = '\0';
        dev_strlcpy(d->pci_bus_id, pci.busId, sizeof d->pci_bus_id);
    }
    unsigned int v;
    if (nvml.bus_width && nvml.bus_width(h, &v) == NVML_SUCCESS && v < 65536)
        d->mem_bus_width = (int)v;
    if (nvml.max_clock && nvml.max_clock(h, NVML_CLOCK_MEM, &v) == NVML_SUCCESS &&
        v < 1000000)
        d->mem_clock_mhz = (int)v;
    d->kind = DEV_GPU;
    d->ordinal = (int)i;
    d->speed = dev_gpu_speed_prior(d->mem_bus_width, d->mem_clock_mhz);
    dev_strlcpy(d->source, "nvml", sizeof d->source);
    dev_fill_node(d);
    return NVML_SUCCESS;
}

/* Appends every GPU NVML can read to out; a GPU that fails a required query
 * (lost, no permission) is skipped with a warning. Returns 0, -ENODEV (NVML
 * unavailable; reason in err) or -ENOMEM (out as it was). */
static int nvml_probe(const struct dev_request *req, struct dev_list *out, char *err,
                      size_t errlen)
{
    (void)req;
    int rc = nvml_load(err, errlen);
    if (rc < 0)
        return rc;
    unsigned int n;
    nvmlReturn_t r = nvml.count(&n);
    if (r != NVML_SUCCESS) {
        snprintf(err, errlen, "nvmlDeviceGetCount: %s", nvml_str(r));
        return -ENODEV;
    }
    size_t n0 = out->n;
    for (unsigned int i = 0; i < n; i++) {
        struct dev_info d;
        const char *what = "";
        r = nvml_read_gpu(i, &d, &what);
        if (r != NVML_SUCCESS) {
            log_msg(LOG_WARN, "devices: GPU %u skipped: %s: %s", i, what, nvml_str(r));
            continue;
        }
        if (dev_list_append(out, &d) < 0) {
            dev_list_truncate(out, n0);
            return -ENOMEM;
        }
    }
    return 0;
}

/* The NVML handle of the GPU with this UUID, or NULL. */
static nvmlDevice_t nvml_find(const char *want)
{
    unsigned int n = 0;
    if (nvml.count(&n) != NVML_SUCCESS)
        return NULL;
    for (unsigned int i = 0; i < n; i++) {
        nvmlDevice_t h;
        char uuid[NVML_DEVICE_UUID_V2_BUFFER_SIZE];
        if (nvml.handle(i, &h) != NVML_SUCCESS ||
            nvml.uuid(h, uuid, sizeof uuid) != NVML_SUCCESS)
            continue;
        uuid[sizeof uuid - 1] = '\0';
        if (!strcmp(uuid, want))
            return h;
    }
    return NULL;
}

/* Re-reads free memory, utilisation and process count of the NVML GPUs in
 * list, found by UUID (the index may have changed if a GPU fell off the bus).
 * Returns 0, or -ENODEV when NVML is gone or a GPU cannot be read (its values
 * are left as they were). */
static int nvml_refresh(struct dev_list *list)
{
    char err[256];
    if (nvml_load(err, sizeof err) < 0) {
        log_msg(LOG_DEBUG, "devices: NVML refresh: %s", err);
        return -ENODEV;
    }
    int rc = 0;
    for (size_t k = 0; k < list->n; k++) {
        struct dev_info *d = &list->v[k];
        if (strcmp(d->source, "nvml") != 0)
            continue;
        nvmlDevice_t h = nvml_find(d->uuid);
        struct dev_info now = *d;
        if (h && nvml_read_volatile(h, &now) == NVML_SUCCESS)
            *d = now;
        else
            rc = -ENODEV;
    }
    return rc;
}

/* Appends the compute processes of the NVML GPUs in list (see dev_ops).
 * Returns 0, or -ENODEV when NVML, its process list or a GPU is missing. */
static int nvml_procs(const struct dev_list *list, struct dev_proc *out, size_t cap,
                      size_t *n)
{
    char err[256];
    if (nvml_load(err, sizeof err) < 0 || !nvml.procs)
        return -ENODEV;
    static nvmlProcessInfo_t pi[NVML_MAX_PROCS];
    for (size_t k = 0; k < list->n; k++) {
        const struct dev_info *d = &list->v[k];
        if (strcmp(d->source, "nvml") != 0)
            continue;
        nvmlDevice_t h = nvml_find(d->uuid);
        unsigned int np = NVML_MAX_PROCS;
        if (!h || nvml.procs(h, &np, pi) != NVML_SUCCESS)
            return -ENODEV;
        for (unsigned int i = 0; i < np && i < NVML_MAX_PROCS; i++) {
            uint64_t mem = pi[i].usedGpuMemory == NVML_VALUE_NOT_AVAILABLE
                               ? DEV_MEM_UNKNOWN
                               : pi[i].usedGpuMemory;
            dev_proc_add(out, cap, n, k, (long)pi[i].pid, mem);
        }
    }
    return 0;
}

const struct dev_ops dev_nvml_ops = {"nvml", nvml_probe, nvml_refresh, nvml_unload,
                                     nvml_procs};
