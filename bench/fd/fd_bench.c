/* fd_bench: memory bandwidth and FD kernel throughput.
 *
 *   fd_bench [--n N] [--steps S] [--threads T] [--cuda] [--cuda-n N] [--compare]
 *
 * CPU: measures the STREAM triad bandwidth (a = b + s c, 12 bytes per element,
 * arrays of a few hundred MB), then runs acoustic2 and acoustic1 on an N^3 model
 * (no absorbing layer: the interior kernels; then with a 20-cell CPML) and
 * prints Gpts/s and the fraction of the roofline at 16 (acoustic2) and 56
 * (acoustic1) bytes per point and step.
 * --cuda: the same on CUDA device 0 (device copy bandwidth, Gpts/s).
 * --compare: runs small jobs of both equations and boundaries on the CPU and on
 * CUDA device 0 and exits 1 when any seismogram differs by more than 1e-4
 * (relative L2). Exit status 2 on bad usage or when a run fails.
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

/* Keeps samples: ctx is a float array of nsamp * nrec. */
static int keep_samples(void *ctx, int first, int count, const float *data)
{
    float *out = ctx;
    memcpy(out + (size_t)first * 4, data, (size_t)count * 4 * sizeof(float));
    return 0;
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
                            .boundary = width > 0 ? FD_BOUNDARY_CPML : FD_BOUNDARY_SPONGE,
                            .boundary_width = width,
                            .nt = steps + 1,
                            .dt = 1e-3,
                            .record_every = 1,
                            .fpeak = 10.0,
                            .threads = threads};
    size_t cells = (size_t)n * (size_t)n * (size_t)n;
    float *vp = malloc(cells * sizeof(float));
    float *w = ricker(par.nt, par.dt, par.fpeak);
    char err[256] = "";
    double gpts = 0.0;
    if (!vp || !w) {
        fprintf(stderr, "fd_bench: out of memory\n");
        goto out;
    }
    for (size_t i = 0; i < cells; i++)
        vp[i] = 2000.0f;
    struct fd_model m = {vp, NULL};
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
    return gpts;
}

/* One CPU-vs-CUDA comparison job; returns the worst relative L2 difference
 * of its 4 traces, or -1 when a run failed. */
static double compare_job(enum fd_equation eq, enum fd_boundary bnd, bool fs)
{
    const int n = 48, nt = 300;
    struct fd_grid g = {n, n, n, 10.0, 10.0, 10.0};
    struct fd_params par = {.equation = eq,
                            .boundary = bnd,
                            .boundary_width = 12,
                            .free_surface = fs,
                            .nt = nt,
                            .dt = 1e-3,
                            .record_every = 2,
                            .fpeak = 15.0,
                            .threads = 0};
    size_t cells = (size_t)n * (size_t)n * (size_t)n;
    float *vp = malloc(cells * sizeof(float)), *rho = malloc(cells * sizeof(float));
    float *w = ricker(nt, par.dt, par.fpeak);
    int nsamp = (nt + 1) / 2;
    float *out[2] = {calloc((size_t)nsamp * 4, sizeof(float)),
                     calloc((size_t)nsamp * 4, sizeof(float))};
    double worst = -1.0;
    if (!vp || !rho || !w || !out[0] || !out[1])
        goto out;
    for (size_t i = 0; i < cells; i++) {
        size_t iz = i % (size_t)n;
        vp[i] = iz < 20 ? 1800.0f : (iz < 32 ? 2500.0f : 3000.0f);
        rho[i] = iz < 20 ? 1000.0f : 2200.0f;
    }
    struct fd_point recs[4] = {
        {100, 240, 50}, {240, 240, 300}, {380.5, 100.25, 420}, {50, 50, 200}};
    for (int k = 0; k < 2; k++) {
        char err[256] = "";
        struct fd_model m = {vp, eq == FD_ACOUSTIC1 ? rho : NULL};
        struct fd_engine *e = fd_engine_create(k ? FD_DEVICE_CUDA : FD_DEVICE_CPU, 0, &g,
                                               &m, &par, err, sizeof err);
        if (!e) {
            fprintf(stderr, "fd_bench --compare: %s\n", err);
            goto out;
        }
        struct fd_shot shot = {{230.0, 240.0, 150.5}, w,    recs,  4,
                               keep_samples,          NULL, out[k]};
        struct fd_stats st;
        int rc = fd_engine_run(e, &shot, &st, err, sizeof err);
        fd_engine_destroy(e);
        if (rc != 0) {
            fprintf(stderr, "fd_bench --compare: %s\n", err);
            goto out;
        }
    }
    worst = 0.0;
    for (int r = 0; r < 4; r++) {
        double num = 0, den = 0;
        for (int s = 0; s < nsamp; s++) {
            double a = out[0][s * 4 + r], b = out[1][s * 4 + r];
            num += (a - b) * (a - b);
            den += a * a;
        }
        double rel = den > 0 ? sqrt(num / den) : sqrt(num);
        worst = rel > worst ? rel : worst;
    }
out:
    free(vp);
    free(rho);
    free(w);
    free(out[0]);
    free(out[1]);
    return worst;
}

