/* fd_engine: front end of the FD engine. Validates jobs, pads the model, builds
 * the CPML/sponge profiles and interpolation tables, and drives the time loop
 * over a back end (fd_backend.h). No arithmetic on wavefields happens here. */
#include "fd/fd_engine.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fd/fd_backend.h"
#include "fd/fd_stencil.h"

#define FD_PI 3.14159265358979323846
#define FD_SPONGE_EDGE 0.3        /* Cerjan: g = exp(-(0.3 xi)^2), 0.914 at the edge */
#define FD_CHUNK_BYTES (8u << 20) /* record buffer per chunk */
#define FD_MAX_CHUNK 4096
#define FD_TILT_RAMP 0.5 /* tti + CPML: VTI beyond this depth into the layer */

struct fd_engine {
    const struct fd_backend_ops *ops; /* cpu or cuda */
    void *state;                      /* back-end state */
    struct fd_layout L;               /* grid layout and profiles (owned) */
    struct fd_grid grid;              /* model grid as given */
    struct fd_params params;          /* parameters as given (validated) */
    double vmax;                      /* largest velocity of the model */
    float *aniso[2];                  /* aniso_taper: untapered padded m[2], m[3] */
    float *tapered[2];                /* aniso_taper: per-shot copies */
};

/* Formats a one-line message into err (may be NULL). Returns -1. */
static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* CFL limit of fd_engine.h; 0 for invalid input. */
double fd_max_stable_dt(enum fd_equation eq, const struct fd_grid *grid, double vmax)
{
    if (!grid || !(vmax > 0) || !(grid->dx > 0) || !(grid->dy > 0) || !(grid->dz > 0))
        return 0.0;
    double s = 1.0 / (grid->dx * grid->dx) + 1.0 / (grid->dy * grid->dy) +
               1.0 / (grid->dz * grid->dz);
    /* vti, tti: vmax = max vp sqrt(1 + 2 eps); for tti too, since the rotated
     * operator's spectrum is bounded by the unrotated one (docs/fd.md) */
    if (eq == FD_ACOUSTIC1 || eq == FD_VTI || eq == FD_TTI)
        return 2.0 / (vmax * 2.0 * FD_CS_ABSSUM * sqrt(s));
    return 2.0 / (vmax * sqrt(FD_C2_ABSSUM * s));
}

/* See fd_engine.h: asks the CUDA back end (or its stub). */
bool fd_cuda_available(void)
{
    return fd_cuda_probe();
}

/* Checks grid and parameters. Returns 0 or -1 with err. */
static int check_params(const struct fd_grid *g, const struct fd_params *p, char *err,
                        size_t errlen)
{
    if (!g || !p)
        return fail(err, errlen, "fd: grid and params are required");
    if (g->nx < 2 || g->ny < 2 || g->nz < 2)
        return fail(err, errlen, "fd: grid %dx%dx%d: need at least 2 cells per axis",
                    g->nx, g->ny, g->nz);
    if (!(g->dx > 0) || !(g->dy > 0) || !(g->dz > 0) || !isfinite(g->dx) ||
        !isfinite(g->dy) || !isfinite(g->dz))
        return fail(err, errlen, "fd: grid spacing %g,%g,%g: must be positive", g->dx,
                    g->dy, g->dz);
    if (p->equation != FD_ACOUSTIC2 && p->equation != FD_ACOUSTIC1 &&
        p->equation != FD_VTI && p->equation != FD_TTI)
        return fail(err, errlen, "fd: unknown equation %d", (int)p->equation);
    if (!(p->aniso_taper >= 0.0) || !isfinite(p->aniso_taper))
        return fail(err, errlen, "fd: aniso_taper %g m: must be >= 0", p->aniso_taper);
    if (p->boundary != FD_BOUNDARY_CPML && p->boundary != FD_BOUNDARY_SPONGE)
        return fail(err, errlen, "fd: unknown boundary %d", (int)p->boundary);
    if (p->boundary_width < 0 || p->boundary_width > 1000)
        return fail(err, errlen, "fd: boundary_width %d: expected 0..1000",
                    p->boundary_width);
    if (p->nt < 1)
        return fail(err, errlen, "fd: nt %d: need at least one step", p->nt);
    if (!(p->dt > 0) || !isfinite(p->dt))
        return fail(err, errlen, "fd: dt %g: must be positive", p->dt);
    if (p->record_every < 1)
        return fail(err, errlen, "fd: record_every %d: must be >= 1", p->record_every);
    if (p->snapshot_every < 0)
        return fail(err, errlen, "fd: snapshot_every %d: must be >= 0",
                    p->snapshot_every);
    if (!(p->fpeak >= 0) || !isfinite(p->fpeak))
        return fail(err, errlen, "fd: fpeak %g: must be >= 0", p->fpeak);
    if (p->threads < 0)
        return fail(err, errlen, "fd: threads %d: must be >= 0", p->threads);
    return 0;
}

