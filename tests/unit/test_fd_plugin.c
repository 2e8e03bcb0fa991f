/* Unit tests: the "fd" plugin table (estimate, init refusing a small device,
 * init/run/fini of a tiny shot with progress reports). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include "test_fd_util.h"
#include "fd/fd_check.h"
#include "fd/fd_plugin.h"

#define JOB                                                                              \
    "[model]\nnx = 12\nny = 10\nnz = 11\ndx = 10\ndy = 10\ndz = 10\nvp = 2000\n"         \
    "[survey]\nsource_x = 20:80:30\nsource_y = 50\nsource_z = 50\n"                      \
    "receiver_x = 0:110:10\nreceiver_y = 50\nreceiver_z = 0\n"                           \
    "[modeling]\nnt = 30\ndt = 0.001\nfpeak = 10\nboundary_width = 4\n"

static void noop_progress(void *ctx, double f)
{
    double *last = ctx;
    assert_true(f >= *last && f <= 1.0);
    *last = f;
}

static void test_estimate(void **state)
{
    (void)state;
    const char *path = put_file("job.ini", JOB);
    const struct shotq_plugin *p = fd_plugin();
    assert_int_equal(p->abi_version, SHOTQ_PLUGIN_ABI_VERSION);
    assert_string_equal(p->name, "fd");
    struct fd_job job;
    char err[512];
    assert_int_equal(fd_job_load(path, &job, err, sizeof err), 0);
    struct shotq_task_info task = {.id = 2, .args = "", .weight = 1, .attempt = 1};
    struct shotq_estimate est = {0, 0};
    assert_int_equal(p->estimate(path, &task, &est), 0);
    assert_true(est.mem_bytes == fd_check_shot_mem(&job));
    assert_true(est.mem_bytes > 0);
    assert_true(est.weight == 1.0);
    task.id = 3; /* 3 shots: 0..2 */
    assert_int_not_equal(p->estimate(path, &task, &est), 0);
    fd_job_free(&job);
}

static void test_init_run(void **state)
{
    (void)state;
    const char *path = put_file("job.ini", JOB);
    const struct shotq_plugin *p = fd_plugin();
    struct shotq_device_info dev = {.index = 0,
                                    .cuda_ordinal = -1,
                                    .uuid = "",
                                    .name = "cpu",
                                    .kind = "cpu",
                                    .mem_total = 1024,
                                    .speed = 1,
                                    .ncpus = 1};
    void *st = (void *)1;
    assert_int_not_equal(p->init(&dev, path, &st), 0); /* 1 KiB cannot hold a shot */
    assert_null(st);
    dev.mem_total = 0; /* unknown: no refusal */
    assert_int_equal(p->init(&dev, path, &st), 0);
    double last = 0;
    struct shotq_task_info task = {.id = 1,
                                   .args = "",
                                   .weight = 1,
                                   .attempt = 1,
                                   .run_dir = tmpdir,
                                   .progress = noop_progress,
                                   .progress_ctx = &last};
    assert_int_equal(p->run(st, &task), 0);
    assert_true(last == 1.0);
    char out[256];
    snprintf(out, sizeof out, "%s/shots/shot_00001.sgy", tmpdir);
    assert_int_equal(access(out, R_OK), 0);
    /* 3600 + 12 traces * (240 + 30 samples * 4) */
    FILE *f = fopen(out, "rb");
    fseek(f, 0, SEEK_END);
    assert_int_equal(ftell(f), 3600 + 12 * (240 + 30 * 4));
    fclose(f);
    task.id = 7;
    assert_int_not_equal(p->run(st, &task), 0);
    p->fini(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_estimate),
        cmocka_unit_test(test_init_run),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
