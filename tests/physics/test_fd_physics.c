/* Physics tests of the FD engine (CPU back end): analytic Green's function,
 * CPML absorption, acoustic1 vs acoustic2, reciprocity, sponge and free
 * surface. Small grids so the suite runs in well under a minute on 2 cores.
 * The CPU-vs-CUDA agreement check lives in `fd_bench --compare`. */
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

#define PI 3.14159265358979323846

/* One homogeneous or layered test job. */
struct job {
    struct fd_grid grid;    /* model grid */
    struct fd_params par;   /* engine parameters */
    float *vp, *rho;        /* model arrays (rho may be NULL) */
    float *eps, *del;       /* vti Thomsen parameters (NULL = 0) */
    float *theta, *phi;     /* tti tilt and azimuth, degrees (NULL = 0) */
    struct fd_point src;    /* source */
    struct fd_point rec[8]; /* receivers */
    size_t nrec;            /* receivers in use */
    float *wav;             /* nt samples */
    int verbose;            /* print misfits */
};

/* Collected traces: data[s * nrec + r]. */
struct traces {
    float *data;    /* nsamp * nrec */
    int nsamp;      /* output samples */
    size_t nrec;    /* receivers */
    int calls;      /* on_samples calls */
    double *energy; /* snapshots' sum p^2 (job_run_on with snapshots) */
    int nen, capen; /* entries used, allocated */
    size_t ncells;  /* model cells */
};

/* Stores a block of samples; checks it stays inside the gather. */
static int on_samples(void *ctx, int first, int count, const float *data)
{
    struct traces *t = ctx;
    if (first < 0 || count < 1 || first + count > t->nsamp)
        return -1;
    memcpy(t->data + (size_t)first * t->nrec, data,
           (size_t)count * t->nrec * sizeof(float));
    t->calls++;
    return 0;
}

/* Ricker wavelet of peak frequency f centred at t0. */
static double ricker(double t, double f, double t0)
{
    double a = PI * f * (t - t0);
    return (1.0 - 2.0 * a * a) * exp(-a * a);
}

/* Sets up a homogeneous job: n^3 cells of 10 m, v = 2000 m/s, dt 1 ms. */
static void job_init(struct job *j, int nx, int ny, int nz, enum fd_equation eq, int nt)
{
    memset(j, 0, sizeof *j);
    j->grid = (struct fd_grid){nx, ny, nz, 10.0, 10.0, 10.0};
    j->par = (struct fd_params){.equation = eq,
                                .boundary = FD_BOUNDARY_CPML,
                                .boundary_width = 20,
                                .free_surface = false,
                                .nt = nt,
                                .dt = 1e-3,
                                .record_every = 1,
                                .fpeak = 12.0,
                                .snapshot_every = 0,
                                .threads = 0};
    size_t n = (size_t)nx * (size_t)ny * (size_t)nz;
    j->vp = malloc(n * sizeof(float));
    assert_non_null(j->vp);
    for (size_t i = 0; i < n; i++)
        j->vp[i] = 2000.0f;
    j->wav = malloc((size_t)nt * sizeof(float));
    assert_non_null(j->wav);
    for (int i = 0; i < nt; i++)
        j->wav[i] = (float)ricker(i * j->par.dt, j->par.fpeak, 1.0 / j->par.fpeak);
}

/* Frees a job's arrays. */
static void job_free(struct job *j)
{
    free(j->vp);
    free(j->rho);
    free(j->eps);
    free(j->del);
    free(j->theta);
    free(j->phi);
    free(j->wav);
}

/* Snapshot callback: appends sum p^2 over the model (an energy proxy) to the
 * traces' energy series. */
static int on_snapshot(void *ctx, int step, const float *p)
{
    (void)step;
    struct traces *t = ctx;
    double e = 0.0;
    for (size_t i = 0; i < t->ncells; i++)
        e += (double)p[i] * (double)p[i];
    if (t->nen >= t->capen)
        return -1;
    t->energy[t->nen++] = e;
    return 0;
}

/* Runs the shot of job j on engine e (kept); with snapshot_every > 0 the
 * energy series is filled. Returns the traces (caller frees .data, .energy). */
static struct traces job_run_on(struct fd_engine *e, const struct job *j)
{
    char err[256] = "";
    struct traces t = {0};
    t.nrec = j->nrec;
    t.nsamp = (j->par.nt + j->par.record_every - 1) / j->par.record_every;
    t.data = calloc((size_t)t.nsamp * t.nrec, sizeof(float));
    assert_non_null(t.data);
    if (j->par.snapshot_every > 0) {
        t.capen = j->par.nt / j->par.snapshot_every + 1;
        t.energy = calloc((size_t)t.capen, sizeof(double));
        assert_non_null(t.energy);
        t.ncells = (size_t)j->grid.nx * (size_t)j->grid.ny * (size_t)j->grid.nz;
    }
    struct fd_shot shot = {j->src,     j->wav,
                           j->rec,     j->nrec,
                           on_samples, j->par.snapshot_every > 0 ? on_snapshot : NULL,
                           &t};
    struct fd_stats st;
    int rc = fd_engine_run(e, &shot, &st, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "run: %s\n", err);
    assert_int_equal(rc, 0);
    return t;
}

/* Creates an engine for job j on a device. */
static struct fd_engine *job_engine(const struct job *j, enum fd_device_kind kind)
{
    char err[256] = "";
    struct fd_model m = {.vp = j->vp,
                         .rho = j->rho,
                         .epsilon = j->eps,
                         .delta = j->del,
                         .theta = j->theta,
                         .phi = j->phi};
    struct fd_engine *e =
        fd_engine_create(kind, 0, &j->grid, &m, &j->par, err, sizeof err);
    if (!e)
        fprintf(stderr, "create: %s\n", err);
    assert_non_null(e);
    return e;
}

