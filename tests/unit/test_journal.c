/* Unit tests of the journal: records, replay for --resume, torn last lines,
 * fingerprints, and injected write/fdatasync failures losing nothing. */
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

#include "journal/journal.h"
#include "tasks/tasks.h"
#include "util/sysio.h"

#include "test_tmpdir.h"


struct seen {
    int64_t ids[64];
    int n;
};

static void on_done(void *ctx, int64_t id)
{
    struct seen *s = ctx;
    s->ids[s->n++] = id;
}

static void test_roundtrip(void **state)
{
    (void)state;
    char err[512];
    struct jrnl *j;
    struct seen s = {0};
    assert_int_equal(jrnl_open(tmpdir, 42, "test", false, on_done, &s, &j, err, sizeof err),
                     0);
    jrnl_record(j, JRNL_START, 5, 1, 0, 0.1, 0);
    jrnl_record(j, JRNL_DONE, 5, 1, 0, 0.2, 0);
    jrnl_record(j, JRNL_START, 6, 1, 1, 0.1, 0);
    jrnl_record(j, JRNL_RETRY, 6, 1, 1, 0.3, 3);
    jrnl_record(j, JRNL_DONE, 9, 2, 0, 0.4, 0);
    assert_int_equal(jrnl_close(j), 0);

    /* A second fresh open is refused. */
    assert_int_equal(jrnl_open(tmpdir, 42, "test", false, on_done, &s, &j, err, sizeof err),
                     -EEXIST);
    assert_non_null(strstr(err, "pass --resume"));
    /* A different fingerprint is refused. */
    assert_int_equal(jrnl_open(tmpdir, 43, "test", true, on_done, &s, &j, err, sizeof err),
                     -ESTALE);
    assert_int_equal(s.n, 0);
    /* Resume replays the done events. */
    assert_int_equal(jrnl_open(tmpdir, 42, "test", true, on_done, &s, &j, err, sizeof err),
                     0);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.ids[0], 5);
    assert_int_equal(s.ids[1], 9);
    jrnl_close(j);
}

static void test_torn_line(void **state)
{
    (void)state;
    char err[512], path[128];
    struct jrnl *j;
    struct seen s = {0};
    assert_int_equal(jrnl_open(tmpdir, 7, "t", false, on_done, &s, &j, err, sizeof err), 0);
    jrnl_record(j, JRNL_DONE, 1, 1, 0, 0.2, 0);
    jrnl_close(j);
    snprintf(path, sizeof path, "%s/journal", tmpdir);
    FILE *f = fopen(path, "a");
    fputs("{\"ev\":\"done\",\"task\":2,\"att", f); /* crash in mid-write */
    fclose(f);
    assert_int_equal(jrnl_open(tmpdir, 7, "t", true, on_done, &s, &j, err, sizeof err), 0);
    assert_int_equal(s.n, 1);
    jrnl_record(j, JRNL_DONE, 3, 1, 0, 0.5, 0);
    jrnl_close(j);
    s.n = 0;
    assert_int_equal(jrnl_open(tmpdir, 7, "t", true, on_done, &s, &j, err, sizeof err), 0);
    assert_int_equal(s.n, 2); /* 1 and 3; the torn record of 2 never counted */
    assert_int_equal(s.ids[1], 3);
    jrnl_close(j);
}

static void test_injected_failures(void **state)
{
    (void)state;
    char err[512];
    struct jrnl *j;
    struct seen s = {0};
    assert_int_equal(jrnl_open(tmpdir, 1, "t", false, on_done, &s, &j, err, sizeof err), 0);
    jrnl_record(j, JRNL_DONE, 10, 1, 0, 0.1, 0);
    sysio_fail(SYSIO_WRITE, 1, ENOSPC, false);
    assert_int_equal(jrnl_flush(j), -ENOSPC);
    /* The record is kept and written by the next flush. */
    sysio_fail(SYSIO_FDATASYNC, 1, EIO, false);
    assert_int_equal(jrnl_flush(j), -EIO);
    assert_int_equal(jrnl_flush(j), 0);
    sysio_reset();
    jrnl_record(j, JRNL_DONE, 11, 1, 0, 0.2, 0);
    assert_int_equal(jrnl_close(j), 0);
    assert_int_equal(jrnl_open(tmpdir, 1, "t", true, on_done, &s, &j, err, sizeof err), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.ids[0], 10);
    assert_int_equal(s.ids[1], 11);
    jrnl_close(j);
}

