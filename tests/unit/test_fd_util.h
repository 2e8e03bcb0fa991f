/* Shared helpers of the fd unit tests: a scratch directory per test process
 * and small files written into it. Include after <cmocka.h>. */
#ifndef TEST_FD_UTIL_H
#define TEST_FD_UTIL_H

#include <stdio.h>
#include <stdlib.h>

static char tmpdir[64]; /* per-process scratch directory */

/* Writes text to tmpdir/name; returns the path in a static buffer. */
static const char *put_file(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* Group setup: creates tmpdir. */
static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_fd.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

/* Group teardown: removes tmpdir and everything in it. */
static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

#endif /* TEST_FD_UTIL_H */
