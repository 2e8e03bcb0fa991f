/* fd_bench: memory bandwidth and FD kernel throughput.
 *
 *   fd_bench [--cpu] [--cuda] [--n N] [--cuda-n N] [--steps S] [--reps R] [--threads T]
 *   fd_bench --compare [--n N] [--steps S]
 *
 * CPU: measures the STREAM triad bandwidth (a = b + s c, 12 bytes per element,
 * arrays of a few hundred MB), then runs acoustic2 and acoustic1 on an N^3 model
 * (no absorbing layer: the interior kernels; then with a 20-cell CPML) and
 * prints Gpts/s and the fraction of the roofline at 16 (acoustic2) and 56
 * (acoustic1) bytes per point and step.
 * --cuda: the same on CUDA device 0 (device copy bandwidth, Gpts/s) on a
 * --cuda-n grid (default 600: 3 GB for acoustic2, 6 GB for acoustic1), instead
 * of the CPU unless --cpu is given too.
 * --compare: runs small jobs (48^3, 300 steps unless --n/--steps) of both
 * equations and boundaries, with and without free surface, on the CPU and on
 * CUDA device 0 and exits 1 when any seismogram or the last snapshot differs by
 * more than 1e-4 (relative L2). Exit status 2 on bad usage or when a run fails.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "fd/fd_engine.h"

#define PI 3.14159265358979323846

/* Monotonic seconds. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* STREAM triad over n floats per array, best of reps; returns GB/s. */
static double triad_gbs(size_t n, int reps)
{
    float *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float)),
          *c = malloc(n * sizeof(float));
    if (!a || !b || !c) {
        free(a);
        free(b);
        free(c);
        return 0.0;
    }
    const long nn = (long)n;
#pragma omp parallel for schedule(static)
    for (long i = 0; i < nn; i++) {
        a[i] = 0.0f;
        b[i] = 1.0f;
        c[i] = 2.0f;
    }
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
#pragma omp parallel for schedule(static)
        for (long i = 0; i < nn; i++)
            a[i] = b[i] + 0.5f * c[i];
        double t = now_s() - t0;
        best = t < best ? t : best;
    }
    volatile float sink = a[n / 2];
    (void)sink;
    free(a);
    free(b);
    free(c);
    return 12.0 * (double)n / best / 1e9;
}

/* Discards samples. */
static int sink_samples(void *ctx, int first, int count, const float *data)
{
    (void)ctx;
    (void)first;
    (void)count;
    (void)data;
    return 0;
}

/* What a comparison run keeps: its traces and its last snapshot. */
struct kept {
    float *traces; /* nsamp x 4, time-major */
    float *snap;   /* model-sized */
    size_t cells;  /* model cells */
};

/* Keeps samples (4 receivers). */
static int keep_samples(void *ctx, int first, int count, const float *data)
{
    struct kept *k = ctx;
    memcpy(k->traces + (size_t)first * 4, data, (size_t)count * 4 * sizeof(float));
    return 0;
}

/* Keeps the latest snapshot. */
static int keep_snapshot(void *ctx, int step, const float *p)
{
    struct kept *k = ctx;
    (void)step;
    memcpy(k->snap, p, k->cells * sizeof(float));
    return 0;
}

/* ||a - b|| / ||a|| over n values (||a - b|| when a is zero). */
static double rel_diff(const float *a, const float *b, size_t n, size_t stride)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double x = a[i * stride], y = b[i * stride];
        num += (x - y) * (x - y);
        den += x * x;
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

/* Ricker wavelet array (caller frees). */
static float *ricker(int nt, double dt, double f)
{
    float *w = malloc((size_t)nt * sizeof(float));
    if (!w)
        return NULL;
    for (int i = 0; i < nt; i++) {
        double a = PI * f * (i * dt - 1.0 / f);
        w[i] = (float)((1.0 - 2.0 * a * a) * exp(-a * a));
    }
    return w;
}

