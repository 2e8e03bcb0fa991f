/* Unit tests: pre-flight checks, SEG-Y round trip, bin sidecar, PNG
 * clipping, direct-wave mute (fault injection: test_durable.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_fd_util.h"
#include "fd/fd_binout.h"
#include "fd/fd_check.h"
#include "fd/fd_job.h"
#include "fd/fd_png.h"
#include "fd/fd_segy.h"
#include "fd/fd_shot.h"

#define JOB                                                                              \
    "[model]\nnx = 11\nny = 11\nnz = 5\ndx = 10\ndy = 10\ndz = 10\nvp = 2000,3000@20\n"  \
    "[survey]\nsource_x = 0:100:50\nsource_y = 0\nsource_z = 5\n"                        \
    "receiver_x = 0:100:50\nreceiver_y = 100\nreceiver_z = 0\n"                          \
    "[modeling]\nnt = 100\ndt = 0.001\nfpeak = 20\n"

static void load(const char *text, struct fd_job *job)
{
    char err[512];
    int rc = fd_job_load(put_file("job.ini", text), job, err, sizeof err);
    if (rc)
        fail_msg("%s", err);
}

static void test_geometry_check(void **state)
{
    (void)state;
    struct fd_job job;
    char err[512];
    load(JOB, &job);
    assert_int_equal(fd_check_geometry(&job, err, sizeof err), 0);
    job.sources[2].x = 100.5; /* (nx-1)*dx = 100 */
    assert_int_equal(fd_check_geometry(&job, err, sizeof err), -EINVAL);
    assert_non_null(strstr(
        err, "job.ini:10: key 'source_x': expected shot 2 inside [0, 100] m on x"));
    job.sources[2].x = 100;
    job.receivers[1].y = -1;
    assert_int_equal(fd_check_geometry(&job, err, sizeof err), -EINVAL);
    assert_non_null(
        strstr(err, "key 'receiver_y': expected receiver 1 inside [0, 100] m on y"));
    fd_job_free(&job);
}

static void test_model_check(void **state)
{
    (void)state;
    struct fd_job job;
    struct fd_model_data m;
    char err[512];
    double vmin, vmax;
    load(JOB, &job);
    assert_int_equal(fd_model_load(&job, &m, err, sizeof err), 0);
    assert_int_equal(fd_check_model(&job, &m, &vmin, &vmax, err, sizeof err), 0);
    assert_true(vmin == 2000.0 && vmax == 3000.0);
    /* cell (ix, iy, iz) = (3, 2, 4): index (2*11 + 3)*5 + 4 */
    m.vp[(2 * 11 + 3) * 5 + 4] = NAN;
    m.vp[(2 * 11 + 4) * 5 + 0] = -1;
    assert_int_equal(fd_check_model(&job, &m, &vmin, &vmax, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err,
                           "job.ini:8: key 'vp': expected finite values > 0, got nan at "
                           "cell (ix, iy, iz) = (3, 2, 4)"));
    fd_model_free(&m);
    fd_job_free(&job);
}

static void test_stability_check(void **state)
{
    (void)state;
    struct fd_job job;
    char err[512];
    load(JOB, &job);
    double dtmax = fd_max_stable_dt(FD_ACOUSTIC2, &job.grid, 3000.0);
    assert_true(dtmax > 0.001); /* dx = 10 m: about 0.45 * 10 / 3000 / sqrt(3) */
    assert_int_equal(fd_check_stability(&job, 2000, 3000, err, sizeof err), 0);
    job.params.dt = dtmax * 1.01;
    assert_int_equal(fd_check_stability(&job, 2000, 3000, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "job.ini:18: key 'dt': expected at most"));
    job.params.dt = 0.001;
    /* h = 10 m, vmin 2000: 3 points per wavelength at fpeak = 2000/(2.5*3*10) = 26.67 Hz.
     */
    job.params.fpeak = 27;
    assert_int_equal(fd_check_stability(&job, 2000, 3000, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "job.ini:19: key 'fpeak': expected at most 26.67 Hz"));
    job.params.fpeak = 26.6;
    assert_int_equal(fd_check_stability(&job, 2000, 3000, err, sizeof err), 0);
    fd_job_free(&job);
}

