/* Shared fixture of the unit tests: a scratch directory, tmpdir, made by the
 * setup and removed with everything in it by the teardown (per group or per
 * test, as the file registers them). Include after <cmocka.h>. */
#ifndef TEST_TMPDIR_H
#define TEST_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>

static char tmpdir[64]; /* the scratch directory */

/* Creates tmpdir. */
static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/shotq-test.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

/* Removes tmpdir and everything in it. */
static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

#endif /* TEST_TMPDIR_H */