/* Runs a job on a device; returns the traces (caller frees .data). */
static struct traces job_run(const struct job *j, enum fd_device_kind kind)
{
    struct fd_engine *e = job_engine(j, kind);
    struct traces t = job_run_on(e, j);
    fd_engine_destroy(e);
    return t;
}

/* Trace r of a gather, copied into out (nsamp doubles). */
static void trace(const struct traces *t, size_t r, double *out)
{
    for (int s = 0; s < t->nsamp; s++)
        out[s] = t->data[(size_t)s * t->nrec + r];
}

/* Index of the largest |x|. */
static int argmax_abs(const double *x, int n)
{
    int k = 0;
    for (int i = 1; i < n; i++)
        if (fabs(x[i]) > fabs(x[k]))
            k = i;
    return k;
}

/* ||a - b|| / ||b||. */
static double rel_l2(const double *a, const double *b, int n)
{
    double num = 0, den = 0;
    for (int i = 0; i < n; i++) {
        num += (a[i] - b[i]) * (a[i] - b[i]);
        den += b[i] * b[i];
    }
    return sqrt(num / den);
}

/* Distance between two points. */
static double dist(struct fd_point a, struct fd_point b)
{
    return sqrt((a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y) +
                (a.z - b.z) * (a.z - b.z));
}

/* Analytic trace w(t - r/c) / (4 pi r) of the job's Ricker. */
static void green(const struct job *j, double r, double c, double sign, double *out,
                  int accumulate)
{
    double f = j->par.fpeak, t0 = 1.0 / f;
    for (int s = 0; s < j->par.nt; s++) {
        double v = sign * ricker(s * j->par.dt - r / c, f, t0) / (4.0 * PI * r);
        out[s] = accumulate ? out[s] + v : v;
    }
}

/* (a) Both equations reproduce p = w(t - r/c) / (4 pi r) at 10..40 cells. */
static void check_green(enum fd_equation eq)
{
    struct job j;
    job_init(&j, 80, 80, 80, eq, 420);
    j.par.boundary_width = 10;
    j.src = (struct fd_point){400, 400, 400};
    j.rec[0] = (struct fd_point){500, 400, 400};   /* 10 cells along x */
    j.rec[1] = (struct fd_point){400, 400, 650};   /* 25 cells along z */
    j.rec[2] = (struct fd_point){400, 642.5, 400}; /* 24.25 cells, off grid */
    j.rec[3] = (struct fd_point){630, 630, 630};   /* 39.8 cells diagonal */
    j.rec[4] = (struct fd_point){300, 550, 250};   /* 23.5 cells, oblique */
    j.nrec = 5;
    struct traces t = job_run(&j, FD_DEVICE_CPU);
    double *got = malloc((size_t)j.par.nt * sizeof(double));
    double *ref = malloc((size_t)j.par.nt * sizeof(double));
    assert_non_null(got);
    assert_non_null(ref);
    for (size_t r = 0; r < j.nrec; r++) {
        double d = dist(j.src, j.rec[r]);
        trace(&t, r, got);
        green(&j, d, 2000.0, 1.0, ref, 0);
        int kg = argmax_abs(got, j.par.nt), kr = argmax_abs(ref, j.par.nt);
        double misfit = rel_l2(got, ref, j.par.nt);
        double amp = got[kg] / ref[kr] - 1.0;
        printf("  green %s r=%.1f cells: L2 misfit %.4f, peak amp %+.4f, peak time %+d "
               "samples\n",
               eq == FD_ACOUSTIC2 ? "acoustic2" : "acoustic1", d / 10.0, misfit, amp,
               kg - kr);
        assert_true(misfit <= 0.05);
        assert_true(fabs(amp) <= 0.03);
        assert_true(abs(kg - kr) <= 1);
    }
    free(got);
    free(ref);
    free(t.data);
    job_free(&j);
}

static void test_green_acoustic2(void **state)
{
    (void)state;
    check_green(FD_ACOUSTIC2);
}

static void test_green_acoustic1(void **state)
{
    (void)state;
    check_green(FD_ACOUSTIC1);
}

/* A constant float array of n cells. */
static float *fconst(size_t n, float v)
{
    float *a = malloc(n * sizeof(float));
    assert_non_null(a);
    for (size_t i = 0; i < n; i++)
        a[i] = v;
    return a;
}

static const char *const eqname[] = {"acoustic2", "acoustic1", "vti", "tti"};

/* One absorbing boundary to check: kind, width (cells) and the bound on the
 * edge difference relative to the direct peak. */
struct absorber {
    enum fd_boundary bnd;
    int width;
    double tol;
};

/* The small 40^3 job of the edge check (receivers 5 cells from the bottom, 3
 * from a side) or its large 90^3 reference with a 10-cell CPML (edges too far
 * to matter within the window). vti, tti: eps 0.2, delta 0.1; tti: tilt 30,
 * azimuth 45. */
static void absorber_job(struct job *j, enum fd_equation eq, bool large)
{
    const double o = large ? 250.0 : 0.0; /* the large model's shift */
    job_init(j, large ? 90 : 40, large ? 90 : 40, large ? 90 : 40, eq, 350);
    if (eq == FD_VTI || eq == FD_TTI) {
        size_t c = (size_t)j->grid.nx * (size_t)j->grid.ny * (size_t)j->grid.nz;
        j->eps = fconst(c, 0.2f);
        j->del = fconst(c, 0.1f);
        j->theta = eq == FD_TTI ? fconst(c, 30.0f) : NULL;
        j->phi = eq == FD_TTI ? fconst(c, 45.0f) : NULL;
    }
    j->par.boundary_width = 10;
    j->src = (struct fd_point){170 + o, 200 + o, 200 + o};
    j->rec[0] = (struct fd_point){30 + o, 200 + o, 340 + o};
    j->rec[1] = (struct fd_point){170 + o, 200 + o, 350 + o};
    j->nrec = 2;
}