static void test_missing_for_resume(void **state)
{
    (void)state;
    char err[512];
    struct jrnl *j;
    struct seen s = {0};
    assert_int_equal(jrnl_open(tmpdir, 1, "t", true, on_done, &s, &j, err, sizeof err),
                     -ENOENT);
    assert_non_null(strstr(err, "nothing to resume"));
}

static void on_attempt(void *ctx, int64_t id, int attempt)
{
    struct seen *s = ctx;
    s->ids[s->n++] = id * 100 + attempt;
}

/* jrnl_attempts reports every start/done/fail/retry with its attempt, and
 * skips notes, records without an attempt and a torn last record. */
static void test_attempts(void **state)
{
    (void)state;
    char err[512], path[128];
    struct jrnl *j;
    struct seen s = {0};
    assert_int_equal(jrnl_open(tmpdir, 9, "t", false, on_done, &s, &j, err, sizeof err), 0);
    jrnl_record(j, JRNL_START, 4, 1, 0, 0.1, 0);
    jrnl_record(j, JRNL_RETRY, 4, 1, 0, 0.2, 3);
    jrnl_record(j, JRNL_START, 4, 2, 0, 0.3, 0);
    jrnl_note(j, "halt", -1, 0.4, "x");
    jrnl_record(j, JRNL_DONE, 7, 3, 0, 0.5, 0);
    assert_int_equal(jrnl_close(j), 0);
    snprintf(path, sizeof path, "%s/journal", tmpdir);
    FILE *f = fopen(path, "a");
    fputs("{\"ev\":\"start\",\"task\":5}\n{\"ev\":\"start\",\"task\":6,\"attempt\":9", f);
    fclose(f);
    assert_int_equal(jrnl_attempts(tmpdir, on_attempt, &s), 0);
    assert_int_equal(s.n, 4);
    assert_int_equal(s.ids[0], 401);
    assert_int_equal(s.ids[1], 401);
    assert_int_equal(s.ids[2], 402);
    assert_int_equal(s.ids[3], 703);
}

/* A task set of ids with arguments args[k] (checked unique). */
static void make_tasks(struct taskset *ts, const int64_t *ids, const char *const *args,
                       size_t n)
{
    char err[256];
    memset(ts, 0, sizeof *ts);
    for (size_t k = 0; k < n; k++)
        assert_int_equal(tasks_add(ts, ids[k], 1.0, 0, args[k]), 0);
    assert_int_equal(tasks_check_unique(ts, err, sizeof err), 0);
}

