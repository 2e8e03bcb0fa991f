/* fuzz_tasks_range: tasks_parse_range() over arbitrary strings (--tasks). */
#include "fuzz_common.h"
#include "tasks/tasks.h"
#include <stdbool.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* True when a range in s may expand to millions of tasks: a '-' together with
 * a run of 7 or more digits. Such inputs are legitimate (ENOMEM at worst), so
 * they are skipped; single huge numbers (overflow checks) are kept. */
static bool too_big(const char *s)
{
    size_t run = 0, longest = 0;
    bool dash = false;
    for (; *s; s++) {
        dash |= *s == '-';
        run = (*s >= '0' && *s <= '9') ? run + 1 : 0;
        longest = run > longest ? run : longest;
    }
    return dash && longest >= 7;
}

/* One fuzz input: parse it as a --tasks RANGE (bounded size: a huge range
 * is a legitimate ENOMEM, not a finding). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    if (!s)
        return 0;
    if (too_big(s) || size > 4096) {
        free(s);
        return 0;
    }
    struct taskset ts = {0};
    char err[512];
    if (tasks_parse_range(&ts, s, err, sizeof err) == 0)
        (void)tasks_check_unique(&ts, err, sizeof err);
    tasks_free(&ts);
    free(s);
    return 0;
}
