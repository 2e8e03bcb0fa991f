/* fuzz_devices: dev_discover() over arbitrary --devices specs. GPUs are
 * absent (no NVML, nvidia-smi not on PATH), so GPU specs fail with ENODEV. */
#include "devices/devices.h"
#include "fuzz_common.h"
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Keeps discovery off real GPUs and external programs. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("PATH", "/nonexistent", 1);
    unsetenv("SHOTQ_DEVICES");
    unsetenv("CUDA_VISIBLE_DEVICES");
    return 0;
}

/* One fuzz input: parse it as a --devices spec. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *s = fuzz_cstr(data, size);
    if (!s)
        return 0;
    struct dev_list list = {0};
    char err[512];
    if (dev_discover(s, &list, err, sizeof err) == 0)
        dev_list_free(&list);
    free(s);
    return 0;
}