static void test_output_check(void **state)
{
    (void)state;
    struct fd_job job;
    char err[512];
    load(JOB, &job);
    assert_int_equal(fd_check_output(&job, err, sizeof err), 0);
    job.record_dt = 0.0000005; /* 0.5 us */
    assert_int_equal(fd_check_output(&job, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "expected a whole number of microseconds"));
    job.record_dt = 0.001;
    job.params.nt = 40000;
    assert_int_equal(fd_check_output(&job, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "expected at most 32767 samples"));
    job.format = FD_FORMAT_BIN;
    assert_int_equal(fd_check_output(&job, err, sizeof err), 0);
    fd_job_free(&job);
}

static void test_device_check(void **state)
{
    (void)state;
    struct fd_job job;
    char err[512];
    load(JOB, &job);
    uint64_t need = fd_check_shot_mem(&job);
    assert_true(need >= 11 * 11 * 5 * 4);
    struct fd_check_device d[2] = {{"small", need - 1}, {"big", need}};
    bool ok[2];
    assert_int_equal(fd_check_devices(&job, d, 2, ok, err, sizeof err), 0);
    assert_false(ok[0]);
    assert_true(ok[1]);
    d[1].mem_total = 1024 * 1024;
    d[0].mem_total = 2 * 1024 * 1024;
    if (need > 2 * 1024 * 1024) {
        assert_int_equal(fd_check_devices(&job, d, 2, ok, err, sizeof err), -ENOMEM);
        assert_non_null(strstr(err, "small (2 MiB), big (1 MiB)"));
    }
    d[0].mem_total = d[1].mem_total = 0;
    assert_int_equal(fd_check_devices(&job, d, 2, ok, err, sizeof err), -ENOMEM);
    assert_non_null(strstr(err, "expected a device with at least"));
    fd_job_free(&job);
}

static void test_segy_roundtrip(void **state)
{
    (void)state;
    struct fd_point src = {10, 20, 5}, rec[3] = {{0, 0, 0}, {30, 20, 2.5}, {10, 60, 7}};
    float data[3 * 4];
    for (int i = 0; i < 12; i++)
        data[i] = (float)i - 5.5f;
    struct fd_gather g = {7, src, rec, 3, 4, 0.002, data};
    char path[256], err[512];
    snprintf(path, sizeof path, "%s/g.sgy", tmpdir);
    const char *text[] = {"test gather"};
    assert_int_equal(fd_segy_write(path, &g, text, 1, err, sizeof err), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 3600 + 3 * (240 + 4 * 4));
    float *back;
    size_t ntr;
    int ns;
    double dt;
    assert_int_equal(fd_segy_read(path, &back, &ntr, &ns, &dt, err, sizeof err), 0);
    assert_int_equal(ntr, 3);
    assert_int_equal(ns, 4);
    assert_true(fabs(dt - 0.002) < 1e-12);
    assert_memory_equal(back, data, sizeof data);
    free(back);

    g.dt = 0.0000004; /* 0.4 us */
    assert_int_equal(fd_segy_write(path, &g, NULL, 0, err, sizeof err), -EINVAL);
    g.dt = 0.002;
    rec[1].x = 3e7; /* 3e9 cm does not fit int32 */
    assert_int_equal(fd_segy_write(path, &g, NULL, 0, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "trace 2: a coordinate does not fit"));
}

