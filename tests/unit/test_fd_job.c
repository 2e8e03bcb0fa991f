/* Unit tests: job file parsing, survey geometry, model loading, wavelets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_fd_util.h"
#include "fd/fd_check.h"
#include "fd/fd_geom.h"
#include "fd/fd_job.h"
#include "fd/fd_model_io.h"
#include "fd/fd_wavelet.h"

#define MODEL_BASE "[model]\nnx = 11\nny = 6\nnz = 5\ndx = 10\ndy = 20\ndz = 100\n"
#define MODEL MODEL_BASE "vp = 2000\n"
#define SURVEY                                                                           \
    "[survey]\nsource_x = 0:20:10\nsource_y = 0:20:20\nsource_z = 5\n"                   \
    "receiver_x = 0:100:50\nreceiver_y = 10\nreceiver_z = 0\n"
#define MODELING "[modeling]\nnt = 100\ndt = 0.001\nfpeak = 10\n"

/* Loads a job from text; returns the rc, err filled. */
static int load(const char *text, struct fd_job *job, char *err, size_t errlen)
{
    return fd_job_load(put_file("job.ini", text), job, err, errlen);
}

static void test_defaults(void **state)
{
    (void)state;
    struct fd_job job;
    char err[512];
    assert_int_equal(load(MODEL SURVEY MODELING, &job, err, sizeof err), 0);
    assert_int_equal(job.grid.nx, 11);
    assert_int_equal(job.grid.ny, 6);
    assert_int_equal(job.grid.nz, 5);
    assert_true(job.grid.dy == 20.0);
    assert_int_equal(job.params.equation, FD_ACOUSTIC2);
    assert_int_equal(job.wavelet, FD_WAVELET_RICKER);
    assert_int_equal(job.params.boundary, FD_BOUNDARY_CPML);
    assert_int_equal(job.params.boundary_width, 20);
    assert_false(job.params.free_surface);
    assert_int_equal(job.params.record_every, 1);
    assert_true(job.record_dt == 0.001);
    assert_false(job.mute_direct);
    assert_int_equal(job.format, FD_FORMAT_SEGY);
    assert_int_equal(job.params.snapshot_every, 0);
    assert_int_equal(job.rho.kind, FD_PROP_CONST);
    assert_true(job.rho.value == 1000.0);
    assert_int_equal(job.order, FD_ORDER_ZXY);
    char want[128];
    snprintf(want, sizeof want, "%s/shots", tmpdir);
    assert_string_equal(job.out_dir, want);
    assert_int_equal(fd_job_nsamples(&job), 100);
    fd_job_free(&job);
}

static void test_inline_comments(void **state)
{
    (void)state;
    struct fd_job job;
    char err[512];
    assert_int_equal(
        load("  [model]   # grid\n nx = 11  # cells\n\tny = 6 ; cells\nnz = 5\n"
             "dx = 10\ndy = 20\ndz = 100\nvp = 2000\n" SURVEY MODELING,
             &job, err, sizeof err),
        0);
    assert_int_equal(job.grid.nx, 11);
    assert_int_equal(job.grid.ny, 6);
    fd_job_free(&job);
}

static void test_shot_numbering(void **state)
{
    (void)state;
    struct fd_job job;
    char err[512];
    assert_int_equal(load(MODEL SURVEY MODELING, &job, err, sizeof err), 0);
    /* x = 0, 10, 20 fastest, then y = 0, 20. */
    assert_int_equal(job.nsrc, 6);
    assert_true(job.sources[0].x == 0 && job.sources[0].y == 0 && job.sources[0].z == 5);
    assert_true(job.sources[2].x == 20 && job.sources[2].y == 0);
    assert_true(job.sources[4].x == 10 && job.sources[4].y == 20);
    assert_int_equal(job.nrec, 3);
    assert_true(job.receivers[2].x == 100 && job.receivers[2].y == 10);
    fd_job_free(&job);
}