/* Target CPML reflection coefficient for a layer of w cells (Collino & Tsogka's
 * rule of thumb: 1e-3 at 10 cells, 1e-4 at 20, ...). */
static double cpml_reflection(int w)
{
    double r = pow(10.0, -((log10((double)w) - 1.0) / log10(2.0) + 3.0));
    if (r > 1e-2)
        r = 1e-2;
    if (r < 1e-6)
        r = 1e-6;
    return r;
}

/* Normalised depth xi in [0, 1] of position x (compute coords) into the
 * absorbing layers [0, wlo) and (wlo + mn - 1, wlo + mn - 1 + whi]. */
static double layer_depth(double x, int64_t wlo, int64_t whi, int64_t mn)
{
    double xi = 0.0;
    if (wlo > 0 && x < (double)wlo)
        xi = ((double)wlo - x) / (double)wlo;
    else if (whi > 0 && x > (double)(wlo + mn - 1))
        xi = (x - (double)(wlo + mn - 1)) / (double)whi;
    return xi > 1.0 ? 1.0 : xi;
}

/* Fills CPML coefficients a, b for one axis at positions i + shift. */
static void cpml_profile(float *a, float *b, int64_t n, int64_t wlo, int64_t whi,
                         int64_t mn, double d, double vmax, double fpeak, double dt,
                         double shift)
{
    for (int64_t i = 0; i < n; i++) {
        double x = (double)i + shift;
        double xi = layer_depth(x, wlo, whi, mn);
        int64_t w = (x < (double)wlo) ? wlo : whi;
        if (xi <= 0.0 || w <= 0) {
            a[i] = 0.0f;
            b[i] = 1.0f;
            continue;
        }
        double d0 = -3.0 * vmax * log(cpml_reflection((int)w)) / (2.0 * (double)w * d);
        double damp = d0 * xi * xi;
        double alpha = FD_PI * fpeak * (1.0 - xi);
        double bb = exp(-(damp + alpha) * dt);
        b[i] = (float)bb;
        a[i] = (float)(damp / (damp + alpha) * (bb - 1.0));
    }
}

