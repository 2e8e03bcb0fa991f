/* Unit tests of the FD engine API on a tiny grid (24^3, 20 steps): argument
 * checks and their messages, memory estimate, stability limit, determinism,
 * decimated recording, snapshots, consumer aborts, CUDA absence. Fast enough
 * for the sanitizer build. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fd/fd_engine.h"

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#define N 24
#define NT 20
#define NREC 3

/* Collected output of one run. */
struct out {
    float data[NT * NREC]; /* samples, time-major */
    int next;              /* next expected first sample */
    int samples;           /* samples received */
    int snaps;             /* snapshots received */
    int snap_step;         /* step of the last snapshot */
    float snap_at;         /* last snapshot's value at cell (12, 12, 12) */
    int abort_samples;     /* make on_samples fail */
    int abort_snaps;       /* make on_snapshot fail */
};

/* Stores samples; blocks must arrive in order and without gaps. */
static int on_samples(void *ctx, int first, int count, const float *data)
{
    struct out *o = ctx;
    assert_int_equal(first, o->next);
    assert_true(count >= 1 && first + count <= NT);
    memcpy(o->data + first * NREC, data, (size_t)count * NREC * sizeof(float));
    o->next += count;
    o->samples += count;
    return o->abort_samples;
}

/* Counts snapshots and keeps one value of the last. */
static int on_snapshot(void *ctx, int step, const float *p)
{
    struct out *o = ctx;
    o->snaps++;
    o->snap_step = step;
    o->snap_at = p[((size_t)12 * N + 12) * N + 12];
    return o->abort_snaps;
}

static float vp[N * N * N], rho[N * N * N], wav[NT];

/* Default grid and parameters of the tests. */
static struct fd_grid grid(void)
{
    return (struct fd_grid){N, N, N, 10.0, 10.0, 10.0};
}

static struct fd_params params(enum fd_equation eq)
{
    return (struct fd_params){.equation = eq,
                              .boundary = FD_BOUNDARY_CPML,
                              .boundary_width = 4,
                              .free_surface = false,
                              .nt = NT,
                              .dt = 1e-3,
                              .record_every = 1,
                              .fpeak = 20.0,
                              .snapshot_every = 0,
                              .threads = 2};
}

static const struct fd_point recs[NREC] = {
    {120, 120, 120}, {60.5, 100, 30}, {230, 0, 230}};

/* Fills the model and wavelet once. */
static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < (size_t)N * N * N; i++) {
        vp[i] = (i % N) < N / 2 ? 1500.0f : 2500.0f;
        rho[i] = (i % N) < N / 2 ? 1000.0f : 2000.0f;
    }
    for (int i = 0; i < NT; i++)
        wav[i] = (float)sin(0.7 * i) * (float)exp(-0.1 * i);
    return 0;
}

/* Runs one shot; returns fd_engine_run's status, err filled. */
static int run(const struct fd_params *par, struct out *o, char *err, size_t errlen)
{
    struct fd_grid g = grid();
    struct fd_model m = {.vp = vp, .rho = par->equation == FD_ACOUSTIC1 ? rho : NULL};
    struct fd_engine *e = fd_engine_create(FD_DEVICE_CPU, 0, &g, &m, par, err, errlen);
    assert_non_null(e);
    struct fd_shot shot = {{115, 125, 100}, wav, recs, NREC, on_samples, on_snapshot, o};
    struct fd_stats st = {0, 0};
    int rc = fd_engine_run(e, &shot, &st, err, errlen);
    if (rc == 0)
        assert_true(st.seconds >= 0.0);
    fd_engine_destroy(e);
    return rc;
}

/* Expects fd_engine_create to fail with a message containing word. */
static void expect_create_fails(const struct fd_grid *g, const float *v,
                                const struct fd_params *par, const char *word)
{
    char err[256] = "";
    struct fd_model m = {.vp = v, .rho = NULL};
    struct fd_engine *e = fd_engine_create(FD_DEVICE_CPU, 0, g, &m, par, err, sizeof err);
    assert_null(e);
    assert_non_null(strstr(err, word));
    assert_null(strchr(err, '\n'));
}

