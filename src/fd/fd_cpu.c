/* fd_cpu: the CPU back end of the FD engine (C11 + optional OpenMP).
 *
 * Wavefields are 64-byte aligned, z fastest; the main stencils walk tiles of
 * x columns along y so that the 9 y-planes a point needs stay in cache, with
 * the z loop innermost and free of branches so the compiler vectorises it.
 * The boundary work runs on the CPML slabs or sponge boxes only (fd_cpu_bnd.c).
 */
#define _DEFAULT_SOURCE /* madvise(MADV_HUGEPAGE) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

#include "fd/fd_backend.h"
#include "fd/fd_cpu.h"

#define FD_MIN_POINTS_PER_THREAD 131072.0

/* Formats a one-line message into err. Returns -1. */
static int cpu_fail(char *err, size_t errlen, const char *what, size_t bytes)
{
    if (err && errlen)
        snprintf(err, errlen, "fd cpu: out of memory for %s (%zu bytes)", what, bytes);
    return -1;
}

/* Zeroes an array of n floats in parallel (the threads that zero a page are
 * the ones that will use it: first touch). */
static void fzero(float *f, size_t n, int nth)
{
    int64_t chunks = 256, nn = (int64_t)n;
    (void)nth;
#pragma omp parallel for schedule(static) num_threads(nth)
    for (int64_t c = 0; c < chunks; c++) {
        int64_t a = nn * c / chunks, b = nn * (c + 1) / chunks;
        if (b > a)
            memset(f + a, 0, (size_t)(b - a) * sizeof(float));
    }
}

/* 64-byte aligned zeroed array of n floats, or NULL. Arrays of 4 MiB and more
 * are 2 MiB aligned and asked to use transparent huge pages (a stencil tile
 * touches hundreds of 4 KiB pages; the hint may be ignored). */
static float *falloc(size_t n, int nth)
{
    const size_t huge = (size_t)2 << 20;
    size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
    size_t align = bytes >= 2 * huge ? huge : 64;
    bytes = (bytes + align - 1) / align * align;
    float *f = aligned_alloc(align, bytes ? bytes : 64);
    if (!f)
        return NULL;
#ifdef MADV_HUGEPAGE
    if (align == huge)
        (void)madvise(f, bytes, MADV_HUGEPAGE);
#endif
    fzero(f, n, nth);
    return f;
}

/* Frees a CPU state and everything it owns; NULL is ok. */
static void cpu_destroy(void *state)
{
    struct fd_cpu *s = state;
    if (!s)
        return;
    for (int i = 0; i < 8 + FD_MAX_MODEL; i++)
        free(s->base[i]);
    for (int i = 0; i < FD_MAXSLAB; i++) {
        free(s->psi[i]);
        free(s->zeta[i]);
        free(s->psi2[i]);
        free(s->zeta2[i]);
    }
    free(s->rec);
    free(s->recbuf);
    free(s);
}

/* Allocates fields, copies the model. See fd_backend_ops.create. */
static int cpu_create(void **state, const struct fd_layout *L,
                      const float *const model[FD_MAX_MODEL], int ordinal, char *err,
                      size_t errlen)
{
    (void)ordinal;
    struct fd_cpu *s = calloc(1, sizeof *s);
    if (!s)
        return cpu_fail(err, errlen, "the CPU state", sizeof *s);
    s->L = L;
#ifdef _OPENMP
    s->nth = L->threads > 0 ? L->threads : omp_get_max_threads();
    /* A step has a dozen barriers: small grids run faster on fewer threads. */
    double pts = (double)L->n[0] * (double)L->n[1] * (double)L->n[2];
    if (s->nth > 1 && pts / FD_MIN_POINTS_PER_THREAD < s->nth)
        s->nth = pts < 2 * FD_MIN_POINTS_PER_THREAD
                     ? 1
                     : (int)(pts / FD_MIN_POINTS_PER_THREAD);
#else
    s->nth = 1;
#endif
    static const int nf[] = {2, 4, 5, 8}, nm[] = {1, 2, 4, 7}; /* by equation */
    s->nf = nf[L->eq];
    s->nm = nm[L->eq];
    /* Array k starts 64 k floats into its (2 MiB-aligned) allocation, so the
     * 9..15 streams a TTI column reads at the same index do not all fall in
     * the same cache sets. */
    for (int i = 0; i < s->nf; i++) {
        if (!(s->base[i] = falloc(L->cells + 64 * (size_t)i, s->nth)))
            goto out_nomem;
        s->f[i] = s->base[i] + 64 * i;
    }
    for (int i = 0; i < s->nm; i++) {
        const int k = s->nf + i;
        if (!(s->base[8 + i] = falloc(L->cells + 64 * (size_t)k, s->nth)))
            goto out_nomem;
        s->m[i] = s->base[8 + i] + 64 * k;
        memcpy(s->m[i], model[i], L->cells * sizeof(float));
    }
    for (int i = 0; i < L->nslab; i++) {
        if (!(s->psi[i] = falloc(L->slab[i].cells, s->nth)) ||
            !(s->zeta[i] = falloc(L->slab[i].cells, s->nth)))
            goto out_nomem;
        if (L->eq == FD_TTI && (!(s->psi2[i] = falloc(L->slab[i].cells, s->nth)) ||
                                !(s->zeta2[i] = falloc(L->slab[i].cells, s->nth))))
            goto out_nomem;
    }
    *state = s;
    return 0;
out_nomem:
    cpu_destroy(s);
    return cpu_fail(err, errlen, "the wavefields", L->cells * sizeof(float));
}