/* Sets up sizes, strides, weights, slabs and shell boxes (no allocation). */
static int layout_init(struct fd_layout *L, const struct fd_grid *g,
                       const struct fd_params *p, char *err, size_t errlen)
{
    memset(L, 0, sizeof *L);
    L->eq = p->equation;
    L->boundary = p->boundary;
    L->free_surface = p->free_surface;
    L->threads = p->threads;
    int64_t bw = p->boundary_width;
    int64_t wlo[3] = {bw, bw, p->free_surface ? 0 : bw};
    int64_t mn[3] = {g->nx, g->ny, g->nz};
    double d[3] = {g->dx, g->dy, g->dz};
    for (int a = 0; a < 3; a++) {
        L->mn[a] = mn[a];
        L->off[a] = wlo[a];
        L->n[a] = mn[a] + wlo[a] + bw;
        L->m[a] = L->n[a] + 2 * FD_HALO;
    }
    L->m[2] = (L->m[2] + 15) / 16 * 16;
    L->sx = L->m[2];
    L->sy = L->m[0] * L->m[2];
    double cells = (double)L->m[0] * (double)L->m[1] * (double)L->m[2];
    if (cells > 4e12)
        return fail(err, errlen, "fd: padded grid of %.3g cells is too large", cells);
    L->cells = (size_t)L->m[0] * (size_t)L->m[1] * (size_t)L->m[2];

    const double c2[5] = {FD_C2_0, FD_C2_1, FD_C2_2, FD_C2_3, FD_C2_4};
    const double c1[5] = {0, FD_C1_1, FD_C1_2, FD_C1_3, FD_C1_4};
    const double cs[5] = {0, FD_CS_1, FD_CS_2, FD_CS_3, FD_CS_4};
    for (int a = 0; a < 3; a++) {
        for (int k = 0; k < 5; k++) {
            L->w2[a][k] = (float)(c2[k] / (d[a] * d[a]));
            L->w1[a][k] = (float)(c1[k] / d[a]);
            L->ws[a][k] = (float)(cs[k] / d[a]);
        }
    }

    /* CPML slabs: each axis' layers, one cell wider on the inner side so that
     * half-point profiles just outside the model are covered too; */
    if (p->boundary == FD_BOUNDARY_CPML) {
        /* z slabs first: the CPU back end applies them column by column during
         * the interior sweep, before the x and y slabs. */
        const int order[3] = {2, 0, 1};
        for (int o = 0; o < 3; o++) {
            const int a = order[o];
            for (int side = 0; side < 2; side++) {
                int64_t w = side ? bw : wlo[a];
                if (w <= 0)
                    continue;
                struct fd_slab *s = &L->slab[L->nslab++];
                s->axis = a;
                for (int b = 0; b < 3; b++) {
                    s->box.lo[b] = 0;
                    s->box.hi[b] = L->n[b];
                }
                if (side == 0)
                    s->box.hi[a] = w + 1 < L->n[a] ? w + 1 : L->n[a];
                else
                    s->box.lo[a] = L->n[a] - w - 1 > 0 ? L->n[a] - w - 1 : 0;
                s->cells = 1;
                for (int b = 0; b < 3; b++) {
                    s->m[b] = s->box.hi[b] - s->box.lo[b] + 2 * FD_HALO;
                    s->cells *= (size_t)s->m[b];
                }
            }
        }
    } else {
        /* Sponge: disjoint boxes; x layers full, y layers inside x, z inside both. */
        int64_t in_lo[3], in_hi[3];
        for (int a = 0; a < 3; a++) {
            in_lo[a] = wlo[a];
            in_hi[a] = L->n[a] - bw;
        }
        for (int a = 0; a < 3; a++) {
            for (int side = 0; side < 2; side++) {
                int64_t w = side ? bw : wlo[a];
                if (w <= 0)
                    continue;
                struct fd_box *bx = &L->shell[L->nshell++];
                for (int b = 0; b < 3; b++) {
                    bx->lo[b] = b < a ? in_lo[b] : 0;
                    bx->hi[b] = b < a ? in_hi[b] : L->n[b];
                }
                if (side == 0)
                    bx->hi[a] = w;
                else
                    bx->lo[a] = L->n[a] - w;
            }
        }
    }
    return 0;
}

/* Frees the profile arrays of a layout. */
static void layout_free(struct fd_layout *L)
{
    for (int a = 0; a < 3; a++) {
        free(L->pa[a]);
        free(L->pb[a]);
        free(L->pah[a]);
        free(L->pbh[a]);
        free(L->g[a]);
        L->pa[a] = L->pb[a] = L->pah[a] = L->pbh[a] = L->g[a] = NULL;
    }
}

/* Allocates and fills the CPML or sponge profiles. Returns 0 or -1 with err. */
static int layout_profiles(struct fd_layout *L, const struct fd_grid *g,
                           const struct fd_params *p, double vmax, char *err,
                           size_t errlen)
{
    double d[3] = {g->dx, g->dy, g->dz};
    for (int a = 0; a < 3; a++) {
        size_t n = (size_t)L->n[a];
        int64_t wlo = L->off[a], whi = p->boundary_width;
        if (p->boundary == FD_BOUNDARY_CPML) {
            L->pa[a] = malloc(n * sizeof(float));
            L->pb[a] = malloc(n * sizeof(float));
            L->pah[a] = malloc(n * sizeof(float));
            L->pbh[a] = malloc(n * sizeof(float));
            if (!L->pa[a] || !L->pb[a] || !L->pah[a] || !L->pbh[a])
                goto out_nomem;
            cpml_profile(L->pa[a], L->pb[a], L->n[a], wlo, whi, L->mn[a], d[a], vmax,
                         p->fpeak, p->dt, 0.0);
            cpml_profile(L->pah[a], L->pbh[a], L->n[a], wlo, whi, L->mn[a], d[a], vmax,
                         p->fpeak, p->dt, 0.5);
        } else {
            L->g[a] = malloc(n * sizeof(float));
            if (!L->g[a])
                goto out_nomem;
            for (int64_t i = 0; i < L->n[a]; i++) {
                double xi = layer_depth((double)i, wlo, whi, L->mn[a]);
                L->g[a][i] = (float)exp(-(FD_SPONGE_EDGE * xi) * (FD_SPONGE_EDGE * xi));
            }
        }
    }
    return 0;
out_nomem:
    layout_free(L);
    return fail(err, errlen, "fd: out of memory for boundary profiles");
}