static void test_create_rejects_bad_arguments(void **state)
{
    (void)state;
    struct fd_grid g = grid();
    struct fd_params p = params(FD_ACOUSTIC2);
    expect_create_fails(NULL, vp, &p, "required");
    expect_create_fails(&g, NULL, &p, "velocity");
    g.nx = 1;
    expect_create_fails(&g, vp, &p, "at least 2");
    g = grid();
    g.dz = 0.0;
    expect_create_fails(&g, vp, &p, "spacing");
    g = grid();
    p.nt = 0;
    expect_create_fails(&g, vp, &p, "nt");
    p = params(FD_ACOUSTIC2);
    p.record_every = 0;
    expect_create_fails(&g, vp, &p, "record_every");
    p = params(FD_ACOUSTIC2);
    p.boundary_width = -1;
    expect_create_fails(&g, vp, &p, "boundary_width");
    p = params(FD_ACOUSTIC2);
    p.equation = (enum fd_equation)7;
    expect_create_fails(&g, vp, &p, "equation");
    p = params(FD_ACOUSTIC2);
    p.dt = 4e-3; /* v dt / h = 1.0 at 2500 m/s */
    expect_create_fails(&g, vp, &p, "stability");
    p = params(FD_ACOUSTIC2);
    vp[100] = -1.0f;
    expect_create_fails(&g, vp, &p, "velocity");
    vp[100] = 1500.0f;
    char err[256] = "";
    struct fd_model m = {.vp = vp, .rho = NULL};
    assert_null(fd_engine_create((enum fd_device_kind)5, 0, &g, &m, &p, err, sizeof err));
    assert_non_null(strstr(err, "device"));
}

static void test_run_rejects_bad_shots(void **state)
{
    (void)state;
    struct fd_grid g = grid();
    struct fd_params p = params(FD_ACOUSTIC2);
    struct fd_model m = {.vp = vp, .rho = NULL};
    char err[256] = "";
    struct fd_engine *e = fd_engine_create(FD_DEVICE_CPU, 0, &g, &m, &p, err, sizeof err);
    assert_non_null(e);
    struct out o;
    memset(&o, 0, sizeof o);
    struct fd_shot shot = {{115, 125, 100}, wav, recs, NREC, on_samples, NULL, &o};
    shot.wavelet = NULL;
    assert_int_equal(fd_engine_run(e, &shot, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "wavelet"));
    shot.wavelet = wav;
    shot.on_samples = NULL;
    assert_int_equal(fd_engine_run(e, &shot, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "on_samples"));
    shot.on_samples = on_samples;
    shot.source.z = 231.0; /* the model ends at 230 m */
    assert_int_equal(fd_engine_run(e, &shot, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "source"));
    shot.source.z = 100.0;
    struct fd_point bad[1] = {{-1.0, 0, 0}};
    shot.receivers = bad;
    shot.nrec = 1;
    assert_int_equal(fd_engine_run(e, &shot, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "receiver 0"));
    assert_int_equal(o.samples, 0);
    fd_engine_run(NULL, &shot, NULL, err, sizeof err);
    assert_non_null(strstr(err, "required"));
    fd_engine_destroy(e);
    fd_engine_destroy(NULL);
}

static void test_cuda_absent_fails_cleanly(void **state)
{
    (void)state;
    if (fd_cuda_available())
        skip();
    struct fd_grid g = grid();
    struct fd_params p = params(FD_ACOUSTIC2);
    struct fd_model m = {.vp = vp, .rho = NULL};
    char err[256] = "";
    assert_null(fd_engine_create(FD_DEVICE_CUDA, 0, &g, &m, &p, err, sizeof err));
    assert_true(strlen(err) > 0);
    assert_null(strchr(err, '\n'));
    double gbs = -1;
    assert_int_equal(fd_cuda_copy_bandwidth(0, 1 << 20, &gbs, err, sizeof err), -1);
    assert_true(gbs == 0.0);
}

static void test_mem_estimate(void **state)
{
    (void)state;
    struct fd_grid g = grid();
    struct fd_params p = params(FD_ACOUSTIC2);
    uint64_t a2 = fd_engine_mem_estimate(&g, &p, 10);
    /* padded 32^3 (+ halo) floats x 3 arrays at least, and not absurdly more */
    assert_true(a2 >= 3ull * 40 * 40 * 40 * 4);
    assert_true(a2 <= 10ull * 40 * 40 * 48 * 4);
    assert_true(fd_engine_mem_estimate(&g, &p, 10000) > a2);
    p.equation = FD_ACOUSTIC1;
    assert_true(fd_engine_mem_estimate(&g, &p, 10) > a2);
    p.nt = 0;
    assert_true(fd_engine_mem_estimate(&g, &p, 10) == 0);
    /* big grids do not overflow */
    struct fd_grid big = {2000, 2000, 1000, 10, 10, 10};
    p = params(FD_ACOUSTIC2);
    assert_true(fd_engine_mem_estimate(&big, &p, 1) > 3ull * 2000 * 2000 * 1000 * 4);
}