/* Runs one timed shot; returns Gpts/s (0 on failure, message printed). */
static double run_kernel(enum fd_device_kind kind, enum fd_equation eq, int n, int width,
                         int steps, int threads, double *secs)
{
    struct fd_grid g = {n, n, n, 10.0, 10.0, 10.0};
    struct fd_params par = {.equation = eq,
                            .boundary = FD_BOUNDARY_CPML,
                            .boundary_width = width,
                            .nt = steps + 1,
                            .dt = 1e-3,
                            .record_every = 1,
                            .fpeak = 10.0,
                            .threads = threads};
    size_t cells = (size_t)n * (size_t)n * (size_t)n;
    float *vp = malloc(cells * sizeof(float));
    float *w = ricker(par.nt, par.dt, par.fpeak);
    /* vti, tti: eps 0.2, delta 0.1; tti: tilt 30, azimuth 45 degrees */
    float *an[4] = {NULL, NULL, NULL, NULL};
    static const float anv[4] = {0.2f, 0.1f, 30.0f, 45.0f};
    for (int k = 0; k < (eq == FD_TTI ? 4 : eq == FD_VTI ? 2 : 0); k++) {
        an[k] = malloc(cells * sizeof(float));
        for (size_t i = 0; an[k] && i < cells; i++)
            an[k][i] = anv[k];
    }
    char err[256] = "";
    double gpts = 0.0;
    if (!vp || !w) {
        fprintf(stderr, "fd_bench: out of memory\n");
        goto out;
    }
    for (size_t i = 0; i < cells; i++)
        vp[i] = 2000.0f;
    struct fd_model m = {.vp = vp,
                         .rho = NULL,
                         .epsilon = an[0],
                         .delta = an[1],
                         .theta = an[2],
                         .phi = an[3]};
    struct fd_engine *e = fd_engine_create(kind, 0, &g, &m, &par, err, sizeof err);
    if (!e) {
        fprintf(stderr, "fd_bench: %s\n", err);
        goto out;
    }
    struct fd_point rec = {n * 5.0, n * 5.0, 10.0};
    struct fd_shot shot = {
        {n * 5.0, n * 5.0, n * 5.0}, w, &rec, 1, sink_samples, NULL, NULL};
    struct fd_stats st;
    if (fd_engine_run(e, &shot, &st, err, sizeof err) != 0)
        fprintf(stderr, "fd_bench: %s\n", err);
    else {
        gpts = st.gpts;
        *secs = st.seconds;
    }
    fd_engine_destroy(e);
out:
    free(vp);
    free(w);
    for (int k = 0; k < 4; k++)
        free(an[k]);
    return gpts;
}

/* One CPU-vs-CUDA comparison job on an n^3 layered model for nt steps;
 * returns the worst relative L2 difference of its 4 traces and its last
 * snapshot, or -1 when a run failed. */