/* Field index of compute point (x, y, z). */
static int64_t lidx(const struct fd_layout *L, int64_t x, int64_t y, int64_t z)
{
    return (y + FD_HALO) * L->sy + (x + FD_HALO) * L->sx + (z + FD_HALO);
}

/* tti with CPML: the factor applied to the tilt at compute point (x, y, z):
 * 1 in the model, falling as cos^2 to 0 at the normalised depth FD_TILT_RAMP
 * into the absorbing layer of any axis, 0 beyond. A CPML in a tilted medium
 * grows (measured: 2e5 x in 4,000 steps); in the VTI part of the layer it does
 * not (docs/fd.md). */
static double tilt_keep(const struct fd_layout *L, int64_t x, int64_t y, int64_t z)
{
    const int64_t c[3] = {x, y, z};
    double xi = 0.0;
    for (int a = 0; a < 3; a++) {
        const int64_t whi = L->n[a] - L->off[a] - L->mn[a];
        const double d = layer_depth((double)c[a], L->off[a], whi, L->mn[a]);
        xi = d > xi ? d : xi;
    }
    if (xi >= FD_TILT_RAMP)
        return 0.0;
    const double k = cos(0.5 * FD_PI * xi / FD_TILT_RAMP);
    return k * k;
}

/* Fills a padded model array from a model-layout one, extending edge values
 * into the absorbing layers and the halo. what: 0 = v^2 dt^2 (acoustic2),
 * 1 = dt rho v^2, 2 = dt / rho (acoustic1; rho defaults to 1000), 3 = 1 + 2 eps,
 * 4 = sqrt(1 + 2 delta) (vti; NULL arrays are 0), 5..7 = symmetry axis
 * x, y, z components sin t cos f, sin t sin f, cos t (tti; degrees; with CPML
 * the tilt t is tapered to 0 in the layers, tilt_keep). */
static void pad_model(const struct fd_layout *L, float *dst, const struct fd_model *mo,
                      double dt, int what)
{
    int64_t H = FD_HALO;
    for (int64_t y = -H; y < L->n[1] + H; y++) {
        int64_t my = y - L->off[1];
        my = my < 0 ? 0 : (my >= L->mn[1] ? L->mn[1] - 1 : my);
        for (int64_t x = -H; x < L->n[0] + H; x++) {
            int64_t mx = x - L->off[0];
            mx = mx < 0 ? 0 : (mx >= L->mn[0] ? L->mn[0] - 1 : mx);
            float *col = dst + lidx(L, x, y, 0);
            const size_t base =
                ((size_t)my * (size_t)L->mn[0] + (size_t)mx) * (size_t)L->mn[2];
            for (int64_t z = -H; z < L->m[2] - H; z++) {
                int64_t mz = z - L->off[2];
                mz = mz < 0 ? 0 : (mz >= L->mn[2] ? L->mn[2] - 1 : mz);
                const size_t c = base + (size_t)mz;
                double v = mo->vp[c];
                double r = mo->rho ? mo->rho[c] : 1000.0;
                double out;
                const double deg = FD_PI / 180.0;
                double t = mo->theta ? mo->theta[c] * deg : 0.0;
                if (what >= 5 && L->boundary == FD_BOUNDARY_CPML)
                    t *= tilt_keep(L, x, y, z);
                const double f = mo->phi ? mo->phi[c] * deg : 0.0;
                if (what == 5)
                    out = sin(t) * cos(f);
                else if (what == 6)
                    out = sin(t) * sin(f);
                else if (what == 7)
                    out = cos(t);
                else if (what == 3)
                    out = 1.0 + 2.0 * (mo->epsilon ? mo->epsilon[c] : 0.0f);
                else if (what == 4)
                    out = sqrt(1.0 + 2.0 * (mo->delta ? mo->delta[c] : 0.0f));
                else if (what == 0)
                    out = v * v * dt * dt; /* acoustic2: v^2 dt^2 */
                else if (what == 1)
                    out = dt * r * v * v; /* acoustic1: dt kappa */
                else
                    out = dt / r; /* acoustic1: dt buoyancy */
                col[z] = (float)out;
            }
        }
    }
}