/* (b) A receiver 5 cells from the absorbing layer matches the same receiver
 * in a model so large that nothing comes back within the window: for each of
 * the n boundaries, max difference below its tol of the direct wave's peak
 * (one reference run for all). */
static void check_absorbers(enum fd_equation eq, const struct absorber *ab, int n)
{
    struct job l;
    absorber_job(&l, eq, true);
    struct traces tl = job_run(&l, FD_DEVICE_CPU);
    for (int k = 0; k < n; k++) {
        struct job s;
        absorber_job(&s, eq, false);
        s.par.boundary = ab[k].bnd;
        s.par.boundary_width = ab[k].width;
        struct traces ts = job_run(&s, FD_DEVICE_CPU);
        for (size_t r = 0; r < s.nrec; r++) {
            double peak = 0, diff = 0;
            for (int i = 0; i < ts.nsamp; i++) {
                double a = ts.data[(size_t)i * 2 + r], b = tl.data[(size_t)i * 2 + r];
                peak = fabs(b) > peak ? fabs(b) : peak;
                diff = fabs(a - b) > diff ? fabs(a - b) : diff;
            }
            printf("  %s %s width %d receiver %zu: max edge difference %.2e of the "
                   "direct peak\n",
                   ab[k].bnd == FD_BOUNDARY_CPML ? "cpml" : "sponge", eqname[eq],
                   ab[k].width, r, diff / peak);
            assert_true(diff < ab[k].tol * peak);
        }
        free(ts.data);
        job_free(&s);
    }
    free(tl.data);
    job_free(&l);
}

/* check_absorbers with one boundary. */
static void check_absorber(enum fd_equation eq, enum fd_boundary bnd, int width,
                           double tol)
{
    const struct absorber ab = {bnd, width, tol};
    check_absorbers(eq, &ab, 1);
}

static void test_cpml_acoustic2(void **state)
{
    (void)state;
    check_absorber(FD_ACOUSTIC2, FD_BOUNDARY_CPML, 20, 0.01);
}

static void test_cpml_acoustic1(void **state)
{
    (void)state;
    check_absorber(FD_ACOUSTIC1, FD_BOUNDARY_CPML, 20, 0.01);
}

/* (c) acoustic1 with constant density equals acoustic2 within 1 %. */
static void test_acoustic1_equals_acoustic2(void **state)
{
    (void)state;
    struct job j[2];
    struct traces t[2];
    for (int k = 0; k < 2; k++) {
        job_init(&j[k], 60, 60, 60, k ? FD_ACOUSTIC1 : FD_ACOUSTIC2, 320);
        j[k].rho = malloc((size_t)60 * 60 * 60 * sizeof(float));
        assert_non_null(j[k].rho);
        for (size_t i = 0; i < (size_t)60 * 60 * 60; i++) {
            j[k].vp[i] = (i % 60) < 30 ? 2000.0f : 2600.0f; /* a layer: reflections too */
            j[k].rho[i] = 2100.0f;
        }
        if (k == 0) {
            free(j[k].rho);
            j[k].rho = NULL;
        }
        j[k].par.boundary_width = 10;
        j[k].src = (struct fd_point){300, 300, 200};
        j[k].rec[0] = (struct fd_point){300, 300, 100};
        j[k].rec[1] = (struct fd_point){450, 250, 200};
        j[k].rec[2] = (struct fd_point){200, 320, 450};
        j[k].nrec = 3;
        t[k] = job_run(&j[k], FD_DEVICE_CPU);
    }
    double *a = malloc((size_t)t[0].nsamp * sizeof(double));
    double *b = malloc((size_t)t[0].nsamp * sizeof(double));
    assert_non_null(a);
    assert_non_null(b);
    for (size_t r = 0; r < 3; r++) {
        trace(&t[1], r, a);
        trace(&t[0], r, b);
        double d = rel_l2(a, b, t[0].nsamp);
        printf("  acoustic1 vs acoustic2 receiver %zu: relative L2 difference %.5f\n", r,
               d);
        assert_true(d <= 0.01);
    }
    free(a);
    free(b);
    for (int k = 0; k < 2; k++) {
        free(t[k].data);
        job_free(&j[k]);
    }
}

/* Runs j with source A, receiver B and the reverse; asserts rhoA p(B; A) =
 * rhoB p(A; B) within tol of the peak. */
static void assert_reciprocal(struct job *j, struct fd_point A, struct fd_point B,
                              double rhoA, double rhoB, const char *what, double tol)
{
    j->src = A;
    j->rec[0] = B;
    j->nrec = 1;
    struct traces ab = job_run(j, FD_DEVICE_CPU);
    j->src = B;
    j->rec[0] = A;
    struct traces ba = job_run(j, FD_DEVICE_CPU);
    double peak = 0, diff = 0;
    for (int i = 0; i < ab.nsamp; i++) {
        double x = rhoA * ab.data[i], y = rhoB * ba.data[i];
        peak = fabs(x) > peak ? fabs(x) : peak;
        diff = fabs(x - y) > diff ? fabs(x - y) : diff;
    }
    printf("  reciprocity %s: max difference %.2e of the peak\n", what, diff / peak);
    assert_true(peak > 0);
    assert_true(diff <= tol * peak);
    free(ab.data);
    free(ba.data);
}