/* Counts the lines of tmpdir/journal that contain needle. */
static int count_lines(const char *needle)
{
    char path[512], line[4096];
    snprintf(path, sizeof path, "%s/journal", tmpdir);
    FILE *f = fopen(path, "r");
    int n = 0;
    while (f && fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    if (f)
        fclose(f);
    return n;
}

/* Per-task records (version 2): a superset resumes and adds its tasks with
 * an epoch; a changed argument, a missing task, a new command (without
 * --retry-failed) are refused; --retry-failed takes a new command, refuses
 * new tasks; a version-1 journal resumes by fingerprint only. */
static void test_per_task(void **state)
{
    (void)state;
    char err[1024], path[512];
    struct jrnl *j;
    struct seen s = {0};
    struct taskset a, grown, changed, missing;
    make_tasks(&a, (int64_t[]){1, 2}, (const char *[]){"x", "y z"}, 2);
    make_tasks(&grown, (int64_t[]){3, 1, 2}, (const char *[]){"w", "x", "y z"}, 3);
    make_tasks(&changed, (int64_t[]){1, 2, 3}, (const char *[]){"x", "y  z", "w"}, 3);
    make_tasks(&missing, (int64_t[]){2, 3}, (const char *[]){"y z", "w"}, 2);
    struct jrnl_run run = {.fingerprint = 10, .command = 1, .what = "t", .tasks = &a};
    assert_int_equal(jrnl_open_run(tmpdir, &run, JRNL_NEW, on_done, &s, &j, err, sizeof err), 0);
    jrnl_record(j, JRNL_DONE, 1, 1, 0, 0.2, 0);
    assert_int_equal(jrnl_close(j), 0);
    assert_int_equal(count_lines("\"ev\":\"def\""), 2);
    run.tasks = &grown;
    run.fingerprint = 11;
    assert_int_equal(jrnl_open_run(tmpdir, &run, JRNL_RESUME, on_done, &s, &j, err, sizeof err), 0);
    jrnl_close(j);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ids[0], 1);
    assert_int_equal(count_lines("\"ev\":\"def\""), 3);
    assert_int_equal(count_lines("resume: 1 task(s) added"), 1);
    run.tasks = &changed;
    assert_int_equal(jrnl_open_run(tmpdir, &run, JRNL_RESUME, on_done, &s, &j, err, sizeof err),
                     -ESTALE);
    assert_non_null(strstr(err, "task 2: arguments 'y  z' differ from 'y z'"));
    run.tasks = &missing;
    assert_int_equal(jrnl_open_run(tmpdir, &run, JRNL_RESUME, on_done, &s, &j, err, sizeof err),
                     -ESTALE);
    assert_non_null(strstr(err, "task 1 (and 0 more) of the journal is not in the task set"));
    run.tasks = &grown;
    run.command = 2;
    assert_int_equal(jrnl_open_run(tmpdir, &run, JRNL_RESUME, on_done, &s, &j, err, sizeof err),
                     -ESTALE);
    assert_non_null(strstr(err, "made for a different command"));
    s.n = 0;
    assert_int_equal(
        jrnl_open_run(tmpdir, &run, JRNL_RETRY_FAILED, on_done, &s, &j, err, sizeof err), 0);
    jrnl_close(j);
    assert_int_equal(s.n, 1);
    assert_int_equal(count_lines("retry-failed: new command, 0 task(s) added"), 1);
    /* The new command is the journal's from now on. */
    assert_int_equal(jrnl_open_run(tmpdir, &run, JRNL_RESUME, on_done, &s, &j, err, sizeof err), 0);
    jrnl_close(j);
    run.tasks = &a;
    run.command = 2;
    assert_int_equal(
        jrnl_open_run(tmpdir, &run, JRNL_RETRY_FAILED, on_done, &s, &j, err, sizeof err),
        -ESTALE);
    assert_non_null(strstr(err, "task 3 (and 0 more)"));
    /* Version 1 (no per-task records): by fingerprint, never --retry-failed. */
    snprintf(path, sizeof path, "%s/journal", tmpdir);
    unlink(path);
    assert_int_equal(jrnl_open(tmpdir, 42, "old", false, on_done, &s, &j, err, sizeof err), 0);
    jrnl_close(j);
    run.fingerprint = 42;
    assert_int_equal(
        jrnl_open_run(tmpdir, &run, JRNL_RETRY_FAILED, on_done, &s, &j, err, sizeof err),
        -ESTALE);
    assert_non_null(strstr(err, "an older shotq wrote it"));
    assert_int_equal(jrnl_open_run(tmpdir, &run, JRNL_RESUME, on_done, &s, &j, err, sizeof err), 0);
    jrnl_close(j);
    run.fingerprint = 43;
    assert_int_equal(jrnl_open_run(tmpdir, &run, JRNL_RESUME, on_done, &s, &j, err, sizeof err),
                     -ESTALE);
    tasks_free(&a);
    tasks_free(&grown);
    tasks_free(&changed);
    tasks_free(&missing);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_per_task, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attempts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_injected_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_for_resume, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