static void test_max_stable_dt(void **state)
{
    (void)state;
    struct fd_grid g = grid();
    double v = 3000.0, h = 10.0;
    double c2 = v * fd_max_stable_dt(FD_ACOUSTIC2, &g, v) / h;
    double c1 = v * fd_max_stable_dt(FD_ACOUSTIC1, &g, v) / h;
    assert_true(fabs(c2 - 0.4529) < 1e-4);
    assert_true(fabs(c1 - 0.4488) < 1e-4);
    /* unequal spacing: dt <= 2 / (v sqrt(6.5016 sum 1/d^2)) */
    struct fd_grid u = {N, N, N, 10.0, 20.0, 5.0};
    double want = 2.0 / (v * sqrt(6.5016 * (1 / 100.0 + 1 / 400.0 + 1 / 25.0)));
    assert_true(fabs(fd_max_stable_dt(FD_ACOUSTIC2, &u, v) / want - 1.0) < 1e-4);
    assert_true(fd_max_stable_dt(FD_ACOUSTIC2, &g, 0.0) == 0.0);
    assert_true(fd_max_stable_dt(FD_ACOUSTIC2, NULL, v) == 0.0);
}

/* Two runs of each configuration give bit-identical seismograms; the signal is
 * not trivially zero. */
static void test_determinism(void **state)
{
    (void)state;
    for (int eq = 0; eq < 2; eq++)
        for (int b = 0; b < 2; b++) {
            struct fd_params p = params((enum fd_equation)eq);
            p.boundary = (enum fd_boundary)b;
            p.free_surface = b == 1;
            struct out o1, o2;
            memset(&o1, 0, sizeof o1);
            memset(&o2, 0, sizeof o2);
            char err[256] = "";
            assert_int_equal(run(&p, &o1, err, sizeof err), 0);
            assert_int_equal(run(&p, &o2, err, sizeof err), 0);
            assert_int_equal(o1.samples, NT);
            assert_memory_equal(o1.data, o2.data, sizeof o1.data);
            double e = 0;
            for (int i = 0; i < NT * NREC; i++)
                e += fabs(o1.data[i]);
            assert_true(e > 0.0);
        }
}

/* The CPU back end flushes denormals while it steps (MXCSR FTZ/DAZ) and
 * leaves the caller's floating-point state as it found it. */
static void test_fp_state_restored(void **state)
{
    (void)state;
#if defined(__SSE__)
    const unsigned before = _mm_getcsr();
    struct fd_params p = params(FD_ACOUSTIC2);
    struct out o;
    memset(&o, 0, sizeof o);
    char err[256] = "";
    assert_int_equal(run(&p, &o, err, sizeof err), 0);
    assert_int_equal(_mm_getcsr(), before);
    volatile float tiny = 1e-39f; /* a denormal still survives here */
    assert_true(tiny * 1.0f > 0.0f);
#else
    skip();
#endif
}

/* record_every = 3 gives ceil(20 / 3) = 7 samples: exactly the samples of
 * steps 0, 3, ..., 18 of a full-rate run (no filter). */
static void test_decimated_recording(void **state)
{
    (void)state;
    struct fd_params p = params(FD_ACOUSTIC1);
    struct out full, dec;
    memset(&full, 0, sizeof full);
    memset(&dec, 0, sizeof dec);
    char err[256] = "";
    assert_int_equal(run(&p, &full, err, sizeof err), 0);
    p.record_every = 3;
    assert_int_equal(run(&p, &dec, err, sizeof err), 0);
    assert_int_equal(dec.samples, 7);
    for (int s = 0; s < 7; s++)
        assert_memory_equal(dec.data + s * NREC, full.data + 3 * s * NREC,
                            NREC * sizeof(float));
}

/* Snapshots arrive at steps 5, 10, 15 and hold the pressure a receiver on the
 * same grid point records. */