/* (d) Source-receiver reciprocity in a layered model: p(B; A) = p(A; B) for
 * acoustic2; for acoustic1 with layered density, rho_A p(B; A) = rho_B p(A; B)
 * (the monopole injects c^2 W into p, so the symmetric operator carries 1/rho
 * at the source). Within 1e-3 of the peak. */
static void check_reciprocity(enum fd_equation eq)
{
    const int n = 60, nt = 400;
    struct job j;
    job_init(&j, n, n, n, eq, nt);
    j.par.boundary_width = 8;
    if (eq == FD_ACOUSTIC1) {
        j.rho = malloc((size_t)n * (size_t)n * (size_t)n * sizeof(float));
        assert_non_null(j.rho);
    }
    for (size_t i = 0; i < (size_t)n * (size_t)n * (size_t)n; i++) {
        size_t iz = i % (size_t)n;
        j.vp[i] = iz < 20 ? 1600.0f : (iz < 38 ? 2400.0f : 3200.0f);
        if (j.rho)
            j.rho[i] = iz < 20 ? 1000.0f : (iz < 38 ? 1800.0f : 2500.0f);
    }
    const struct fd_point A = {200, 300, 150}, B = {420, 240, 450};
    const double rhoA = eq == FD_ACOUSTIC1 ? 1000.0 : 1.0;
    const double rhoB = eq == FD_ACOUSTIC1 ? 2500.0 : 1.0;
    assert_reciprocal(&j, A, B, rhoA, rhoB,
                      eq == FD_ACOUSTIC2 ? "acoustic2" : "acoustic1", 1e-3);
    job_free(&j);
}

static void test_reciprocity_acoustic2(void **state)
{
    (void)state;
    check_reciprocity(FD_ACOUSTIC2);
}

static void test_reciprocity_acoustic1(void **state)
{
    (void)state;
    check_reciprocity(FD_ACOUSTIC1);
}

/* (e) The sponge absorbs: the edge receiver sees reflections below 5 % of the
 * direct peak (a rigid edge would return tens of percent). */
static void test_sponge(void **state)
{
    (void)state;
    check_absorber(FD_ACOUSTIC2, FD_BOUNDARY_SPONGE, 30, 0.05);
    check_absorber(FD_ACOUSTIC1, FD_BOUNDARY_SPONGE, 30, 0.05);
}

/* vti and tti (eps 0.2, delta 0.1; tti: tilt 30, azimuth 45): the same edge
 * check for the sponge (30 cells, below 5 % of the direct peak) and the CPML
 * (20 cells). vti's CPML: below 1e-3 (measured 1.3e-5; without its memory
 * variables 0.34). tti's: below 2 % (measured 0.78 %: the tilt tapered to 0 in
 * the layer reflects, see docs/fd.md). */
static void test_absorbers_aniso(void **state)
{
    (void)state;
    const struct absorber vti[2] = {{FD_BOUNDARY_SPONGE, 30, 0.05},
                                    {FD_BOUNDARY_CPML, 20, 1e-3}};
    const struct absorber tti[2] = {{FD_BOUNDARY_SPONGE, 30, 0.05},
                                    {FD_BOUNDARY_CPML, 20, 0.02}};
    check_absorbers(FD_VTI, vti, 2);
    check_absorbers(FD_TTI, tti, 2);
}

/* (e) Free surface: a source and a receiver 20 cells deep, 10 apart, record
 * the direct wave and the surface ghost with reversed polarity at
 * t = r_image / c: p = w(t - r1/c)/(4 pi r1) - w(t - r2/c)/(4 pi r2). */
static void check_free_surface(enum fd_equation eq)
{
    struct job j;
    const int nt = 420;
    job_init(&j, 50, 50, 50, eq, nt);
    j.par.free_surface = true;
    j.src = (struct fd_point){200, 250, 200};
    j.rec[0] = (struct fd_point){300, 250, 200};
    j.nrec = 1;
    struct traces t = job_run(&j, FD_DEVICE_CPU);
    double *got = malloc((size_t)nt * sizeof(double));
    double *ref = malloc((size_t)nt * sizeof(double));
    assert_non_null(got);
    assert_non_null(ref);
    trace(&t, 0, got);
    const struct fd_point img = {200, 250, -200};
    const double r1 = dist(j.src, j.rec[0]), r2 = dist(img, j.rec[0]);
    green(&j, r1, 2000.0, 1.0, ref, 0);
    green(&j, r2, 2000.0, -1.0, ref, 1);
    double misfit = rel_l2(got, ref, nt);
    /* The ghost: the largest |p| after the direct wave has passed. */
    const int from = (int)((r1 / 2000.0 + 2.0 / j.par.fpeak) / j.par.dt);
    int kg = from, kr = from;
    for (int i = from; i < nt; i++) {
        kg = fabs(got[i]) > fabs(got[kg]) ? i : kg;
        kr = fabs(ref[i]) > fabs(ref[kr]) ? i : kr;
    }
    printf(
        "  free surface %s: L2 misfit %.4f, ghost %+.3e at %d (expected %+.3e at %d)\n",
        eq == FD_ACOUSTIC2 ? "acoustic2" : "acoustic1", misfit, got[kg], kg, ref[kr], kr);
    assert_true(ref[kr] < 0); /* reversed polarity of the (positive-peak) Ricker */
    assert_true(got[kg] < 0);
    assert_true(abs(kg - kr) <= 1);
    assert_true(fabs(got[kg] / ref[kr] - 1.0) <= 0.05);
    assert_true(misfit <= 0.05);
    free(got);
    free(ref);
    free(t.data);
    job_free(&j);
}

static void test_free_surface_acoustic2(void **state)
{
    (void)state;
    check_free_surface(FD_ACOUSTIC2);
}