/* Checks model values; sets *vmax. Returns 0 or -1 with err. */
static int check_model(const struct fd_grid *g, const struct fd_model *m, double *vmax,
                       char *err, size_t errlen)
{
    if (!m || !m->vp)
        return fail(err, errlen, "fd: model velocity array is required");
    size_t n = (size_t)g->nx * (size_t)g->ny * (size_t)g->nz;
    double hi = 0.0;
    for (size_t i = 0; i < n; i++) {
        float v = m->vp[i];
        if (!(v > 0.0f) || !isfinite(v))
            return fail(err, errlen, "fd: velocity %g at cell %zu: must be positive",
                        (double)v, i);
        double vq = v; /* fastest qP speed: vp sqrt(1 + 2 eps) */
        if (m->epsilon && isfinite(m->epsilon[i]) && m->epsilon[i] > 0.0f)
            vq = v * sqrt(1.0 + 2.0 * m->epsilon[i]);
        if (vq > hi)
            hi = vq;
        if ((m->epsilon && !isfinite(m->epsilon[i])) ||
            (m->delta && !isfinite(m->delta[i])))
            return fail(err, errlen, "fd: epsilon/delta at cell %zu: not finite", i);
        if (m->epsilon && m->delta && m->epsilon[i] < m->delta[i])
            return fail(err, errlen,
                        "fd: epsilon %g < delta %g at cell %zu: need epsilon >= delta",
                        (double)m->epsilon[i], (double)m->delta[i], i);
        if (m->delta && !(m->delta[i] > -0.5f))
            return fail(err, errlen, "fd: delta %g at cell %zu: must be > -0.5",
                        (double)m->delta[i], i);
        if ((m->theta && !(fabsf(m->theta[i]) <= 90.0f)) ||
            (m->phi && !(fabsf(m->phi[i]) <= 360.0f)))
            return fail(err, errlen,
                        "fd: theta/phi at cell %zu: need |theta| <= 90, |phi| <= 360 "
                        "degrees",
                        i);
        if (m->rho && (!(m->rho[i] > 0.0f) || !isfinite(m->rho[i])))
            return fail(err, errlen, "fd: density %g at cell %zu: must be positive",
                        (double)m->rho[i], i);
    }
    *vmax = hi;
    return 0;
}

/* aniso_taper: keeps the untapered padded m[2] = 1 + 2 eps and m[3] =
 * sqrt(1 + 2 delta) and allocates the per-shot copies. Returns 0 or -1 with err. */
static int taper_init(struct fd_engine *e, float *const *m, char *err, size_t errlen)
{
    for (int i = 0; i < 2; i++) {
        e->aniso[i] = malloc(e->L.cells * sizeof(float));
        e->tapered[i] = malloc(e->L.cells * sizeof(float));
        if (!e->aniso[i] || !e->tapered[i])
            return fail(err, errlen, "fd: out of memory for the aniso_taper copies");
        memcpy(e->aniso[i], m[2 + i], e->L.cells * sizeof(float));
    }
    return 0;
}

/* aniso_taper: scales eps and delta by w(r) = sin^2(pi r / 2R) within R of the
 * source (w = 1 beyond; eps >= delta is kept) and uploads m[2], m[3]. Returns 0
 * or -1 with err. */