/* Zeroes the fields, installs source and receivers. See fd_backend_ops. */
static int cpu_begin_shot(void *state, const struct fd_interp *src,
                          const struct fd_interp *rec, size_t nrec, int chunk, char *err,
                          size_t errlen)
{
    struct fd_cpu *s = state;
    for (int i = 0; i < s->nf; i++)
        fzero(s->f[i], s->L->cells, s->nth);
    for (int i = 0; i < s->L->nslab; i++) {
        fzero(s->psi[i], s->L->slab[i].cells, s->nth);
        fzero(s->zeta[i], s->L->slab[i].cells, s->nth);
        if (s->psi2[i]) {
            fzero(s->psi2[i], s->L->slab[i].cells, s->nth);
            fzero(s->zeta2[i], s->L->slab[i].cells, s->nth);
        }
    }
    s->src = *src;
    for (int j = 0; j < 8; j++)
        s->coef[j] = fd_source_coef(s->L->eq, src->w[j], s->m[0][src->idx[j]],
                                    s->nm > 1 ? s->m[1][src->idx[j]] : 0.0f);
    free(s->rec);
    free(s->recbuf);
    s->rec = NULL;
    s->recbuf = NULL;
    s->nrec = nrec;
    s->chunk = chunk;
    if (nrec == 0)
        return 0;
    s->rec = malloc(nrec * sizeof *rec);
    s->recbuf = malloc(nrec * (size_t)chunk * sizeof(float));
    if (!s->rec || !s->recbuf)
        return cpu_fail(err, errlen, "the receiver buffer",
                        nrec * (size_t)chunk * sizeof(float));
    memcpy(s->rec, rec, nrec * sizeof *rec);
    return 0;
}

/* Adds the source to pressure field p. */
static void add_source(struct fd_cpu *s, float *p, float amp)
{
    for (int j = 0; j < 8; j++)
        p[s->src.idx[j]] += s->coef[j] * amp;
}

/* The vti or tti part of cpu_step, called by every thread of its parallel
 * region; CPML corrections follow each pass they correct (fd_cpu_bnd.c). */
static void aniso_step(struct fd_cpu *s, float amp)
{
    const struct fd_layout *L = s->L;
    const bool cpml = L->boundary == FD_BOUNDARY_CPML;
    float *p = s->f[0];
    if (L->eq == FD_VTI)
        fd_cpu_vti_pass(s, false);
    else {
        fd_cpu_tti_pass(s, 0);
        if (cpml)
            fd_cpu_aniso_cpml(s, FD_ANISO_T);
        fd_cpu_tti_pass(s, 1);
    }
    if (cpml)
        fd_cpu_aniso_cpml(s, FD_ANISO_VEL);
    if (L->free_surface)
        fd_cpu_image(s, s->f[3], 1);
    if (L->eq == FD_VTI)
        fd_cpu_vti_pass(s, true);
    else {
        fd_cpu_tti_pass(s, 2);
        fd_cpu_tti_pass(s, 3);
    }
    if (cpml)
        fd_cpu_aniso_cpml(s, FD_ANISO_STRESS);
#pragma omp single
    {
        add_source(s, p, amp);
        add_source(s, s->f[4], amp);
    }
    if (!cpml)
        fd_cpu_sponge(s, s->f, 5);
    if (L->free_surface) {
        fd_cpu_image(s, p, 0);
        fd_cpu_image(s, s->f[4], 0);
    }
}

/* Makes the calling thread flush denormal results and inputs to zero (x86
 * MXCSR FTZ and DAZ) and returns the previous state for ftz_end. Waves decay
 * into the absorbing layers and precede their front by tiny values: as
 * denormals they made a vti step 4.5x slower (measured). Values below 1.2e-38
 * become 0; the CUDA back end keeps them, which the 1e-4 comparison allows. */