static double compare_job(int n, int nt, enum fd_equation eq, enum fd_boundary bnd,
                          bool fs)
{
    struct fd_grid g = {n, n, n, 10.0, 10.0, 10.0};
    struct fd_params par = {.equation = eq,
                            .boundary = bnd,
                            .boundary_width = n / 4,
                            .free_surface = fs,
                            .nt = nt,
                            .dt = 1e-3,
                            .record_every = 2,
                            .fpeak = 15.0,
                            .snapshot_every = nt / 3,
                            .threads = 0};
    const size_t cells = (size_t)n * (size_t)n * (size_t)n;
    const int nsamp = (nt + 1) / 2;
    const double c = 10.0 * n; /* model size in metres */
    float *vp = malloc(cells * sizeof(float)), *rho = malloc(cells * sizeof(float));
    float *w = ricker(nt, par.dt, par.fpeak);
    /* vti, tti: eps 0.25 / delta 0.1 below 0.4 n; tti: tilt 0..50 degrees with x,
     * azimuth 30 */
    float *an[4] = {NULL, NULL, NULL, NULL};
    const int nan_ = eq == FD_TTI ? 4 : (eq == FD_VTI ? 2 : 0);
    for (int a = 0; a < nan_; a++)
        an[a] = malloc(cells * sizeof(float));
    struct kept k[2];
    double worst = -1.0;
    for (int i = 0; i < 2; i++) {
        k[i].traces = calloc((size_t)nsamp * 4, sizeof(float));
        k[i].snap = calloc(cells, sizeof(float));
        k[i].cells = cells;
    }
    if (!vp || !rho || !w || !k[0].traces || !k[1].traces || !k[0].snap || !k[1].snap)
        goto out;
    for (int a = 0; a < nan_; a++)
        if (!an[a])
            goto out;
    for (size_t i = 0; i < cells; i++) {
        size_t iz = i % (size_t)n;
        vp[i] = iz < (size_t)(0.4 * n) ? 1800.0f
                                       : (iz < (size_t)(0.66 * n) ? 2500.0f : 3000.0f);
        rho[i] = iz < (size_t)(0.4 * n) ? 1000.0f : 2200.0f;
        const bool deep = iz >= (size_t)(0.4 * n);
        const double fx = (double)(i / (size_t)n % (size_t)n) / (double)n;
        const float av[4] = {deep ? 0.25f : 0.0f, deep ? 0.1f : 0.0f, (float)(50.0 * fx),
                             30.0f};
        for (int a = 0; a < nan_; a++)
            an[a][i] = av[a];
    }
    const struct fd_point recs[4] = {{0.2 * c, 0.5 * c, 0.1 * c},
                                     {0.5 * c, 0.5 * c, 0.62 * c},
                                     {0.79 * c + 0.5, 0.21 * c + 0.25, 0.875 * c},
                                     {0.1 * c, 0.1 * c, 0.0}};
    for (int i = 0; i < 2; i++) {
        char err[256] = "";
        struct fd_model m = {.vp = vp,
                             .rho = eq != FD_ACOUSTIC2 ? rho : NULL,
                             .epsilon = an[0],
                             .delta = an[1],
                             .theta = an[2],
                             .phi = an[3]};
        struct fd_engine *e = fd_engine_create(i ? FD_DEVICE_CUDA : FD_DEVICE_CPU, 0, &g,
                                               &m, &par, err, sizeof err);
        if (!e) {
            fprintf(stderr, "fd_bench --compare: %s\n", err);
            goto out;
        }
        struct fd_shot shot = {{0.48 * c, 0.5 * c, 0.31 * c + 0.5},
                               w,
                               recs,
                               4,
                               keep_samples,
                               keep_snapshot,
                               &k[i]};
        struct fd_stats st;
        int rc = fd_engine_run(e, &shot, &st, err, sizeof err);
        fd_engine_destroy(e);
        if (rc != 0) {
            fprintf(stderr, "fd_bench --compare: %s\n", err);
            goto out;
        }
    }
    worst = rel_diff(k[0].snap, k[1].snap, cells, 1);
    for (int r = 0; r < 4; r++) {
        double d = rel_diff(k[0].traces + r, k[1].traces + r, (size_t)nsamp, 4);
        worst = d > worst ? d : worst;
    }
out:
    free(vp);
    free(rho);
    free(w);
    for (int a = 0; a < 4; a++)
        free(an[a]);
    for (int i = 0; i < 2; i++) {
        free(k[i].traces);
        free(k[i].snap);
    }
    return worst;
}

/* --compare: CPU vs CUDA on every equation/boundary/free-surface combination.
 * Returns 0 (all within 1e-4), 1 (some differ) or 2 (could not run). */
static int compare(int n, int nt)
{
    if (!fd_cuda_available()) {
        fprintf(stderr, "fd_bench --compare: no CUDA device available\n");
        return 2;
    }
    int bad = 0;
    printf("grid %d^3, %d steps\n%-10s %-7s %-5s %12s  %s\n", n, nt, "equation", "bound",
           "fs", "rel.diff", "verdict");
    static const char *const names[] = {"acoustic2", "acoustic1", "vti", "tti"};
    for (int eq = 0; eq < 4; eq++)
        for (int b = 0; b < 2; b++)
            for (int fs = 0; fs < 2; fs++) {
                double d =
                    compare_job(n, nt, (enum fd_equation)eq, (enum fd_boundary)b, fs);
                const char *v = d < 0 ? "FAILED" : (d <= 1e-4 ? "ok" : "DIFFERS");
                printf("%-10s %-7s %-5s %12.3e  %s\n", names[eq], b ? "sponge" : "cpml",
                       fs ? "yes" : "no", d, v);
                fflush(stdout);
                if (d < 0)
                    return 2;
                bad |= d > 1e-4;
            }
    return bad ? 1 : 0;
}

