/* A stand-in for libnvidia-ml.so.1 in tests: two GPUs, a GTX 1080 Ti running
 * one process and an idle GTX 780 Ti. Built by tests/integration/test_devices.sh
 * and loaded through $SHOTQ_NVML_LIB. It exports nvmlDeviceGetPciInfo_v2 but
 * not _v3, so shotq's fallback to the older symbol is exercised.
 * FAKE_NVML_FAIL_INIT=1 makes nvmlInit_v2 fail as without a driver;
 * FAKE_NVML_IDLE=1 makes the busy 1080 Ti idle (for refresh tests).
 * FAKE_NVML_PROCS=DIR scripts the processes instead (read at every call):
 * each file in DIR not starting with '.' holds "GPU PID MIB [UTIL]", one
 * process on GPU index GPU using MIB MiB and UTIL % (default 0). A GPU's
 * used memory is then 166 MiB plus its processes', its utilisation the
 * largest UTIL, and every process listed gets a file DIR/.seen.PID, so a
 * test task can wait until shotq has sampled it. Files come and go while a
 * run goes on: a foreign process appears, a task registers itself. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    unsigned long long total, free, used;
} mem_t;
typedef struct {
    unsigned int gpu, memory;
} util_t;
typedef struct {
    char busIdLegacy[16];
    unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
    char busId[32];
} pci_t;
typedef struct {
    unsigned int pid;
    unsigned long long usedGpuMemory;
    unsigned int gpuInstanceId, computeInstanceId;
} proc_t;

struct gpu {
    const char *name, *uuid, *bus;
    unsigned long long total, free;
    unsigned int util, nprocs, bus_width, mem_clock;
};

static struct gpu gpus[2] = {
    {"NVIDIA GeForce GTX 1080 Ti", "GPU-5b9a1d3e-7c2f-4a8e-9f1b-2d6c8e4a7b10",
     "00000000:02:00.0", 11264ull << 20, 2154ull << 20, 97, 1, 352, 5505},
    {"NVIDIA GeForce GTX 780 Ti", "GPU-1c7e9a4f-2d8b-4f3c-b6e1-9a5d2c7f4e32",
     "00000000:82:00.0", 3072ull << 20, 3009ull << 20, 0, 0, 384, 3500},
};

#define BASE_USED (166ull << 20)
#define MAX_SCRIPTED 64

struct scripted {
    unsigned int pid, util;
    unsigned long long mem;
};

/* Reads the scripted processes of GPU g from $FAKE_NVML_PROCS into p (at
 * most MAX_SCRIPTED). Returns their number, or -1 when not scripted. */
static int scripted(unsigned int g, struct scripted *p)
{
    const char *dir = getenv("FAKE_NVML_PROCS");
    if (!dir || !*dir)
        return -1;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < MAX_SCRIPTED) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "r");
        unsigned int gi, pid, util = 0;
        unsigned long long mib;
        if (f && fscanf(f, "%u %u %llu %u", &gi, &pid, &mib, &util) >= 3 && gi == g)
            p[n++] = (struct scripted){pid, util, mib << 20};
        if (f)
            fclose(f);
    }
    closedir(d);
    return n;
}

/* Marks pid as seen by the caller (see FAKE_NVML_PROCS). */
static void mark_seen(unsigned int pid)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/.seen.%u", getenv("FAKE_NVML_PROCS"), pid);
    FILE *f = fopen(path, "w");
    if (f)
        fclose(f);
}

static int idle(const struct gpu *h)
{
    const char *f = getenv("FAKE_NVML_IDLE");
    return h == &gpus[0] && f && *f == '1';
}