static void test_bin_gather(void **state)
{
    (void)state;
    struct fd_point src = {1, 2, 3}, rec[2] = {{4, 5, 6}, {7, 8, 9}};
    float data[2 * 3] = {1, 2, 3, 4, 5, 6};
    struct fd_gather g = {12, src, rec, 2, 3, 0.004, data};
    char err[512], path[256];
    assert_int_equal(fd_binout_write_gather(tmpdir, &g, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/shot_00012.bin", tmpdir);
    void *buf;
    size_t len;
    assert_int_equal(fd_read_file(path, &buf, &len, err, sizeof err), 0);
    assert_int_equal(len, sizeof data);
    assert_memory_equal(buf, data, sizeof data);
    free(buf);
    snprintf(path, sizeof path, "%s/shot_00012.json", tmpdir);
    assert_int_equal(fd_read_file(path, &buf, &len, err, sizeof err), 0);
    char *js = realloc(buf, len + 1);
    js[len] = '\0';
    assert_non_null(strstr(js, "\"nrec\":2"));
    assert_non_null(strstr(js, "\"nsamples\":3"));
    assert_non_null(strstr(js, "\"dt\":0.004"));
    assert_non_null(strstr(js, "\"source\":[1,2,3]"));
    assert_non_null(strstr(js, "\"receivers\":[[4,5,6],[7,8,9]]"));
    free(js);
}

static void test_png(void **state)
{
    (void)state;
    float d[100];
    for (int i = 0; i < 100; i++)
        d[i] = (float)(i % 2 ? i + 1 : -(i + 1)); /* |d| = 1..100 */
    assert_true(fd_png_clip(d, 100, 99.0) == 99.0f);
    assert_true(fd_png_clip(d, 100, 100.0) == 100.0f);
    assert_true(fd_png_clip(d, 100, 50.0) == 50.0f);
    char path[256], err[512];
    snprintf(path, sizeof path, "%s/g.png", tmpdir);
    assert_int_equal(fd_png_write_gather(path, d, 10, 10, 99.0, err, sizeof err), 0);
    unsigned char sig[8];
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(sig, 1, 8, f), 8);
    fclose(f);
    assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
}

static void test_mute(void **state)
{
    (void)state;
    struct fd_prepared p;
    char err[512];
    memset(&p, 0, sizeof p);
    load(JOB, &p.job);
    assert_int_equal(fd_model_load(&p.job, &p.model, err, sizeof err), 0);
    /* Source (50, 0, 5) sits in vp = 2000; receiver 2 at (100, 100, 0). */
    struct fd_point src = p.job.sources[1];
    double r = sqrt(50.0 * 50 + 100.0 * 100 + 5.0 * 5);
    double t0 = fd_shot_mute_time(&p, &src, &p.job.receivers[2]);
    assert_true(fabs(t0 - (r / 2000 + 2.0 / 20)) < 1e-12);
    int ns = 300;
    float *g = malloc(3 * (size_t)ns * sizeof *g);
    for (int i = 0; i < 3 * ns; i++)
        g[i] = 1.0f;
    fd_shot_mute(&p, &src, g, ns);
    float *tr = g + 2 * ns;
    int first = (int)ceil(t0 / 0.001); /* first sample at or after t0 */
    assert_true(first > 100 && first < 200);
    for (int s = 0; s < first; s++)
        assert_true(tr[s] == 0.0f);
    int end = (int)ceil((t0 + 1.0 / 20) / 0.001);
    assert_true(tr[first + 1] > 0.0f && tr[first + 1] < 1.0f);
    for (int s = end; s < ns; s++)
        assert_true(tr[s] == 1.0f);
    free(g);
    fd_model_free(&p.model);
    fd_job_free(&p.job);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_geometry_check),
        cmocka_unit_test(test_model_check),
        cmocka_unit_test(test_stability_check),
        cmocka_unit_test(test_output_check),
        cmocka_unit_test(test_device_check),
        cmocka_unit_test(test_segy_roundtrip),
        cmocka_unit_test(test_bin_gather),
        cmocka_unit_test(test_png),
        cmocka_unit_test(test_mute),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
