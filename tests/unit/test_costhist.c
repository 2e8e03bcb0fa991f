/* Unit tests of costhist: costs of an earlier run become weights. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sched/costhist.h"

/* Writes text to a fresh temporary file; returns its path (static). */
static const char *write_tmp(const char *text)
{
    static char path[64];
    strcpy(path, "/tmp/shotq-costhist-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_apply(void **state)
{
    (void)state;
    /* Task 9 failed (no cost), task 4 done; tasks 1, 2, 4 have history. */
    const char *p =
        write_tmp("{\"makespan_s\":1,\"tasks\":["
                  "{\"id\":1,\"cost\":2.0},{\"id\":2,\"cost\":10.0},"
                  "{\"id\":4,\"cost\":4.0},{\"id\":9,\"status\":\"failed\"}]}");
    int64_t id[] = {4, 1, 2, 7};
    double w[] = {1, 1, 1, 1};
    char err[256];
    assert_int_equal(costhist_apply(p, id, w, NULL, 4, err, sizeof err), 3);
    assert_true(w[0] == 4.0 && w[1] == 2.0 && w[2] == 10.0);
    assert_true(w[3] == 4.0); /* no history: the median of 2, 4, 10 */
    unlink(p);
}

static void test_bad_inputs(void **state)
{
    (void)state;
    int64_t id[] = {0};
    double w[] = {1};
    char err[256];
    assert_int_equal(costhist_apply("/nonexistent/x", id, w, NULL, 1, err, sizeof err),
                     -EINVAL);
    assert_non_null(strstr(err, "cannot read"));
    const char *p = write_tmp("{\"tasks\":[{\"id\":0}]}");
    assert_int_equal(costhist_apply(p, id, w, NULL, 1, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "expected a shotq report.json with task costs"));
    unlink(p);
    p = write_tmp("not json");
    assert_int_equal(costhist_apply(p, id, w, NULL, 1, err, sizeof err), -EINVAL);
    unlink(p);
    assert_true(w[0] == 1.0); /* untouched on error */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apply),
        cmocka_unit_test(test_bad_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