static unsigned ftz_begin(void)
{
#if defined(__SSE__)
    const unsigned csr = _mm_getcsr();
    _mm_setcsr(csr | 0x8040u);
    return csr;
#else
    return 0;
#endif
}

/* Restores the floating-point state ftz_begin returned (the caller's thread
 * and OpenMP's pool threads are left as they were). */
static void ftz_end(unsigned csr)
{
#if defined(__SSE__)
    _mm_setcsr(csr);
#else
    (void)csr;
#endif
}

/* One time step. All threads run the whole sequence in one parallel region;
 * each kernel is an orphaned `omp for` whose implicit barrier orders it
 * before the next. The order of operations is the CUDA back end's. */
static int cpu_step(void *state, float amp, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct fd_cpu *s = state;
    const struct fd_layout *L = s->L;
    float *p = s->f[0], *pn = s->f[1];
#pragma omp parallel num_threads(s->nth)
    {
        const unsigned csr = ftz_begin();
        if (L->eq == FD_ACOUSTIC2) {
            /* p+ = 2p - p- + v^2 dt^2 lap p, written over p-. */
            fd_cpu_a2_main(s, p, pn);
            if (L->boundary == FD_BOUNDARY_CPML)
                fd_cpu_a2_cpml(s, p, pn);
            else
                fd_cpu_sponge(s, (float *[]){p, pn}, 2);
#pragma omp single
            add_source(s, pn, amp);
            if (L->free_surface)
                fd_cpu_image(s, pn, 0);
        } else if (L->eq == FD_VTI || L->eq == FD_TTI) {
            aniso_step(s, amp);
        } else {
            fd_cpu_a1_vel(s);
            if (L->boundary == FD_BOUNDARY_CPML)
                fd_cpu_a1_cpml_vel(s);
            if (L->free_surface)
                fd_cpu_image(s, s->f[3], 1);
            fd_cpu_a1_pres(s);
            if (L->boundary == FD_BOUNDARY_CPML)
                fd_cpu_a1_cpml_pres(s);
#pragma omp single
            add_source(s, p, amp);
            if (L->boundary == FD_BOUNDARY_SPONGE)
                fd_cpu_sponge(s, s->f, 4);
            if (L->free_surface)
                fd_cpu_image(s, p, 0);
        }
        ftz_end(csr);
    }
    if (L->eq == FD_ACOUSTIC2) {
        s->f[0] = pn;
        s->f[1] = p;
    }
    return 0;
}

/* Gathers the receivers into a slot of the record buffer. */
static int cpu_record(void *state, int slot, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct fd_cpu *s = state;
    const float *p = s->f[0];
    float *out = s->recbuf + (size_t)slot * s->nrec;
    for (size_t r = 0; r < s->nrec; r++) {
        const struct fd_interp *q = &s->rec[r];
        float v = 0.0f;
        for (int j = 0; j < 8; j++)
            v += q->w[j] * p[q->idx[j]];
        out[r] = v;
    }
    return 0;
}

/* Copies count slots of the record buffer to host. */
static int cpu_fetch(void *state, int count, float *host, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct fd_cpu *s = state;
    memcpy(host, s->recbuf, (size_t)count * s->nrec * sizeof(float));
    return 0;
}

/* Copies the model part of the pressure to host (model layout). */
static int cpu_snapshot(void *state, float *host, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct fd_cpu *s = state;
    const struct fd_layout *L = s->L;
    for (int64_t y = 0; y < L->mn[1]; y++)
        for (int64_t x = 0; x < L->mn[0]; x++) {
            const float *col =
                s->f[0] + fd_cpu_idx(L, L->off[0] + x, L->off[1] + y, L->off[2]);
            memcpy(host + (y * L->mn[0] + x) * L->mn[2], col,
                   (size_t)L->mn[2] * sizeof(float));
        }
    return 0;
}

/* Replaces model array which. See fd_backend_ops.set_model. */
static int cpu_set_model(void *state, int which, const float *host, char *err,
                         size_t errlen)
{
    struct fd_cpu *s = state;
    if (which < 0 || which >= s->nm) {
        if (err && errlen)
            snprintf(err, errlen, "fd cpu: no model array %d", which);
        return -1;
    }
    memcpy(s->m[which], host, s->L->cells * sizeof(float));
    return 0;
}

const struct fd_backend_ops fd_cpu_ops = {
    .name = "cpu",
    .create = cpu_create,
    .begin_shot = cpu_begin_shot,
    .step = cpu_step,
    .record = cpu_record,
    .fetch = cpu_fetch,
    .snapshot = cpu_snapshot,
    .set_model = cpu_set_model,
    .destroy = cpu_destroy,
};