static void test_free_surface_acoustic1(void **state)
{
    (void)state;
    check_free_surface(FD_ACOUSTIC1);
}

/* Late-time stability: 2000 steps at 99 % of the CFL limit in a strongly
 * layered model (1500 / 4000 m/s, 1000 / 2500 kg/m^3), CPML on the sides,
 * with and without free surface. After the waves have left, the field must
 * have decayed below 1 % of its peak (an unstable CPML or image grows). */
static void test_long_run_stable(void **state)
{
    (void)state;
    const int n = 40, nt = 2000;
    for (int eq = 0; eq < 2; eq++)
        for (int fs = 0; fs < 2; fs++) {
            struct job j;
            job_init(&j, n, n, n, (enum fd_equation)eq, nt);
            j.rho = malloc((size_t)n * (size_t)n * (size_t)n * sizeof(float));
            assert_non_null(j.rho);
            for (size_t i = 0; i < (size_t)n * (size_t)n * (size_t)n; i++) {
                j.vp[i] = (i % (size_t)n) < 20 ? 1500.0f : 4000.0f;
                j.rho[i] = (i % (size_t)n) < 20 ? 1000.0f : 2500.0f;
            }
            if (eq == FD_ACOUSTIC2) {
                free(j.rho);
                j.rho = NULL;
            }
            j.par.boundary_width = 10;
            j.par.free_surface = fs;
            j.par.fpeak = 15.0;
            j.par.dt = 0.99 * fd_max_stable_dt(j.par.equation, &j.grid, 4000.0);
            for (int i = 0; i < nt; i++)
                j.wav[i] = (float)ricker(i * j.par.dt, j.par.fpeak, 1.0 / j.par.fpeak);
            j.src = (struct fd_point){200, 200, 100};
            j.rec[0] = (struct fd_point){200, 200, 150};
            j.rec[1] = (struct fd_point){50, 350, 300};
            j.nrec = 2;
            struct traces t = job_run(&j, FD_DEVICE_CPU);
            double peak = 0, late = 0;
            for (int i = 0; i < t.nsamp * 2; i++) {
                double v = fabs(t.data[i]);
                peak = v > peak ? v : peak;
                if (i >= (t.nsamp - 100) * 2)
                    late = v > late ? v : late;
            }
            printf("  stability %s free surface %s: late/peak %.2e\n",
                   eq ? "acoustic1" : "acoustic2", fs ? "yes" : "no", late / peak);
            assert_true(peak > 0 && isfinite(peak));
            assert_true(late < 0.01 * peak);
            free(t.data);
            job_free(&j);
        }
}

/* Peak time (s) of trace r, parabolic interpolation around the largest |x|. */
static double peak_time(const struct traces *t, size_t r, double dt)
{
    double *x = malloc((size_t)t->nsamp * sizeof(double));
    assert_non_null(x);
    trace(t, r, x);
    int k = argmax_abs(x, t->nsamp);
    double off = 0.0;
    if (k > 0 && k < t->nsamp - 1) {
        double a = x[k - 1], b = x[k], c = x[k + 1], den = a - 2.0 * b + c;
        off = den != 0.0 ? 0.5 * (a - c) / den : 0.0;
    }
    free(x);
    return (k + off) * dt;
}

/* A homogeneous sponge-bounded vti job of n^3 cells with eps, delta, source at
 * the centre. */
static void vti_init(struct job *j, int n, int nt, float eps, float del)
{
    job_init(j, n, n, n, FD_VTI, nt);
    size_t c = (size_t)n * (size_t)n * (size_t)n;
    j->eps = fconst(c, eps);
    j->del = fconst(c, del);
    j->par.boundary = FD_BOUNDARY_SPONGE;
    j->par.boundary_width = 20;
    double h = (n - 1) * 5.0;
    j->src = (struct fd_point){h, h, h};
}

/* Asserts rel_l2(got_r, ref_r) <= tol for each of the nrec receivers;
 * prints "  what, receiver r: rel L2 ...". */
static void assert_close(const struct traces *got, const struct traces *ref, double tol,
                         const char *what)
{
    double *a = malloc((size_t)ref->nsamp * sizeof(double)),
           *b = malloc((size_t)ref->nsamp * sizeof(double));
    assert_non_null(a);
    assert_non_null(b);
    for (size_t r = 0; r < ref->nrec; r++) {
        trace(got, r, a);
        trace(ref, r, b);
        double e = rel_l2(a, b, ref->nsamp);
        printf("  %s, receiver %zu: rel L2 %.2e\n", what, r, e);
        assert_true(e <= tol);
    }
    free(a);
    free(b);
}

/* vti with eps = delta = 0 equals acoustic1 (relative L2 <= 1e-4). */
static void test_vti_equals_acoustic1(void **state)
{
    (void)state;
    struct job j[2];
    for (int k = 0; k < 2; k++) {
        vti_init(&j[k], 40, 300, 0.0f, 0.0f);
        if (k) {
            j[k].par.equation = FD_ACOUSTIC1;
            j[k].rho = fconst((size_t)40 * 40 * 40, 1800.0f);
        } else
            j[k].rho = fconst((size_t)40 * 40 * 40, 1800.0f);
        j[k].rec[0] = (struct fd_point){195, 195, 350};
        j[k].rec[1] = (struct fd_point){50, 300, 120};
        j[k].nrec = 2;
    }
    struct traces t0 = job_run(&j[0], FD_DEVICE_CPU), t1 = job_run(&j[1], FD_DEVICE_CPU);
    assert_close(&t0, &t1, 1e-4, "vti(eps=delta=0) vs acoustic1");
    free(t0.data);
    free(t1.data);
    job_free(&j[0]);
    job_free(&j[1]);
}

