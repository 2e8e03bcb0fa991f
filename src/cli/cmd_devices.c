/* shotq devices: lists the devices a SPEC selects, as a table or as JSON. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "devices/devices.h"

#define MIB (1024.0 * 1024.0)

static void devices_usage(FILE *f)
{
    fputs("usage: shotq devices [--devices SPEC] [--json]\n"
          "  --devices SPEC  auto (default; $SHOTQ_DEVICES overrides), cpu[:N],\n"
          "                  GPU indices or UUIDs (0,2 | GPU-...),\n"
          "                  sim:NAME:SPEED[:MEM_MIB][xCOUNT],...\n"
          "  --json          print a JSON array with every field (memory in bytes)\n"
          "  --help          show this help\n"
          "CUDA_VISIBLE_DEVICES limits the GPUs; GPU indices count within it.\n"
          "SHOTQ_NVML_LIB and SHOTQ_NVIDIA_SMI replace the NVML library and the\n"
          "nvidia-smi program.\n",
          f);
}

/* Adds one device as a JSON object to arr. Returns false when out of memory. */
static bool add_json_device(cJSON *arr, size_t index, const struct dev_info *d)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return false;
    cJSON_AddItemToArray(arr, o);
    return cJSON_AddNumberToObject(o, "index", (double)index) &&
           cJSON_AddStringToObject(o, "kind", dev_kind_name(d->kind)) &&
           cJSON_AddStringToObject(o, "name", d->name) &&
           cJSON_AddStringToObject(o, "uuid", d->uuid) &&
           cJSON_AddStringToObject(o, "pci_bus_id", d->pci_bus_id) &&
           cJSON_AddStringToObject(o, "node", d->node) &&
           cJSON_AddNumberToObject(o, "ordinal", d->ordinal) &&
           cJSON_AddNumberToObject(o, "mem_total", (double)d->mem_total) &&
           cJSON_AddNumberToObject(o, "mem_free", (double)d->mem_free) &&
           cJSON_AddNumberToObject(o, "mem_reserved", (double)d->mem_reserved) &&
           cJSON_AddNumberToObject(o, "util_pct", d->util_pct) &&
           cJSON_AddNumberToObject(o, "nprocs", d->nprocs) &&
           cJSON_AddNumberToObject(o, "mem_bus_width", d->mem_bus_width) &&
           cJSON_AddNumberToObject(o, "mem_clock_mhz", d->mem_clock_mhz) &&
           cJSON_AddNumberToObject(o, "ncpus", d->ncpus) &&
           cJSON_AddNumberToObject(o, "speed", d->speed) &&
           cJSON_AddStringToObject(o, "source", d->source);
}

/* Prints list as a JSON array on stdout. Returns the exit status. */
static int print_json(const struct dev_list *list)
{
    cJSON *arr = cJSON_CreateArray();
    bool ok = arr != NULL;
    for (size_t i = 0; ok && i < list->n; i++)
        ok = add_json_device(arr, i, &list->v[i]);
    char *text = ok ? cJSON_Print(arr) : NULL;
    cJSON_Delete(arr);
    if (!text) {
        fputs("shotq: devices: out of memory\n", stderr);
        return 1;
    }
    puts(text);
    cJSON_free(text);
    return 0;
}

/* Formats v into buf, or "-" when it is negative (unknown). */
static const char *int_or_dash(char *buf, size_t size, int v, const char *suffix)
{
    if (v < 0)
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%d%s", v, suffix);
    return buf;
}

/* Prints list as a table on stdout. Returns the exit status. */
static int print_table(const struct dev_list *list)
{
    int namew = 4;
    for (size_t i = 0; i < list->n; i++) {
        int len = (int)strlen(list->v[i].name);
        if (len > namew)
            namew = len;
    }
    printf("%3s  %-4s  %-*s  %9s  %9s  %4s  %5s  %5s  %s\n", "IDX", "KIND", namew, "NAME",
           "MEM(MiB)", "FREE(MiB)", "UTIL", "PROCS", "SPEED", "UUID");
    for (size_t i = 0; i < list->n; i++) {
        const struct dev_info *d = &list->v[i];
        char util[16], procs[16];
        printf("%3zu  %-4s  %-*s  %9.0f  %9.0f  %4s  %5s  %5.2f  %s\n", i,
               dev_kind_name(d->kind), namew, d->name, (double)d->mem_total / MIB,
               (double)d->mem_free / MIB,
               int_or_dash(util, sizeof util, d->util_pct, "%"),
               int_or_dash(procs, sizeof procs, d->nprocs, ""), d->speed,
               d->uuid[0] ? d->uuid : "-");
    }
    return 0;
}

int cmd_devices(int argc, char **argv)
{
    const char *spec = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            devices_usage(stdout);
            return 0;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--devices")) {
            if (i + 1 >= argc) {
                fputs("shotq devices: --devices needs a SPEC (see --help)\n", stderr);
                return 2;
            }
            spec = argv[++i];
        } else if (!strncmp(a, "--devices=", 10)) {
            spec = a + 10;
        } else {
            fprintf(stderr,
                    "shotq devices: unknown option '%s' (expected --devices SPEC, "
                    "--json or --help)\n",
                    a);
            return 2;
        }
    }
    /* An explicit empty --devices '' is a bad spec, not a request for the default. */
    if (spec && !*spec) {
        fputs("shotq devices: --devices '': expected a SPEC, got an empty string\n",
              stderr);
        return 2;
    }
    struct dev_list list;
    char err[512];
    int rc = dev_discover(spec, &list, err, sizeof err);
    dev_shutdown(); /* nothing is refreshed later */
    if (rc < 0) {
        fprintf(stderr, "shotq devices: %s\n", err[0] ? err : strerror(-rc));
        return rc == -EINVAL || rc == -ENODEV ? 2 : 1;
    }
    rc = json ? print_json(&list) : print_table(&list);
    dev_list_free(&list);
    return rc;
}
