/* Shared helpers of the fd unit tests: small files written into the scratch
 * directory of test_tmpdir.h. Include after <cmocka.h>. */
#ifndef TEST_FD_UTIL_H
#define TEST_FD_UTIL_H

#include <stdio.h>
#include <stdlib.h>

#include "test_tmpdir.h"

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

#endif /* TEST_FD_UTIL_H */