/* Exact qP phase velocity (vs = 0) at phase angle th from the symmetry axis. */
static double qp_phase(double vp, double eps, double del, double th)
{
    double s2 = sin(th) * sin(th), c2 = cos(th) * cos(th), f = 1.0 + 2.0 * eps * s2;
    return vp * sqrt(0.5 * (f + sqrt(f * f - 8.0 * (eps - del) * s2 * c2)));
}

/* Exact qP group velocity (vs = 0) at group angle psi (bisection on the phase
 * angle; the group angle grows monotonically with it for eps >= delta >= 0). */
static double qp_group(double vp, double eps, double del, double psi)
{
    double lo = 0.0, hi = PI / 2, v = 0.0, g = 0.0;
    for (int it = 0; it < 100; it++) {
        double th = 0.5 * (lo + hi), h = 1e-6;
        v = qp_phase(vp, eps, del, th);
        g = (qp_phase(vp, eps, del, th + h) - qp_phase(vp, eps, del, th - h)) / (2 * h);
        double ga = atan2(v * sin(th) + g * cos(th), v * cos(th) - g * sin(th));
        if (ga < psi)
            lo = th;
        else
            hi = th;
    }
    return sqrt(v * v + g * g);
}

/* Homogeneous VTI: direct-wave peak times in directions 0..90 degrees from the
 * vertical match the exact qP group velocity within tol (relative) plus slack
 * (s). */
static void check_vti_times(float eps, float del, int ndir, double tol, double slack)
{
    struct job j;
    const int n = 61, nt = 260;
    const double R = 250.0;
    vti_init(&j, n, nt, eps, del);
    for (int d = 0; d < ndir; d++) {
        double psi = PI / 2 * d / (ndir - 1);
        j.rec[d] =
            (struct fd_point){j.src.x + R * sin(psi), j.src.y, j.src.z + R * cos(psi)};
    }
    j.nrec = (size_t)ndir;
    struct traces t = job_run(&j, FD_DEVICE_CPU);
    for (int d = 0; d < ndir; d++) {
        double psi = PI / 2 * d / (ndir - 1);
        double T = R / qp_group(2000.0, eps, del, psi);
        double got = peak_time(&t, (size_t)d, j.par.dt) - 1.0 / j.par.fpeak;
        printf(
            "  vti eps %.2f delta %.2f at %4.1f deg: t %.5f s, exact %.5f s (%.2f %%)\n",
            (double)eps, (double)del, psi * 180 / PI, got, T, 100 * (got - T) / T);
        assert_true(fabs(got - T) <= tol * T + slack);
    }
    free(t.data);
    job_free(&j);
}

/* Elliptic VTI (eps = delta = 0.2): vertical, 45 degrees, horizontal within
 * half a sample plus 0.3 %. */
static void test_vti_elliptic(void **state)
{
    (void)state;
    check_vti_times(0.2f, 0.2f, 3, 0.003, 0.5e-3);
}

/* Anelliptic VTI (eps = 0.25, delta = 0.1): five directions within 0.5 %. */
static void test_vti_anelliptic(void **state)
{
    (void)state;
    check_vti_times(0.25f, 0.1f, 5, 0.005, 0.0);
}

/* Symmetry axis of tilt th, azimuth ph (radians) and a unit vector normal to
 * it in the axis' vertical plane (e1 = d n / d th). */
static void tilt_frame(double th, double ph, double n[3], double e1[3])
{
    n[0] = sin(th) * cos(ph);
    n[1] = sin(th) * sin(ph);
    n[2] = cos(th);
    e1[0] = cos(th) * cos(ph);
    e1[1] = cos(th) * sin(ph);
    e1[2] = -sin(th);
}

/* Fills the tti angle arrays of job j with constants (degrees). */
static void tti_angles(struct job *j, float th, float ph)
{
    size_t c = (size_t)j->grid.nx * (size_t)j->grid.ny * (size_t)j->grid.nz;
    j->par.equation = FD_TTI;
    j->theta = fconst(c, th);
    j->phi = fconst(c, ph);
}

/* tti with theta = phi = 0 equals vti (relative L2 <= 1e-5), anelliptic
 * medium with a density jump. */
static void test_tti_untilted_equals_vti(void **state)
{
    (void)state;
    struct job j[2];
    struct traces t[2];
    for (int k = 0; k < 2; k++) {
        vti_init(&j[k], 40, 300, 0.25f, 0.1f);
        j[k].rho = fconst((size_t)40 * 40 * 40, 1800.0f);
        for (size_t i = 0; i < (size_t)40 * 40 * 40; i++)
            if (i % 40 > 26) {
                j[k].rho[i] = 2400.0f;
                j[k].vp[i] = 2600.0f;
            }
        j[k].par.dt = 0.8e-3;
        if (k)
            tti_angles(&j[k], 0.0f, 0.0f);
        j[k].rec[0] = (struct fd_point){195, 195, 350};
        j[k].rec[1] = (struct fd_point){50, 300, 120};
        j[k].rec[2] = (struct fd_point){320, 60, 200};
        j[k].nrec = 3;
        t[k] = job_run(&j[k], FD_DEVICE_CPU);
    }
    assert_close(&t[1], &t[0], 1e-5, "tti(theta=phi=0) vs vti");
    for (int k = 0; k < 2; k++) {
        free(t[k].data);
        job_free(&j[k]);
    }
}

/* TTI with theta = 30, phi = 45 degrees: direct-wave peak times in five
 * directions 0..90 degrees from the tilted axis (in its vertical plane) match
 * the same directions of the untilted VTI run and the exact qP group
 * velocity within 0.5 %. */