static void test_axis_ranges(void **state)
{
    (void)state;
    double *v;
    size_t n;
    char err[256];
    assert_int_equal(fd_geom_parse_axis("0:25:10", &v, &n, err, sizeof err), 0);
    assert_int_equal(n, 3); /* END off the step grid is not included */
    assert_true(v[2] == 20.0);
    free(v);
    /* 0.1 steps: END reached despite rounding of 0.3 / 0.1. */
    assert_int_equal(fd_geom_parse_axis("0:0.3:0.1", &v, &n, err, sizeof err), 0);
    assert_int_equal(n, 4);
    free(v);
    assert_int_equal(fd_geom_parse_axis("7.5", &v, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_true(v[0] == 7.5);
    free(v);
    assert_int_equal(fd_geom_parse_axis("0:10:0", &v, &n, err, sizeof err), -EINVAL);
    assert_int_equal(fd_geom_parse_axis("10:0:1", &v, &n, err, sizeof err), -EINVAL);
    assert_int_equal(fd_geom_parse_axis("1:2", &v, &n, err, sizeof err), -EINVAL);
    assert_int_equal(fd_geom_parse_axis("1:2:3:4", &v, &n, err, sizeof err), -EINVAL);
    assert_int_equal(fd_geom_parse_axis("abc", &v, &n, err, sizeof err), -EINVAL);
}

static void test_points_file(void **state)
{
    (void)state;
    put_file("src.txt", "# x y z\n30 40 50\n\n  1.5 2.5 3.5  # second\n");
    struct fd_job job;
    char err[512];
    assert_int_equal(load(MODEL
                          "[survey]\nsources = src.txt\nreceiver_x = 0\nreceiver_y = 0\n"
                          "receiver_z = 0\n" MODELING,
                          &job, err, sizeof err),
                     0);
    assert_int_equal(job.nsrc, 2);
    assert_true(job.sources[0].x == 30 && job.sources[0].z == 50);
    assert_true(job.sources[1].x == 1.5 && job.sources[1].y == 2.5 &&
                job.sources[1].z == 3.5);
    fd_job_free(&job);

    put_file("bad.txt", "1 2 3\n4 5\n");
    assert_int_equal(load(MODEL
                          "[survey]\nsources = bad.txt\nreceiver_x = 0\nreceiver_y = 0\n"
                          "receiver_z = 0\n" MODELING,
                          &job, err, sizeof err),
                     -EINVAL);
    assert_non_null(strstr(err, "bad.txt:2: expected 'x y z'"));
}

/* Asserts that loading text fails with -EINVAL and err contains want. */
static void expect_error(const char *text, const char *want)
{
    struct fd_job job;
    char err[512];
    assert_int_equal(load(text, &job, err, sizeof err), -EINVAL);
    if (!strstr(err, want))
        fail_msg("error '%s' does not contain '%s'", err, want);
    assert_null(job.sources);
}

static void test_errors(void **state)
{
    (void)state;
    char want[256];
    snprintf(want, sizeof want,
             "%s/job.ini:3: key 'nx': expected an integer in [1, 100000], got '1O'",
             tmpdir);
    expect_error(
        "[model]\n# comment\nnx = 1O\nny = 6\nnz = 5\ndx = 10\ndy = 20\ndz = 100\n"
        "vp = 2000\n" SURVEY MODELING,
        want);
    expect_error(MODEL "foo = 1\n" SURVEY MODELING,
                 "job.ini:9: key 'foo' in [model]: expected one of nx, ny, nz, dx");
    expect_error(
        MODEL "nx = 12\n" SURVEY MODELING,
        "job.ini:9: key 'nx': expected one setting, got a second (first on line 2)");
    expect_error(
        MODEL SURVEY MODELING "[outptu]\ndir = x\n",
        "job.ini:20: expected a section [model], [survey], [modeling] or [output], got "
        "'[outptu]'");
    expect_error(MODEL SURVEY "[modeling]\nnt = 100\ndt = 0.001\n",
                 "[modeling] key 'fpeak' is missing");
    expect_error(MODEL SURVEY MODELING "record_dt = 0.0025\n",
                 "job.ini:20: key 'record_dt': expected a multiple of dt = 0.001 s");
    expect_error(MODEL SURVEY MODELING "free_surface = maybe\n",
                 "key 'free_surface': expected yes or no, got 'maybe'");
    expect_error(
        MODEL SURVEY "sources = x.txt\n" MODELING,
        "job.ini:10: key 'source_x': expected either sources = PATH or the axis keys");
    expect_error(MODEL "[survey]\nsource_x = 0\nsource_y = 0\nreceiver_x = 0\n" MODELING
                       "\n",
                 "key 'source_z' is missing");
    expect_error(MODEL "[survey]\nsource_x = 0:5\n" MODELING,
                 "job.ini:10: key 'source_x': expected");
    expect_error(
        MODEL SURVEY MODELING "wavelet = nosuch.txt\n",
        "key 'wavelet': expected ricker, gaussian, dgaussian or a readable wavelet file");
    expect_error(
        "[model]\nnx = 11\nny = 6\nnz = 5\ndx = 10\ndy = 20\ndz = -1\nvp = 1\n" SURVEY
            MODELING,
        "job.ini:7: key 'dz': expected a positive number, got '-1'");
    expect_error(MODEL_BASE "vp = 1500,2500@300,3000@200\n" SURVEY MODELING,
                 "job.ini:8: key 'vp': expected layers");
    expect_error("nx = 3\n", "key 'nx': expected a [section] line before the first key");
    expect_error("[model]\njunk line\n", "job.ini:2: expected 'key = value'");
    expect_error(MODEL_BASE "vp =\n" SURVEY MODELING,
                 "job.ini:8: key 'vp': expected a value, got ''");
}

static void test_record_dt(void **state)
{
    (void)state;
    struct fd_job job;
    char err[512];
    assert_int_equal(
        load(MODEL SURVEY MODELING "record_dt = 0.004\n", &job, err, sizeof err), 0);
    assert_int_equal(job.params.record_every, 4);
    assert_int_equal(fd_job_nsamples(&job), 25); /* ceil(100 / 4) */
    fd_job_free(&job);
    assert_int_equal(load(MODEL SURVEY "[modeling]\nnt = 101\ndt = 0.001\nfpeak = 10\n"
                                       "record_dt = 0.004\n",
                          &job, err, sizeof err),
                     0);
    assert_int_equal(fd_job_nsamples(&job), 26); /* ceil(101 / 4) */
    fd_job_free(&job);
    /* 0.003 / 0.001 is 2.9999999999999996 in doubles: rounded, not truncated. */
    assert_int_equal(
        load(MODEL SURVEY MODELING "record_dt = 0.003\n", &job, err, sizeof err), 0);
    assert_int_equal(job.params.record_every, 3);
    assert_int_equal(fd_job_nsamples(&job), 34); /* ceil(100 / 3) */
    fd_job_free(&job);
}

/* equation = tti: theta/phi (layers, constant), aniso_taper, loading, the
 * angle check naming the cell, the CPML and negative-radius refusals. */
static void test_tti_keys(void **state)
{
    (void)state;
    struct fd_job job;
    struct fd_model_data m;
    char err[512];
    assert_int_equal(
        load(MODEL
             "epsilon = 0.2\ndelta = 0.1\ntheta = 0,30@300\nphi = 45\n" SURVEY MODELING
             "equation = tti\nboundary = sponge\naniso_taper = 25\n",
             &job, err, sizeof err),
        0);
    assert_int_equal(job.params.equation, FD_TTI);
    assert_true(job.params.aniso_taper == 25.0);
    assert_string_equal(fd_job_equation_name(job.params.equation), "tti");
    assert_int_equal(fd_model_load(&job, &m, err, sizeof err), 0);
    assert_non_null(m.theta);
    assert_non_null(m.phi);
    assert_true(m.theta[2] == 0.0f && m.theta[3] == 30.0f && m.phi[7] == 45.0f);
    double vmin, vmax;
    assert_int_equal(fd_check_model(&job, &m, &vmin, &vmax, err, sizeof err), 0);
    assert_true(fabs(vmax - 2000.0 * sqrt(1.4)) < 1e-3);
    m.theta[(size_t)(2 * 11 + 3) * 5 + 4] = 100.0f; /* cell (3, 2, 4) */
    assert_int_equal(fd_check_model(&job, &m, &vmin, &vmax, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "job.ini:11: key 'theta': expected finite tilts in [-90, "
                                "90] degrees, got 100 at cell (ix, iy, iz) = (3, 2, 4)"));
    m.theta[(size_t)(2 * 11 + 3) * 5 + 4] = 0.0f;
    m.phi[0] = NAN;
    assert_int_equal(fd_check_model(&job, &m, &vmin, &vmax, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "key 'phi': expected finite azimuths"));
    fd_model_free(&m);
    fd_job_free(&job);
    /* CPML (the default boundary) is accepted for tti now */
    assert_int_equal(
        load(MODEL SURVEY MODELING "equation = tti\n", &job, err, sizeof err), 0);
    assert_int_equal(job.params.boundary, FD_BOUNDARY_CPML);
    fd_job_free(&job);
    expect_error(MODEL SURVEY MODELING
                 "equation = tti\nboundary = sponge\naniso_taper = -1\n",
                 "key 'aniso_taper': expected a radius >= 0 (m), got '-1'");
}

static void test_layers_and_files(void **state)
{
    (void)state;
    struct fd_job job;
    struct fd_model_data m;
    char err[512];
    /* dz = 100: cells at z = 0, 100, 200, 300, 400; layer 2 from 300 m, layer 3 from 350
     * m. */
    assert_int_equal(load("[model]\nnx = 2\nny = 2\nnz = 5\ndx = 10\ndy = 10\ndz = 100\n"
                          "vp = 1500,2500@300,3000@350\n" SURVEY MODELING
                          "equation = acoustic1\n",
                          &job, err, sizeof err),
                     0);
    assert_int_equal(fd_model_load(&job, &m, err, sizeof err), 0);
    const float col[5] = {1500, 1500, 1500, 2500, 3000};
    for (size_t i = 0; i < 20; i++)
        assert_true(m.vp[i] == col[i % 5]);
    assert_non_null(m.rho); /* acoustic1 loads rho (default 1000) */
    assert_true(m.rho[19] == 1000.0f);
    fd_model_free(&m);
    fd_job_free(&job);

    /* xyz file: value = 100*iz + 10*iy + ix, nx = 3, ny = 2, nz = 2. */
    float v[12];
    for (int iz = 0; iz < 2; iz++)
        for (int iy = 0; iy < 2; iy++)
            for (int ix = 0; ix < 3; ix++)
                v[(iz * 2 + iy) * 3 + ix] = (float)(1000 + 100 * iz + 10 * iy + ix);
    char path[256];
    snprintf(path, sizeof path, "%s/vp.bin", tmpdir);
    FILE *f = fopen(path, "wb");
    fwrite(v, sizeof v, 1, f);
    fclose(f);
    assert_int_equal(load("[model]\nnx = 3\nny = 2\nnz = 2\ndx = 10\ndy = 10\ndz = 10\n"
                          "vp = vp.bin\norder = xyz\n" SURVEY MODELING,
                          &job, err, sizeof err),
                     0);
    assert_int_equal(fd_model_load(&job, &m, err, sizeof err), 0);
    assert_null(m.rho);
    /* zxy: index (iy*nx + ix)*nz + iz. */
    assert_true(m.vp[(1 * 3 + 2) * 2 + 1] == 1112.0f);
    assert_true(m.vp[(0 * 3 + 1) * 2 + 0] == 1001.0f);
    fd_model_free(&m);
    fd_job_free(&job);

    /* Wrong size: nx = 4 needs 64 bytes. */
    assert_int_equal(load("[model]\nnx = 4\nny = 2\nnz = 2\ndx = 10\ndy = 10\ndz = 10\n"
                          "vp = vp.bin\n" SURVEY MODELING,
                          &job, err, sizeof err),
                     0);
    assert_int_equal(fd_model_load(&job, &m, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "job.ini:8: key 'vp': expected 64 bytes"));
    assert_non_null(strstr(err, "got 48"));
    fd_job_free(&job);
}

static void test_wavelets(void **state)
{
    (void)state;
    const double f = 10.0;
    assert_true(fd_wavelet_value(FD_WAVELET_RICKER, f, 0.1) == 1.0);
    assert_true(fd_wavelet_value(FD_WAVELET_GAUSSIAN, f, 0.1) == 1.0);
    assert_true(fd_wavelet_value(FD_WAVELET_RICKER, f, 0.099) < 1.0);
    assert_true(fd_wavelet_value(FD_WAVELET_RICKER, f, 0.101) < 1.0);
    /* Ricker zero crossings at tau = +-1/(pi f sqrt 2). */
    double tz = 1.0 / (3.14159265358979323846 * f * sqrt(2.0));
    assert_true(fabs(fd_wavelet_value(FD_WAVELET_RICKER, f, 0.1 + tz)) < 1e-12);
    /* dgaussian: peak 1 at the same tau before the centre, -1 after, 0 at 1/f. */
    assert_true(fabs(fd_wavelet_value(FD_WAVELET_DGAUSSIAN, f, 0.1 - tz) - 1.0) < 1e-12);
    assert_true(fabs(fd_wavelet_value(FD_WAVELET_DGAUSSIAN, f, 0.1 + tz) + 1.0) < 1e-12);
    assert_true(fd_wavelet_value(FD_WAVELET_DGAUSSIAN, f, 0.1) == 0.0);

    struct fd_job job;
    char err[512];
    assert_int_equal(load(MODEL SURVEY MODELING, &job, err, sizeof err), 0);
    size_t padded = 99;
    float *w = fd_wavelet_make(&job, &padded, err, sizeof err);
    assert_non_null(w);
    assert_int_equal(padded, 0);
    size_t imax = 0;
    for (size_t i = 1; i < 100; i++)
        imax = w[i] > w[imax] ? i : imax;
    assert_int_equal(imax, 99); /* nt = 100: the peak at 0.1 s is just past the end */
    free(w);
    fd_job_free(&job);

    put_file("w.txt", "# custom\n0.5\n-1.25\n\n2\n");
    assert_int_equal(load(MODEL SURVEY "[modeling]\nnt = 5\ndt = 0.001\nfpeak = 10\n"
                                       "wavelet = w.txt\n",
                          &job, err, sizeof err),
                     0);
    assert_int_equal(job.wavelet, FD_WAVELET_FILE);
    w = fd_wavelet_make(&job, &padded, err, sizeof err);
    assert_non_null(w);
    assert_int_equal(padded, 2);
    assert_true(w[0] == 0.5f && w[1] == -1.25f && w[2] == 2.0f && w[3] == 0.0f &&
                w[4] == 0.0f);
    free(w);
    fd_job_free(&job);

    put_file("w2.txt", "1\nx\n");
    assert_int_equal(
        load(MODEL SURVEY MODELING "wavelet = w2.txt\n", &job, err, sizeof err), 0);
    assert_null(fd_wavelet_make(&job, &padded, err, sizeof err));
    assert_non_null(strstr(err, "w2.txt: value 2: expected one finite number per line"));
    fd_job_free(&job);
}

static void test_peak_sample(void **state)
{
    (void)state;
    struct fd_job job;
    char err[512];
    assert_int_equal(load(MODEL SURVEY "[modeling]\nnt = 300\ndt = 0.001\nfpeak = 10\n",
                          &job, err, sizeof err),
                     0);
    float *w = fd_wavelet_make(&job, NULL, err, sizeof err);
    assert_non_null(w);
    size_t imax = 0;
    for (size_t i = 1; i < 300; i++)
        imax = w[i] > w[imax] ? i : imax;
    assert_int_equal(imax, 100); /* t = 1/f */
    assert_true(w[100] == 1.0f);
    free(w);
    fd_job_free(&job);
}

static void test_help_table(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s/help.txt", tmpdir);
    FILE *f = fopen(path, "w+");
    assert_non_null(f);
    fd_job_help(f);
    long n = ftell(f);
    char *text = calloc(1, (size_t)n + 1);
    rewind(f);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    static const char *const lines[] = {
        "  boundary_width  20 ",     "  equation        acoustic2 ",
        "  rho             1000 ",   "  order           zxy ",
        "  dir             shots ",  "  nt              (required) ",
        "  record_dt       dt ",     "  mute_direct     no ",
        "  snapshot_every  0 ",      "  format          segy ",
        "  wavelet         ricker ", "  free_surface    no ",
        "  boundary        cpml ",   "  sources         (none) "};
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++)
        if (!strstr(text, lines[i]))
            fail_msg("help lacks '%s'", lines[i]);
    free(text);
}

static void test_resolve(void **state)
{
    (void)state;
    char *p = fd_job_resolve("/a/b", "c.bin");
    assert_string_equal(p, "/a/b/c.bin");
    free(p);
    p = fd_job_resolve("/a/b", "/abs.bin");
    assert_string_equal(p, "/abs.bin");
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),       cmocka_unit_test(test_inline_comments),
        cmocka_unit_test(test_shot_numbering), cmocka_unit_test(test_axis_ranges),
        cmocka_unit_test(test_points_file),    cmocka_unit_test(test_errors),
        cmocka_unit_test(test_record_dt),      cmocka_unit_test(test_layers_and_files),
        cmocka_unit_test(test_tti_keys),       cmocka_unit_test(test_wavelets),
        cmocka_unit_test(test_peak_sample),    cmocka_unit_test(test_help_table),
        cmocka_unit_test(test_resolve),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
