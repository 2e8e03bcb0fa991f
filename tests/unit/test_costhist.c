/* Unit tests of costhist: costs of an earlier run become weights. */
#include <errno.h>
#include <stdbool.h>
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
#include "test_tmpdir.h"

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

/* Writes text to dir/name. */
static void put(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A run directory that a killed run left without report.json: the costs
 * come from its journal's done events (a later done of a task wins); with
 * a report too, the report's cost is preferred and the journal fills in. */
static void test_journal(void **state)
{
    (void)state;
    const char *dir = tmpdir;
    put(dir, "journal",
        "{\"shotq_journal\":2,\"fingerprint\":\"0000000000000001\",\"command\":"
        "\"0000000000000002\",\"what\":\"command true, 3 tasks\"}\n"
        "{\"ev\":\"def\",\"task\":5,\"args\":\"\"}\n"
        "{\"ev\":\"done\",\"task\":5,\"attempt\":1,\"dev\":0,\"t\":1,\"exit\":0,\"cost\":3}\n"
        "{\"ev\":\"done\",\"task\":6,\"attempt\":1,\"dev\":0,\"t\":2,\"exit\":0,\"cost\":7}\n"
        "{\"ev\":\"done\",\"task\":5,\"attempt\":2,\"dev\":1,\"t\":3,\"exit\":0,\"cost\":5}\n"
        "{\"ev\":\"done\",\"task\":8,\"attempt\":1,\"dev\":1,\"t\":4,\"exit\":0}\n");
    int64_t id[] = {5, 6, 8};
    double w[] = {1, 1, 1};
    bool had[3];
    char err[256];
    assert_int_equal(costhist_apply(dir, id, w, had, 3, err, sizeof err), 2);
    assert_true(w[0] == 5.0 && w[1] == 7.0); /* the later done of task 5 */
    assert_true(w[2] == 6.0 && !had[2]);     /* no cost: the median of 5 and 7 */
    put(dir, "report.json", "{\"tasks\":[{\"id\":6,\"cost\":2.5}]}");
    assert_int_equal(costhist_apply(dir, id, w, had, 3, err, sizeof err), 2);
    assert_true(w[0] == 5.0 && w[1] == 2.5 && had[0] && had[1]);
    char path[256];
    snprintf(path, sizeof path, "%s/report.json", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/journal", dir);
    unlink(path);
    assert_int_equal(costhist_apply(dir, id, w, had, 3, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "expected a shotq run directory (report.json or journal) "
                                "with task costs"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apply),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test_setup_teardown(test_journal, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