static void test_snapshots(void **state)
{
    (void)state;
    struct fd_params p = params(FD_ACOUSTIC2);
    p.snapshot_every = 5;
    struct out o;
    memset(&o, 0, sizeof o);
    char err[256] = "";
    assert_int_equal(run(&p, &o, err, sizeof err), 0);
    assert_int_equal(o.snaps, 3);
    assert_int_equal(o.snap_step, 15);
    /* receiver 0 sits on cell (12, 12, 12) */
    assert_true(o.snap_at == o.data[15 * NREC + 0]);
    assert_true(o.snap_at != 0.0f);
}

/* A consumer that returns non-zero stops the shot with a message. */
static void test_consumer_abort(void **state)
{
    (void)state;
    struct fd_params p = params(FD_ACOUSTIC2);
    struct out o;
    memset(&o, 0, sizeof o);
    o.abort_samples = 1;
    char err[256] = "";
    assert_int_equal(run(&p, &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "aborted"));
}

/* One engine, three shots: the second shot at another source does not leak
 * into the third, which repeats the first bit for bit (wavefields and CPML
 * memory are zeroed by every run). */
static void test_engine_reuse(void **state)
{
    (void)state;
    for (int eq = 0; eq < 2; eq++) {
        struct fd_grid g = grid();
        struct fd_params p = params((enum fd_equation)eq);
        struct fd_model m = {.vp = vp, .rho = eq ? rho : NULL};
        char err[256] = "";
        struct fd_engine *e =
            fd_engine_create(FD_DEVICE_CPU, 0, &g, &m, &p, err, sizeof err);
        assert_non_null(e);
        struct out o[3];
        memset(o, 0, sizeof o);
        for (int k = 0; k < 3; k++) {
            struct fd_shot shot = {{k == 1 ? 30.0 : 115.0, 125, 100},
                                   wav,
                                   recs,
                                   NREC,
                                   on_samples,
                                   NULL,
                                   &o[k]};
            assert_int_equal(fd_engine_run(e, &shot, NULL, err, sizeof err), 0);
        }
        assert_memory_equal(o[0].data, o[2].data, sizeof o[0].data);
        assert_memory_not_equal(o[0].data, o[1].data, sizeof o[0].data);
        fd_engine_destroy(e);
    }
}

/* A snapshot consumer that returns non-zero stops the shot too. */
static void test_snapshot_abort(void **state)
{
    (void)state;
    struct fd_params p = params(FD_ACOUSTIC1);
    p.snapshot_every = 4;
    struct out o;
    memset(&o, 0, sizeof o);
    o.abort_snaps = 1;
    char err[256] = "";
    assert_int_equal(run(&p, &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "snapshot"));
    assert_int_equal(o.snaps, 1);
}

/* A shot without receivers runs (snapshots only) and never calls on_samples. */
static void test_no_receivers(void **state)
{
    (void)state;
    struct fd_grid g = grid();
    struct fd_params p = params(FD_ACOUSTIC2);
    p.snapshot_every = 10;
    struct fd_model m = {.vp = vp, .rho = NULL};
    char err[256] = "";
    struct fd_engine *e = fd_engine_create(FD_DEVICE_CPU, 0, &g, &m, &p, err, sizeof err);
    assert_non_null(e);
    struct out o;
    memset(&o, 0, sizeof o);
    struct fd_shot shot = {{115, 125, 100}, wav, NULL, 0, on_samples, on_snapshot, &o};
    assert_int_equal(fd_engine_run(e, &shot, NULL, err, sizeof err), 0);
    assert_int_equal(o.samples, 0);
    assert_int_equal(o.snaps, 1);
    fd_engine_destroy(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_rejects_bad_arguments),
        cmocka_unit_test(test_run_rejects_bad_shots),
        cmocka_unit_test(test_cuda_absent_fails_cleanly),
        cmocka_unit_test(test_mem_estimate),
        cmocka_unit_test(test_max_stable_dt),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_fp_state_restored),
        cmocka_unit_test(test_decimated_recording),
        cmocka_unit_test(test_snapshots),
        cmocka_unit_test(test_consumer_abort),
        cmocka_unit_test(test_engine_reuse),
        cmocka_unit_test(test_snapshot_abort),
        cmocka_unit_test(test_no_receivers),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