/* --compare: CPU vs CUDA on every equation/boundary combination. */
static int compare(void)
{
    if (!fd_cuda_available()) {
        fprintf(stderr, "fd_bench --compare: no CUDA device available\n");
        return 2;
    }
    int bad = 0;
    printf("%-10s %-7s %-5s %12s  %s\n", "equation", "bound", "fs", "rel.diff",
           "verdict");
    for (int eq = 0; eq < 2; eq++)
        for (int b = 0; b < 2; b++)
            for (int fs = 0; fs < 2; fs++) {
                double d = compare_job((enum fd_equation)eq, (enum fd_boundary)b, fs);
                const char *v = d < 0 ? "FAILED" : (d <= 1e-4 ? "ok" : "DIFFERS");
                printf("%-10s %-7s %-5s %12.3e  %s\n", eq ? "acoustic1" : "acoustic2",
                       b ? "sponge" : "cpml", fs ? "yes" : "no", d, v);
                if (d < 0)
                    return 2;
                bad |= d > 1e-4;
            }
    return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
    int n = 320, steps = 20, threads = 0, cuda = 0, cuda_n = 600;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--n") && i + 1 < argc)
            n = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc)
            steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--cuda"))
            cuda = 1;
        else if (!strcmp(argv[i], "--cuda-n") && i + 1 < argc)
            cuda_n = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--compare"))
            return compare();
        else {
            fprintf(stderr, "usage: fd_bench [--n N] [--steps S] [--threads T] [--cuda] "
                            "[--cuda-n N] [--compare]\n");
            return 2;
        }
    }
    if (n < 16 || steps < 1 || cuda_n < 16) {
        fprintf(stderr, "fd_bench: --n and --cuda-n must be >= 16, --steps >= 1\n");
        return 2;
    }
#ifdef _OPENMP
    if (threads > 0)
        omp_set_num_threads(threads);
    int nth = omp_get_max_threads();
#else
    int nth = 1;
#endif
    double bw = triad_gbs((size_t)32 << 20, 5);
    printf("cpu: %d threads, STREAM triad %.2f GB/s (3 x 128 MiB)\n", nth, bw);
    printf("%-10s %-6s %-9s %9s %9s %9s %9s\n", "equation", "grid", "boundary", "Gpts/s",
           "seconds", "B/pt", "roofline");
    const int widths[2] = {0, 20};
    for (int eq = 0; eq < 2; eq++)
        for (int k = 0; k < 2; k++) {
            double secs = 0;
            double g = run_kernel(FD_DEVICE_CPU, (enum fd_equation)eq, n, widths[k],
                                  steps, threads, &secs);
            double bpp = eq ? 56.0 : 16.0;
            printf("%-10s %-6d %-9s %9.3f %9.2f %9.0f %8.1f%%\n",
                   eq ? "acoustic1" : "acoustic2", n, widths[k] ? "cpml20" : "none", g,
                   secs, bpp, 100.0 * g * bpp / bw);
            if (g <= 0)
                return 2;
        }
    if (!cuda)
        return 0;
    if (!fd_cuda_available()) {
        printf("cuda: no device available\n");
        return 0;
    }
    char err[256] = "";
    double cbw = 0;
    if (fd_cuda_copy_bandwidth(0, (size_t)1 << 30, &cbw, err, sizeof err) != 0) {
        fprintf(stderr, "fd_bench: %s\n", err);
        return 2;
    }
    printf("cuda: device 0, copy bandwidth %.1f GB/s (read + write, 1 GiB)\n", cbw);
    for (int eq = 0; eq < 2; eq++)
        for (int k = 0; k < 2; k++) {
            double secs = 0;
            double g = run_kernel(FD_DEVICE_CUDA, (enum fd_equation)eq, cuda_n, widths[k],
                                  steps * 5, 0, &secs);
            double bpp = eq ? 56.0 : 16.0;
            printf("%-10s %-6d %-9s %9.3f %9.2f %9.0f %8.1f%%\n",
                   eq ? "acoustic1" : "acoustic2", cuda_n, widths[k] ? "cpml20" : "none",
                   g, secs, bpp, 100.0 * g * bpp / cbw);
            if (g <= 0)
                return 2;
        }
    return 0;
}