static void test_tti_tilted_times(void **state)
{
    (void)state;
    const int n = 61, nt = 260, ndir = 5;
    const double R = 250.0, eps = 0.25, del = 0.1;
    double tv[5], tt[5];
    for (int k = 0; k < 2; k++) {
        struct job j;
        vti_init(&j, n, nt, (float)eps, (float)del);
        double th = k ? 30.0 : 0.0, ph = k ? 45.0 : 0.0, ax[3], e1[3];
        if (k)
            tti_angles(&j, (float)th, (float)ph);
        tilt_frame(th * PI / 180, ph * PI / 180, ax, e1);
        for (int d = 0; d < ndir; d++) {
            double psi = PI / 2 * d / (ndir - 1), u[3];
            for (int a = 0; a < 3; a++)
                u[a] = R * (cos(psi) * ax[a] + sin(psi) * e1[a]);
            j.rec[d] = (struct fd_point){j.src.x + u[0], j.src.y + u[1], j.src.z + u[2]};
        }
        j.nrec = (size_t)ndir;
        struct traces t = job_run(&j, FD_DEVICE_CPU);
        for (int d = 0; d < ndir; d++)
            (k ? tt : tv)[d] = peak_time(&t, (size_t)d, j.par.dt) - 1.0 / j.par.fpeak;
        free(t.data);
        job_free(&j);
    }
    for (int d = 0; d < ndir; d++) {
        double psi = PI / 2 * d / (ndir - 1);
        double T = R / qp_group(2000.0, eps, del, psi);
        printf("  tti 30/45 at %4.1f deg from the axis: t %.5f s, vti %.5f s (%+.2f %%), "
               "exact %.5f s (%+.2f %%)\n",
               psi * 180 / PI, tt[d], tv[d], 100 * (tt[d] - tv[d]) / tv[d], T,
               100 * (tt[d] - T) / T);
        assert_true(fabs(tt[d] - tv[d]) <= 0.005 * tv[d]);
        assert_true(fabs(tt[d] - T) <= 0.005 * T);
    }
}

/* A layered TTI model of n^3 10 m cells: three layers with vp, rho, eps,
 * delta jumps (eps >= delta) and a tilt growing smoothly from 0 to 60
 * degrees across the model (with x and z), azimuth 30 degrees. iso_ends:
 * eps = delta = 0 in the top and bottom layers. Sets dt to frac of the CFL. */
static void tti_layered(struct job *j, int n, int nt, double frac, bool iso_ends)
{
    job_init(j, n, n, n, FD_TTI, nt);
    size_t c = (size_t)n * (size_t)n * (size_t)n;
    j->rho = fconst(c, 1000.0f);
    j->eps = fconst(c, 0.0f);
    j->del = fconst(c, 0.0f);
    j->theta = fconst(c, 0.0f);
    j->phi = fconst(c, 30.0f);
    j->par.boundary = FD_BOUNDARY_SPONGE;
    j->par.boundary_width = 10;
    static const float vp[3] = {1800, 2500, 3000}, rho[3] = {1000, 1900, 2300},
                       ep[3] = {0.1f, 0.3f, 0.2f}, de[3] = {0.05f, 0.1f, 0.2f};
    double vmax = 0.0;
    for (size_t i = 0; i < c; i++) {
        size_t iz = i % (size_t)n, ix = i / (size_t)n % (size_t)n;
        int l = iz < (size_t)n / 3 ? 0 : (iz < 2 * (size_t)n / 3 ? 1 : 2);
        j->vp[i] = vp[l];
        j->rho[i] = rho[l];
        bool iso = iso_ends && l != 1;
        j->eps[i] = iso ? 0.0f : ep[l];
        j->del[i] = iso ? 0.0f : de[l];
        double x = (double)(ix + iz) / (2.0 * (n - 1));
        j->theta[i] = (float)(60.0 * x * x * (3.0 - 2.0 * x)); /* smoothstep 0..60 */
        double v = vp[l] * sqrt(1.0 + 2.0 * j->eps[i]);
        vmax = v > vmax ? v : vmax;
    }
    j->par.dt = frac * fd_max_stable_dt(FD_TTI, &j->grid, vmax);
    j->par.fpeak = 15.0;
    for (int i = 0; i < nt; i++)
        j->wav[i] = (float)ricker(i * j->par.dt, j->par.fpeak, 1.0 / j->par.fpeak);
}

/* Stability: 4000 steps at 0.95 of the CFL limit in the layered TTI model
 * (tilt 0..60 degrees, eps/delta jumps), sponge or CPML sides, with and
 * without the free surface: the energy proxy sum p^2 (every 50 steps) stays
 * finite, has fallen below 0.1 of its peak, and does not grow over the last
 * 1000 steps (its maximum there is at most its maximum over the 1000 steps
 * before). A CPML without the tilt taper of its layer fails here (energy
 * 7.8e2 at step 4000 from a peak of 3.8e-3). */