static int taper_shot(struct fd_engine *e, const struct fd_point *src, char *err,
                      size_t errlen)
{
    const struct fd_layout *L = &e->L;
    const double R = e->params.aniso_taper;
    const double d[3] = {e->grid.dx, e->grid.dy, e->grid.dz};
    const double c[3] = {src->x, src->y, src->z};
    int64_t lo[3], hi[3];
    for (int a = 0; a < 3; a++) {
        /* compute index of model coordinate u: off + u / d */
        lo[a] = (int64_t)floor((c[a] - R) / d[a]) + L->off[a];
        hi[a] = (int64_t)ceil((c[a] + R) / d[a]) + L->off[a] + 1;
        lo[a] = lo[a] < 0 ? 0 : lo[a];
        hi[a] = hi[a] > L->n[a] ? L->n[a] : hi[a];
    }
    for (int i = 0; i < 2; i++)
        memcpy(e->tapered[i], e->aniso[i], L->cells * sizeof(float));
    for (int64_t y = lo[1]; y < hi[1]; y++)
        for (int64_t x = lo[0]; x < hi[0]; x++)
            for (int64_t z = lo[2]; z < hi[2]; z++) {
                double rx = (double)(x - L->off[0]) * d[0] - c[0];
                double ry = (double)(y - L->off[1]) * d[1] - c[1];
                double rz = (double)(z - L->off[2]) * d[2] - c[2];
                double r = sqrt(rx * rx + ry * ry + rz * rz);
                if (r >= R)
                    continue;
                double w = sin(0.5 * FD_PI * r / R);
                w *= w;
                int64_t k = lidx(L, x, y, z);
                double e1 = e->aniso[0][k] - 1.0, q = e->aniso[1][k];
                e->tapered[0][k] = (float)(1.0 + w * e1);
                e->tapered[1][k] = (float)sqrt(1.0 + w * (q * q - 1.0));
            }
    for (int i = 0; i < 2; i++)
        if (e->ops->set_model(e->state, 2 + i, e->tapered[i], err, errlen) != 0)
            return -1;
    return 0;
}

/* See fd_engine.h. Checks everything before allocating; on failure nothing
 * stays allocated. The padded model arrays are built here and copied by the
 * back end, then freed. */
struct fd_engine *fd_engine_create(enum fd_device_kind kind, int ordinal,
                                   const struct fd_grid *grid,
                                   const struct fd_model *model,
                                   const struct fd_params *params, char *err,
                                   size_t errlen)
{
    const struct fd_backend_ops *ops;
    if (kind == FD_DEVICE_CPU)
        ops = &fd_cpu_ops;
    else if (kind == FD_DEVICE_CUDA)
        ops = &fd_cuda_ops;
    else {
        fail(err, errlen, "fd: unknown device kind %d", (int)kind);
        return NULL;
    }
    if (check_params(grid, params, err, errlen) != 0)
        return NULL;
    double vmax = 0.0;
    if (check_model(grid, model, &vmax, err, errlen) != 0)
        return NULL;
    double dtmax = fd_max_stable_dt(params->equation, grid, vmax);
    if (params->dt > dtmax) {
        fail(err, errlen, "fd: dt %g s exceeds the stability limit %g s (vmax %g m/s)",
             params->dt, dtmax, vmax);
        return NULL;
    }
    struct fd_engine *e = calloc(1, sizeof *e);
    if (!e) {
        fail(err, errlen, "fd: out of memory for the engine");
        return NULL;
    }
    e->ops = ops;
    e->grid = *grid;
    e->params = *params;
    e->vmax = vmax;
    if (layout_init(&e->L, grid, params, err, errlen) != 0)
        goto out_free_engine;
    if (layout_profiles(&e->L, grid, params, vmax, err, errlen) != 0)
        goto out_free_engine;

    float *m[FD_MAX_MODEL] = {NULL};
    static const int nms[] = {1, 2, 4, 7}; /* model arrays by equation */
    int nm = nms[params->equation];
    for (int i = 0; i < nm; i++) {
        m[i] = malloc(e->L.cells * sizeof(float));
        if (!m[i]) {
            fail(err, errlen, "fd: out of memory for the padded model (%zu cells)",
                 e->L.cells);
            goto out_free_model;
        }
        memset(m[i], 0, e->L.cells * sizeof(float));
        pad_model(&e->L, m[i], model, params->dt,
                  params->equation == FD_ACOUSTIC2 ? 0 : 1 + i);
    }
    const float *cm[FD_MAX_MODEL];
    for (int i = 0; i < FD_MAX_MODEL; i++)
        cm[i] = m[i];
    bool aniso = params->equation == FD_VTI || params->equation == FD_TTI;
    int rc = ops->create(&e->state, &e->L, cm, ordinal, err, errlen);
    if (rc == 0 && aniso && params->aniso_taper > 0.0)
        rc = taper_init(e, m, err, errlen);
    for (int i = 0; i < FD_MAX_MODEL; i++)
        free(m[i]);
    if (rc != 0) {
        if (e->state)
            ops->destroy(e->state);
        for (int i = 0; i < 2; i++) {
            free(e->aniso[i]);
            free(e->tapered[i]);
        }
        goto out_free_layout;
    }
    return e;

out_free_model:
    for (int i = 0; i < FD_MAX_MODEL; i++)
        free(m[i]);
out_free_layout:
    layout_free(&e->L);
out_free_engine:
    free(e);
    return NULL;
}