int nvmlInit_v2(void)
{
    const char *f = getenv("FAKE_NVML_FAIL_INIT");
    return f && *f == '1' ? 9 : 0; /* NVML_ERROR_DRIVER_NOT_LOADED */
}
int nvmlShutdown(void)
{
    return 0;
}
const char *nvmlErrorString(int r)
{
    return r == 9 ? "Driver Not Loaded" : r == 7 ? "Insufficient Size" : "Unknown Error";
}
int nvmlDeviceGetCount_v2(unsigned int *n)
{
    *n = 2;
    return 0;
}
int nvmlDeviceGetHandleByIndex_v2(unsigned int i, struct gpu **h)
{
    if (i >= 2)
        return 2; /* NVML_ERROR_INVALID_ARGUMENT */
    *h = &gpus[i];
    return 0;
}
static int copy(char *dst, unsigned int len, const char *src)
{
    if (strlen(src) >= len)
        return 7;
    strcpy(dst, src);
    return 0;
}
int nvmlDeviceGetName(struct gpu *h, char *buf, unsigned int len)
{
    return copy(buf, len, h->name);
}
int nvmlDeviceGetUUID(struct gpu *h, char *buf, unsigned int len)
{
    return copy(buf, len, h->uuid);
}
int nvmlDeviceGetPciInfo_v2(struct gpu *h, pci_t *p)
{
    memset(p, 0, sizeof *p);
    return copy(p->busId, sizeof p->busId, h->bus);
}
int nvmlDeviceGetMemoryInfo(struct gpu *h, mem_t *m)
{
    struct scripted p[MAX_SCRIPTED];
    int n = scripted((unsigned int)(h - gpus), p);
    if (n >= 0) {
        unsigned long long used = BASE_USED;
        for (int i = 0; i < n; i++)
            used += p[i].mem;
        m->total = h->total;
        m->used = used < h->total ? used : h->total;
        m->free = h->total - m->used;
        return 0;
    }
    m->total = h->total;
    m->free = idle(h) ? h->total - (166ull << 20) : h->free;
    m->used = h->total - h->free;
    return 0;
}
int nvmlDeviceGetUtilizationRates(struct gpu *h, util_t *u)
{
    struct scripted p[MAX_SCRIPTED];
    int n = scripted((unsigned int)(h - gpus), p);
    if (n >= 0) {
        u->gpu = 0;
        for (int i = 0; i < n; i++)
            u->gpu = p[i].util > u->gpu ? p[i].util : u->gpu;
        u->memory = u->gpu / 2;
        return 0;
    }
    u->gpu = idle(h) ? 0 : h->util;
    u->memory = u->gpu / 2;
    return 0;
}
int nvmlDeviceGetComputeRunningProcesses_v3(struct gpu *h, unsigned int *n, proc_t *p)
{
    struct scripted sp[MAX_SCRIPTED];
    int ns = scripted((unsigned int)(h - gpus), sp);
    if (ns >= 0) {
        unsigned int have = *n;
        *n = (unsigned int)ns;
        if (have < (unsigned int)ns)
            return 7;
        for (int i = 0; i < ns; i++) {
            p[i] = (proc_t){sp[i].pid, sp[i].mem, ~0u, ~0u};
            mark_seen(sp[i].pid);
        }
        return 0;
    }
    unsigned int have = *n, nprocs = idle(h) ? 0 : h->nprocs;
    *n = nprocs;
    if (have < nprocs)
        return 7; /* NVML_ERROR_INSUFFICIENT_SIZE */
    for (unsigned int i = 0; i < nprocs; i++)
        p[i] = (proc_t){48213 + i, 9000ull << 20, ~0u, ~0u};
    return 0;
}
int nvmlDeviceGetMemoryBusWidth(struct gpu *h, unsigned int *w)
{
    *w = h->bus_width;
    return 0;
}
int nvmlDeviceGetMaxClockInfo(struct gpu *h, int type, unsigned int *mhz)
{
    if (type != 2) /* NVML_CLOCK_MEM */
        return 3;  /* NVML_ERROR_NOT_SUPPORTED */
    *mhz = h->mem_clock;
    return 0;
}
