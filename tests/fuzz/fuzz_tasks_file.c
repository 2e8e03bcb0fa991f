/* fuzz_tasks_file: tasks_read() over arbitrary bytes, then the id check. */
#include "fuzz_common.h"
#include "tasks/tasks.h"
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One fuzz input: parse it as a tasks file. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fmemopen((void *)(uintptr_t)data, size ? size : 1, "r");
    if (!f)
        return 0;
    if (!size)
        fgetc(f); /* fmemopen wants size > 0: consume the one byte */
    struct taskset ts = {0};
    char err[512];
    if (tasks_read(&ts, f, "fuzz", err, sizeof err) == 0 &&
        tasks_check_unique(&ts, err, sizeof err) == 0 && ts.n)
        (void)tasks_find(&ts, ts.id[0]);
    tasks_free(&ts);
    fclose(f);
    return 0;
}