/* See fd_engine.h. */
void fd_engine_destroy(struct fd_engine *e)
{
    if (!e)
        return;
    e->ops->destroy(e->state);
    layout_free(&e->L);
    for (int i = 0; i < 2; i++) {
        free(e->aniso[i]);
        free(e->tapered[i]);
    }
    free(e);
}

/* Record buffer chunk (samples) for nrec receivers and nsamp output samples. */
static int chunk_samples(size_t nrec, int nsamp)
{
    size_t c = nrec ? FD_CHUNK_BYTES / (nrec * sizeof(float)) : (size_t)FD_MAX_CHUNK;
    if (c < 1)
        c = 1;
    if (c > FD_MAX_CHUNK)
        c = FD_MAX_CHUNK;
    if (c > (size_t)nsamp)
        c = (size_t)nsamp;
    return (int)c;
}

/* See fd_engine.h; 0 for invalid parameters. Mirrors what the back ends
 * allocate (fields, model, CPML slabs, profiles, receiver tables and buffer). */
uint64_t fd_engine_mem_estimate(const struct fd_grid *grid,
                                const struct fd_params *params, size_t nrec)
{
    struct fd_layout L;
    if (check_params(grid, params, NULL, 0) != 0 ||
        layout_init(&L, grid, params, NULL, 0) != 0)
        return 0;
    /* wavefields + model: a2 2 + 1, a1 4 + 2, vti 5 + 4, tti 8 + 7 */
    static const uint64_t nfields[] = {3, 6, 9, 15};
    uint64_t fields = nfields[params->equation];
    uint64_t bytes = fields * (uint64_t)L.cells * sizeof(float);
    /* CPML memory per slab: psi, zeta; tti also psi2, zeta2 */
    const uint64_t per_slab = params->equation == FD_TTI ? 4u : 2u;
    for (int i = 0; i < L.nslab; i++)
        bytes += per_slab * (uint64_t)L.slab[i].cells * sizeof(float);
    for (int a = 0; a < 3; a++)
        bytes += 5u * (uint64_t)L.n[a] * sizeof(float);
    int nsamp = (params->nt + params->record_every - 1) / params->record_every;
    bytes += (uint64_t)nrec * sizeof(struct fd_interp);
    bytes += (uint64_t)nrec * (uint64_t)chunk_samples(nrec, nsamp) * sizeof(float);
    return bytes;
}

/* Builds the trilinear weights of a point, scaled by scale. Returns 0 or -1. */
static int interp_point(const struct fd_engine *e, const struct fd_point *pt,
                        double scale, struct fd_interp *out, const char *what,
                        size_t which, char *err, size_t errlen)
{
    const double pos[3] = {pt->x, pt->y, pt->z};
    const double d[3] = {e->grid.dx, e->grid.dy, e->grid.dz};
    int64_t i0[3];
    double f[3];
    for (int a = 0; a < 3; a++) {
        double c = pos[a] / d[a];
        double top = (double)(e->L.mn[a] - 1);
        if (!isfinite(c) || c < -1e-9 || c > top + 1e-9)
            return fail(err, errlen,
                        "fd: %s %zu at (%g, %g, %g) m lies outside the model", what,
                        which, pt->x, pt->y, pt->z);
        c = c < 0 ? 0 : (c > top ? top : c);
        int64_t i = (int64_t)floor(c);
        if (i > e->L.mn[a] - 2)
            i = e->L.mn[a] - 2;
        i0[a] = i;
        f[a] = c - (double)i;
    }
    int j = 0;
    for (int dy = 0; dy < 2; dy++)
        for (int dx = 0; dx < 2; dx++)
            for (int dz = 0; dz < 2; dz++, j++) {
                double w = (dx ? f[0] : 1 - f[0]) * (dy ? f[1] : 1 - f[1]) *
                           (dz ? f[2] : 1 - f[2]);
                out->idx[j] = lidx(&e->L, e->L.off[0] + i0[0] + dx,
                                   e->L.off[1] + i0[1] + dy, e->L.off[2] + i0[2] + dz);
                out->w[j] = (float)(w * scale);
            }
    return 0;
}

/* Monotonic wall clock in seconds. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* See fd_engine.h. The time loop: record (every k-th step), snapshot, step.
 * The last sample needs no step after it. */