/* Prints one result row; returns 0, or 2 when the run failed. */
static int row(const char *dev, enum fd_equation eq, int n, int width, double g,
               double secs, double bw)
{
    /* floats streamed per point and step: a2 4, a1 14, vti 19, tti 44 */
    static const double bpps[] = {16.0, 56.0, 76.0, 176.0};
    static const char *const names[] = {"acoustic2", "acoustic1", "vti", "tti"};
    double bpp = bpps[eq];
    printf("%-5s %-10s %-6d %-9s %9.3f %9.2f %6.0f %8.1f%%\n", dev, names[eq], n,
           width ? "cpml20" : "none", g, secs, bpp, 100.0 * g * bpp / bw);
    return g > 0 ? 0 : 2;
}

/* Benchmarks both equations, without and with a 20-cell CPML, on one device;
 * the best of reps shots. Returns 0 or 2. */
static int kernels(enum fd_device_kind kind, int n, int steps, int threads, int reps,
                   double bw)
{
    const int widths[2] = {0, 20};
    printf("%-5s %-10s %-6s %-9s %9s %9s %6s %9s\n", "dev", "equation", "grid",
           "boundary", "Gpts/s", "seconds", "B/pt", "roofline");
    for (int eq = 0; eq < (kind == FD_DEVICE_CUDA ? 2 : 4); eq++)
        for (int k = 0; k < 2; k++) {
            double best = 0, bsecs = 0;
            for (int r = 0; r < reps; r++) {
                double secs = 0;
                double g = run_kernel(kind, (enum fd_equation)eq, n, widths[k], steps,
                                      threads, &secs);
                if (g <= 0)
                    return 2;
                if (g > best) {
                    best = g;
                    bsecs = secs;
                }
            }
            if (row(kind == FD_DEVICE_CUDA ? "cuda" : "cpu", (enum fd_equation)eq, n,
                    widths[k], best, bsecs, bw))
                return 2;
        }
    return 0;
}

int main(int argc, char **argv)
{
    int n = 0, steps = 0, threads = 0, cpu = 0, cuda = 0, cuda_n = 600, reps = 3, cmp = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--n") && i + 1 < argc)
            n = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc)
            steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--cpu"))
            cpu = 1;
        else if (!strcmp(argv[i], "--cuda"))
            cuda = 1;
        else if (!strcmp(argv[i], "--cuda-n") && i + 1 < argc)
            cuda_n = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--compare"))
            cmp = 1;
        else {
            fprintf(
                stderr,
                "usage: fd_bench [--cpu] [--cuda] [--n N] [--cuda-n N] "
                "[--steps S] [--reps R] [--threads T] | --compare [--n N] [--steps S]\n");
            return 2;
        }
    }
    if (cmp)
        return compare(n ? n : 48, steps ? steps : 300);
    n = n ? n : 320;
    steps = steps ? steps : 20;
    if (n < 16 || steps < 1 || cuda_n < 16 || reps < 1) {
        fprintf(stderr,
                "fd_bench: --n and --cuda-n must be >= 16, --steps, --reps >= 1\n");
        return 2;
    }
    if (!cuda)
        cpu = 1;
    if (cpu) {
#ifdef _OPENMP
        if (threads > 0)
            omp_set_num_threads(threads);
        int nth = omp_get_max_threads();
#else
        int nth = 1;
#endif
        double bw = triad_gbs((size_t)32 << 20, 10);
        printf("cpu: %d threads, STREAM triad %.2f GB/s (3 x 128 MiB, best of 10); "
               "grid %d^3, %d steps, best of %d\n",
               nth, bw, n, steps, reps);
        if (kernels(FD_DEVICE_CPU, n, steps, threads, reps, bw))
            return 2;
    }
    if (cuda) {
        if (!fd_cuda_available()) {
            fprintf(stderr, "fd_bench: no CUDA device available\n");
            return 2;
        }
        char err[256] = "";
        double cbw = 0;
        if (fd_cuda_copy_bandwidth(0, (size_t)1 << 30, &cbw, err, sizeof err) != 0) {
            fprintf(stderr, "fd_bench: %s\n", err);
            return 2;
        }
        printf("cuda: device 0, copy bandwidth %.1f GB/s (read + write of 1 GiB); "
               "grid %d^3, %d steps\n",
               cbw, cuda_n, steps * 5);
        if (kernels(FD_DEVICE_CUDA, cuda_n, steps * 5, 0, 1, cbw))
            return 2;
    }
    return 0;
}