static void test_tti_long_run_stable(void **state)
{
    (void)state;
    const int n = 24, nt = 4000;
    for (int run = 0; run < 4; run++) {
        const bool fs = run & 1, cpml = run >= 2;
        struct job j;
        tti_layered(&j, n, nt, 0.95, false);
        j.par.free_surface = fs;
        j.par.boundary = cpml ? FD_BOUNDARY_CPML : FD_BOUNDARY_SPONGE;
        j.par.snapshot_every = 50;
        j.src = (struct fd_point){80, 120, 60};
        j.rec[0] = (struct fd_point){150, 120, 180};
        j.nrec = 1;
        struct fd_engine *e = job_engine(&j, FD_DEVICE_CPU);
        struct traces t = job_run_on(e, &j);
        fd_engine_destroy(e);
        double peak = 0.0, late = 0.0, before = 0.0;
        for (int i = 0; i < t.nen; i++) {
            int step = (i + 1) * 50;
            assert_true(isfinite(t.energy[i]));
            peak = t.energy[i] > peak ? t.energy[i] : peak;
            if (step > 3000)
                late = t.energy[i] > late ? t.energy[i] : late;
            else if (step > 2000)
                before = t.energy[i] > before ? t.energy[i] : before;
        }
        printf("  tti stability (4000 steps, 0.95 CFL) %s, free surface %s: energy peak "
               "%.3e, max over steps 2000-3000 %.3e, over 3000-4000 %.3e\n",
               cpml ? "cpml" : "sponge", fs ? "yes" : "no", peak, before, late);
        if (getenv("FD_PHYSICS_VERBOSE"))
            for (int i = 0; i < t.nen; i += 4)
                printf("    step %d: %.3e\n", (i + 1) * 50, t.energy[i]);
        assert_true(peak > 0.0);
        assert_true(late < 0.1 * peak);
        assert_true(late <= before);
        free(t.energy);
        free(t.data);
        job_free(&j);
    }
}

/* Reciprocity in the layered TTI model (source and receiver in the isotropic
 * top and bottom layers, the waves crossing the tilted anisotropic one):
 * rho_A p(B; A) = rho_B p(A; B) within 1e-5 of the peak (the issue asks 1e-3;
 * 1e-5 also catches a rotation whose stress update is not the transpose of the
 * velocity update's: that measured 9.8e-4). */
static void test_tti_reciprocity(void **state)
{
    (void)state;
    struct job j;
    tti_layered(&j, 48, 450, 0.9, true);
    j.par.boundary_width = 8;
    const struct fd_point A = {150, 240, 60}, B = {330, 190, 420};
    assert_reciprocal(&j, A, B, 1000.0, 2300.0, "tti", 1e-5);
    job_free(&j);
}

/* aniso_taper: (1) a radius covering the whole model makes vti (eps 0.25,
 * delta 0.1) the isotropic acoustic1 (rel L2 <= 1e-5); (2) the taper follows
 * the shot: a second shot elsewhere on the same engine equals that shot on a
 * fresh engine (bit for bit), and differs from the untapered run. */
static void test_aniso_taper(void **state)
{
    (void)state;
    struct job j, a;
    vti_init(&j, 30, 200, 0.25f, 0.1f);
    vti_init(&a, 30, 200, 0.0f, 0.0f);
    a.par.equation = FD_ACOUSTIC1;
    j.par.aniso_taper = 1e6;
    j.rec[0] = a.rec[0] = (struct fd_point){250, 145, 145};
    j.rec[1] = a.rec[1] = (struct fd_point){145, 145, 40};
    j.nrec = a.nrec = 2;
    struct traces tj = job_run(&j, FD_DEVICE_CPU), ta = job_run(&a, FD_DEVICE_CPU);
    assert_close(&tj, &ta, 1e-5, "aniso_taper 1e6 m vs acoustic1");
    free(tj.data);
    free(ta.data);
    /* (2) radius 60 m: shot 1 then shot 2 on one engine; shot 2 on a fresh one. */
    j.par.aniso_taper = 60.0;
    struct fd_engine *e = job_engine(&j, FD_DEVICE_CPU);
    struct traces s1 = job_run_on(e, &j);
    j.src = (struct fd_point){90, 180, 120};
    struct traces s2 = job_run_on(e, &j);
    fd_engine_destroy(e);
    struct traces f2 = job_run(&j, FD_DEVICE_CPU);
    j.par.aniso_taper = 0.0;
    struct traces u2 = job_run(&j, FD_DEVICE_CPU);
    double dmax = 0.0;
    for (int i = 0; i < s2.nsamp * 2; i++) {
        assert_true(s2.data[i] == f2.data[i]);
        double d = fabs(s2.data[i] - u2.data[i]);
        dmax = d > dmax ? d : dmax;
    }
    printf("  aniso_taper 60 m: second shot equals a fresh engine; differs from the "
           "untapered run by %.2e\n",
           dmax);
    assert_true(dmax > 0.0);
    free(s1.data);
    free(s2.data);
    free(f2.data);
    free(u2.data);
    job_free(&j);
    job_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_green_acoustic2),
        cmocka_unit_test(test_green_acoustic1),
        cmocka_unit_test(test_cpml_acoustic2),
        cmocka_unit_test(test_cpml_acoustic1),
        cmocka_unit_test(test_acoustic1_equals_acoustic2),
        cmocka_unit_test(test_reciprocity_acoustic2),
        cmocka_unit_test(test_reciprocity_acoustic1),
        cmocka_unit_test(test_sponge),
        cmocka_unit_test(test_absorbers_aniso),
        cmocka_unit_test(test_free_surface_acoustic2),
        cmocka_unit_test(test_free_surface_acoustic1),
        cmocka_unit_test(test_long_run_stable),
        cmocka_unit_test(test_vti_equals_acoustic1),
        cmocka_unit_test(test_vti_elliptic),
        cmocka_unit_test(test_vti_anelliptic),
        cmocka_unit_test(test_tti_untilted_equals_vti),
        cmocka_unit_test(test_tti_tilted_times),
        cmocka_unit_test(test_tti_long_run_stable),
        cmocka_unit_test(test_tti_reciprocity),
        cmocka_unit_test(test_aniso_taper),
    };
    /* FD_PHYSICS_FILTER=PATTERN runs only the matching tests (cmocka glob). */
    if (getenv("FD_PHYSICS_FILTER"))
        cmocka_set_test_filter(getenv("FD_PHYSICS_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