int fd_engine_run(struct fd_engine *e, const struct fd_shot *shot, struct fd_stats *stats,
                  char *err, size_t errlen)
{
    if (!e || !shot)
        return fail(err, errlen, "fd: engine and shot are required");
    if (!shot->wavelet)
        return fail(err, errlen, "fd: shot has no wavelet");
    if (!shot->on_samples)
        return fail(err, errlen, "fd: shot has no on_samples callback");
    if (shot->nrec > 0 && !shot->receivers)
        return fail(err, errlen, "fd: shot has %zu receivers but no positions",
                    shot->nrec);
    const struct fd_params *p = &e->params;
    const double dv = e->grid.dx * e->grid.dy * e->grid.dz;
    struct fd_interp src;
    if (interp_point(e, &shot->source, 1.0 / dv, &src, "source", 0, err, errlen) != 0)
        return -1;
    size_t nrec = shot->nrec;
    int nsamp = (p->nt + p->record_every - 1) / p->record_every;
    int chunk = chunk_samples(nrec, nsamp);
    struct fd_interp *rec = malloc((nrec ? nrec : 1) * sizeof *rec);
    float *buf = malloc((nrec ? nrec : 1) * (size_t)chunk * sizeof(float));
    bool snaps = shot->on_snapshot && p->snapshot_every > 0;
    size_t mcells = (size_t)e->grid.nx * (size_t)e->grid.ny * (size_t)e->grid.nz;
    float *snap = snaps ? malloc(mcells * sizeof(float)) : NULL;
    int rc = -1;
    if (!rec || !buf || (snaps && !snap)) {
        fail(err, errlen, "fd: out of memory for %zu receivers", nrec);
        goto out_free;
    }
    for (size_t r = 0; r < nrec; r++)
        if (interp_point(e, &shot->receivers[r], 1.0, &rec[r], "receiver", r, err,
                         errlen) != 0)
            goto out_free;
    if (e->aniso[0] && taper_shot(e, &shot->source, err, errlen) != 0)
        goto out_free;
    if (e->ops->begin_shot(e->state, &src, rec, nrec, chunk, err, errlen) != 0)
        goto out_free;

    /* acoustic1 injects dt * c^2 * (integral of w) into p each step: with the
     * staggered update this is exactly acoustic2's c^2 dt^2 w^n source. */
    double cum = 0.0;
    int slot = 0, first = 0;
    double t0 = now_s();
    for (int n = 0; n < p->nt; n++) {
        if (n % p->record_every == 0) {
            if (nrec && e->ops->record(e->state, slot, err, errlen) != 0)
                goto out_free;
            if (++slot == chunk) {
                if (nrec && e->ops->fetch(e->state, slot, buf, err, errlen) != 0)
                    goto out_free;
                if (nrec && shot->on_samples(shot->ctx, first, slot, buf) != 0) {
                    fail(err, errlen, "fd: shot aborted by the sample consumer");
                    goto out_free;
                }
                first += slot;
                slot = 0;
            }
        }
        if (snaps && n > 0 && n % p->snapshot_every == 0) {
            if (e->ops->snapshot(e->state, snap, err, errlen) != 0)
                goto out_free;
            if (shot->on_snapshot(shot->ctx, n, snap) != 0) {
                fail(err, errlen, "fd: shot aborted by the snapshot consumer");
                goto out_free;
            }
        }
        if (n == p->nt - 1)
            break; /* the last sample needs no further step */
        double amp = shot->wavelet[n];
        if (p->equation != FD_ACOUSTIC2) {
            cum += amp;
            amp = cum;
        }
        if (e->ops->step(e->state, (float)amp, err, errlen) != 0)
            goto out_free;
    }
    if (slot > 0) {
        if (nrec && e->ops->fetch(e->state, slot, buf, err, errlen) != 0)
            goto out_free;
        if (nrec && shot->on_samples(shot->ctx, first, slot, buf) != 0) {
            fail(err, errlen, "fd: shot aborted by the sample consumer");
            goto out_free;
        }
    }
    double secs = now_s() - t0;
    if (stats) {
        stats->seconds = secs;
        double pts = (double)e->L.n[0] * (double)e->L.n[1] * (double)e->L.n[2];
        stats->gpts = secs > 0 ? pts * (double)(p->nt - 1) / secs / 1e9 : 0.0;
    }
    rc = 0;
out_free:
    free(snap);
    free(buf);
    free(rec);
    return rc;
}
