/* fd_cpu_bnd: CPML, sponge and free-surface work of the CPU back end. Runs on
 * the slabs / shell boxes only. Operation order matches fd_cuda.cu.
 *
 * acoustic2 CPML (Pasalic & McGarry 2010, second-order form), per axis a:
 *     psi  = b psi  + a_coef d_a p
 *     zeta = b zeta + a_coef (d_aa p + d_a psi)
 *     p+  += v^2 dt^2 (d_a psi + zeta)
 * acoustic1 CPML (Komatitsch & Martin 2007): memory variables of d_a p at the
 * staggered velocity points and of d_a v_a at the pressure points.
 * vti/tti CPML: the same memory variables on every derivative along the slab's
 * axis of the first-order system (fd_cpu_aniso.c): psi of D+_a sH (sV for vti's
 * z) and zeta of D-_a v_a; tti adds psi2 of D+_a (sV - sH) (corrects T_a) and
 * zeta2 of D-_a U_a. Each correction runs after the pass it corrects.
 */
#include "fd/fd_cpu.h"

/* Staggered D-_a f at index z of a column kernel (weights c1..c4, stride st
 * along a), summed left to right as fd_cuda.cu's d_minus. */
#define FD_DMINUS(f)                                                                     \
    (c1 * ((f)[z] - (f)[z - st]) + c2 * ((f)[z + st] - (f)[z - 2 * st]) +                \
     c3 * ((f)[z + 2 * st] - (f)[z - 3 * st]) +                                          \
     c4 * ((f)[z + 3 * st] - (f)[z - 4 * st]))

/* Loop bounds and strides of one slab. */
struct slab_it {
    const struct fd_slab *sl; /* the slab */
    int a;                    /* its axis */
    int64_t st;               /* field stride along the axis */
    int64_t tt;               /* slab-array stride along the axis */
    int64_t nz;               /* points per z run */
};

/* Describes slab k of the layout. */
static struct slab_it slab_it(const struct fd_layout *L, int k)
{
    struct slab_it it;
    it.sl = &L->slab[k];
    it.a = it.sl->axis;
    it.st = it.a == 0 ? L->sx : (it.a == 1 ? L->sy : 1);
    it.tt = it.a == 0 ? it.sl->m[2] : (it.a == 1 ? it.sl->m[0] * it.sl->m[2] : 1);
    it.nz = it.sl->box.hi[2] - it.sl->box.lo[2];
    return it;
}

/* Slab-array index of compute point (x, y, z). */
static int64_t slab_idx(const struct fd_slab *sl, int64_t x, int64_t y, int64_t z)
{
    return ((y - sl->box.lo[1] + FD_HALO) * sl->m[0] + (x - sl->box.lo[0] + FD_HALO)) *
               sl->m[2] +
           (z - sl->box.lo[2] + FD_HALO);
}

/* Profile values of a column: the z profile varies along the run (zp), the
 * x and y ones are one value per column. */
struct colprof {
    const float *A, *B; /* z profiles from the run's first point, when zp */
    float a, b;         /* the column's values, when !zp */
    bool zp;            /* profile along z */
};

/* Profiles of column (x, y) of a slab for coefficient arrays pa, pb. */
static struct colprof colprof(const struct slab_it *it, float *const *pa,
                              float *const *pb, int64_t x, int64_t y)
{
    struct colprof c = {NULL, NULL, 0.0f, 1.0f, it->a == 2};
    if (c.zp) {
        c.A = pa[2] + it->sl->box.lo[2];
        c.B = pb[2] + it->sl->box.lo[2];
    } else {
        int64_t i = it->a == 0 ? x : y;
        c.a = pa[it->a][i];
        c.b = pb[it->a][i];
    }
    return c;
}

/* Runs LOOP(A, B) with the column's profile values A, B: along z (arrays
 * indexed by the loop's z) or one value per column. Two copies of the loop so
 * that each vectorises. */
#define FD_BY_PROFILE(LOOP, pr)                                                          \
    do {                                                                                 \
        if ((pr).zp) {                                                                   \
            LOOP((pr).A[z], (pr).B[z]);                                                  \
        } else {                                                                         \
            LOOP((pr).a, (pr).b);                                                        \
        }                                                                                \
    } while (0)

/* acoustic2 CPML, pass 1 on a column: psi = b psi + a d_a p. */
FD_CLONES static void a2_psi_column(int64_t nz, const float *restrict c,
                                    float *restrict ps, int64_t st, const float *w,
                                    struct colprof pr)
{
    const float c1 = w[1], c2 = w[2], c3 = w[3], c4 = w[4];
#define A2_PSI_LOOP(A, B)                                                                \
    for (int64_t z = 0; z < nz; z++) {                                                   \
        float d1 = c1 * (c[z + st] - c[z - st]);                                         \
        d1 += c2 * (c[z + 2 * st] - c[z - 2 * st]);                                      \
        d1 += c3 * (c[z + 3 * st] - c[z - 3 * st]);                                      \
        d1 += c4 * (c[z + 4 * st] - c[z - 4 * st]);                                      \
        ps[z] = (B)*ps[z] + (A)*d1;                                                      \
    }
    FD_BY_PROFILE(A2_PSI_LOOP, pr);
#undef A2_PSI_LOOP
}

/* acoustic2 CPML, pass 2 on a column: zeta = b zeta + a (d_aa p + d_a psi);
 * o += v (d_a psi + zeta). */
FD_CLONES static void a2_zeta_column(int64_t nz, const float *restrict c,
                                     const float *restrict v, const float *restrict ps,
                                     float *restrict ze, float *restrict o, int64_t st,
                                     int64_t tt, const float *w1, const float *w2,
                                     struct colprof pr)
{
    const float c1 = w1[1], c2 = w1[2], c3 = w1[3], c4 = w1[4];
    const float e0 = w2[0], e1 = w2[1], e2 = w2[2], e3 = w2[3], e4 = w2[4];
#define A2_ZETA_LOOP(A, B)                                                               \
    for (int64_t z = 0; z < nz; z++) {                                                   \
        float d2 = e0 * c[z];                                                            \
        d2 += e1 * (c[z + st] + c[z - st]);                                              \
        d2 += e2 * (c[z + 2 * st] + c[z - 2 * st]);                                      \
        d2 += e3 * (c[z + 3 * st] + c[z - 3 * st]);                                      \
        d2 += e4 * (c[z + 4 * st] + c[z - 4 * st]);                                      \
        float dp = c1 * (ps[z + tt] - ps[z - tt]);                                       \
        dp += c2 * (ps[z + 2 * tt] - ps[z - 2 * tt]);                                    \
        dp += c3 * (ps[z + 3 * tt] - ps[z - 3 * tt]);                                    \
        dp += c4 * (ps[z + 4 * tt] - ps[z - 4 * tt]);                                    \
        ze[z] = (B)*ze[z] + (A) * (d2 + dp);                                             \
        o[z] += v[z] * (dp + ze[z]);                                                     \
    }
    FD_BY_PROFILE(A2_ZETA_LOOP, pr);
#undef A2_ZETA_LOOP
}

/* acoustic1 CPML velocity correction on a column: psi = bh psi + ah D+ p;
 * v -= b_avg psi. */
FD_CLONES static void a1_vel_column(int64_t nz, const float *restrict c,
                                    const float *restrict bb, float *restrict ps,
                                    float *restrict v, int64_t st, const float *w,
                                    struct colprof pr)
{
    const float c1 = w[1], c2 = w[2], c3 = w[3], c4 = w[4];
#define A1_VEL_LOOP(A, B)                                                                \
    for (int64_t z = 0; z < nz; z++) {                                                   \
        float d = c1 * (c[z + st] - c[z]);                                               \
        d += c2 * (c[z + 2 * st] - c[z - st]);                                           \
        d += c3 * (c[z + 3 * st] - c[z - 2 * st]);                                       \
        d += c4 * (c[z + 4 * st] - c[z - 3 * st]);                                       \
        ps[z] = (B)*ps[z] + (A)*d;                                                       \
        v[z] -= 0.5f * (bb[z] + bb[z + st]) * ps[z];                                     \
    }
    FD_BY_PROFILE(A1_VEL_LOOP, pr);
#undef A1_VEL_LOOP
}

/* acoustic1 CPML pressure correction on a column: zeta = b zeta + a D- v;
 * p -= kappa zeta. */
FD_CLONES static void a1_pres_column(int64_t nz, const float *restrict v,
                                     const float *restrict kk, float *restrict ze,
                                     float *restrict pp, int64_t st, const float *w,
                                     struct colprof pr)
{
    const float c1 = w[1], c2 = w[2], c3 = w[3], c4 = w[4];
#define A1_PRES_LOOP(A, B)                                                               \
    for (int64_t z = 0; z < nz; z++) {                                                   \
        const float d = FD_DMINUS(v);                                                    \
        ze[z] = (B)*ze[z] + (A)*d;                                                       \
        pp[z] -= kk[z] * ze[z];                                                          \
    }
    FD_BY_PROFILE(A1_PRES_LOOP, pr);
#undef A1_PRES_LOOP
}

/* vti CPML stress correction on a column: zeta = b zeta + a D-_a v_a;
 * h -= kappa ch zeta, v -= kappa cv zeta (cv NULL: 1). */
FD_CLONES static void vti_pres_cpml_column(int64_t nz, const float *restrict u,
                                           const float *restrict kk,
                                           const float *restrict ch,
                                           const float *restrict cv, float *restrict ze,
                                           float *const *hv, int64_t st, const float *w,
                                           struct colprof pr)
{
    const float c1 = w[1], c2 = w[2], c3 = w[3], c4 = w[4];
    float *restrict h = hv[0], *restrict v = hv[1];
#define VTI_PRES_LOOP(A, B)                                                              \
    for (int64_t z = 0; z < nz; z++) {                                                   \
        const float d = FD_DMINUS(u);                                                    \
        ze[z] = (B)*ze[z] + (A)*d;                                                       \
        h[z] -= kk[z] * (ch[z] * ze[z]);                                                 \
        v[z] -= kk[z] * (CV * ze[z]);                                                    \
    }
    if (cv) {
#define CV cv[z]
        FD_BY_PROFILE(VTI_PRES_LOOP, pr);
#undef CV
    } else {
#define CV 1.0f
        FD_BY_PROFILE(VTI_PRES_LOOP, pr);
#undef CV
    }
#undef VTI_PRES_LOOP
}

/* tti CPML correction of T on a column: psi2 = bh psi2 + ah D+_a (sV - sH);
 * T_a += n_a psi2. fv = {sH, sV}. */
FD_CLONES static void tti_t_cpml_column(int64_t nz, const float *const *fv,
                                        const float *restrict na, float *restrict ps,
                                        float *restrict t, int64_t st, const float *w,
                                        struct colprof pr)
{
    const float c1 = w[1], c2 = w[2], c3 = w[3], c4 = w[4];
    const float *restrict h = fv[0], *restrict v = fv[1];
#define TTI_T_LOOP(A, B)                                                                 \
    for (int64_t z = 0; z < nz; z++) {                                                   \
        float d = c1 * ((v[z + st] - h[z + st]) - (v[z] - h[z]));                        \
        d += c2 * ((v[z + 2 * st] - h[z + 2 * st]) - (v[z - st] - h[z - st]));           \
        d += c3 * ((v[z + 3 * st] - h[z + 3 * st]) - (v[z - 2 * st] - h[z - 2 * st]));   \
        d += c4 * ((v[z + 4 * st] - h[z + 4 * st]) - (v[z - 3 * st] - h[z - 3 * st]));   \
        ps[z] = (B)*ps[z] + (A)*d;                                                       \
        t[z] += na[z] * ps[z];                                                           \
    }
    FD_BY_PROFILE(TTI_T_LOOP, pr);
#undef TTI_T_LOOP
}

/* tti CPML stress correction on a column: zeta = b zeta + a D-_a v_a, zeta2 =
 * b zeta2 + a D-_a U_a; with eH = zeta - zeta2, eV = zeta2:
 * h -= kappa (e eH + q eV), v -= kappa (q eH + eV). uu = {v_a, U_a},
 * mod = {kappa, 1 + 2 eps, sqrt(1 + 2 delta)}, zz = {zeta, zeta2}, hv = {sH, sV}. */
FD_CLONES static void tti_pres_cpml_column(int64_t nz, const float *const *uu,
                                           const float *const *mod, float *const *zz,
                                           float *const *hv, int64_t st, const float *w,
                                           struct colprof pr)
{
    const float c1 = w[1], c2 = w[2], c3 = w[3], c4 = w[4];
    const float *restrict u = uu[0], *restrict q2 = uu[1];
    const float *restrict kk = mod[0], *restrict e = mod[1], *restrict q = mod[2];
    float *restrict z1 = zz[0], *restrict z2 = zz[1];
    float *restrict h = hv[0], *restrict v = hv[1];
#define TTI_PRES_LOOP(A, B)                                                              \
    for (int64_t z = 0; z < nz; z++) {                                                   \
        const float d = FD_DMINUS(u), g = FD_DMINUS(q2);                                 \
        z1[z] = (B)*z1[z] + (A)*d;                                                       \
        z2[z] = (B)*z2[z] + (A)*g;                                                       \
        const float eh = z1[z] - z2[z];                                                  \
        h[z] -= kk[z] * (e[z] * eh + q[z] * z2[z]);                                      \
        v[z] -= kk[z] * (q[z] * eh + z2[z]);                                             \
    }
    FD_BY_PROFILE(TTI_PRES_LOOP, pr);
#undef TTI_PRES_LOOP
}

/* The CPML column kernels. */
enum sweep { A2_PSI, A2_ZETA, A1_VEL, A1_PRES, AN_T, AN_VEL, VTI_PRES, TTI_PRES };

/* The vti/tti CPML column kernels (what >= AN_T) of slab k at field index i0,
 * slab index j0 (see slab_column). */
static void aniso_column(struct fd_cpu *s, const struct slab_it *it, int k,
                         enum sweep what, int64_t i0, int64_t j0, struct colprof pr)
{
    const struct fd_layout *L = s->L;
    const int a = it->a;
    float *const *f = s->f;
    float *hv[2] = {f[0] + i0, f[4] + i0};
    switch (what) {
    case AN_T: {
        const float *fv[2] = {f[0] + i0, f[4] + i0};
        tti_t_cpml_column(it->nz, fv, s->m[4 + a] + i0, s->psi2[k] + j0, f[5 + a] + i0,
                          it->st, L->ws[a], pr);
        break;
    }
    case AN_VEL: /* vti's z velocity is driven by sV, everything else by sH */
        a1_vel_column(it->nz, (L->eq == FD_VTI && a == 2 ? f[4] : f[0]) + i0,
                      s->m[1] + i0, s->psi[k] + j0, f[1 + a] + i0, it->st, L->ws[a], pr);
        break;
    case VTI_PRES:
        vti_pres_cpml_column(
            it->nz, f[1 + a] + i0, s->m[0] + i0, (a == 2 ? s->m[3] : s->m[2]) + i0,
            a == 2 ? NULL : s->m[3] + i0, s->zeta[k] + j0, hv, it->st, L->ws[a], pr);
        break;
    default: {
        const float *uu[2] = {f[1 + a] + i0, f[5 + a] + i0};
        const float *mod[3] = {s->m[0] + i0, s->m[2] + i0, s->m[3] + i0};
        float *zz[2] = {s->zeta[k] + j0, s->zeta2[k] + j0};
        tti_pres_cpml_column(it->nz, uu, mod, zz, hv, it->st, L->ws[a], pr);
        break;
    }
    }
}

/* Runs CPML column kernel what of slab k on column (x, y). p is the pressure
 * read, pn the pressure written (acoustic2). */
static void slab_column(struct fd_cpu *s, const struct slab_it *it, int k,
                        enum sweep what, int64_t x, int64_t y, const float *p, float *pn)
{
    const struct fd_layout *L = s->L;
    const int a = it->a;
    const int64_t i0 = fd_cpu_idx(L, x, y, it->sl->box.lo[2]);
    const int64_t j0 = slab_idx(it->sl, x, y, it->sl->box.lo[2]);
    float *psi = s->psi[k] + j0, *zeta = s->zeta[k] + j0;
    switch (what) {
    case A2_PSI:
        a2_psi_column(it->nz, p + i0, psi, it->st, L->w1[a],
                      colprof(it, L->pa, L->pb, x, y));
        break;
    case A2_ZETA:
        a2_zeta_column(it->nz, p + i0, s->m[0] + i0, psi, zeta, pn + i0, it->st, it->tt,
                       L->w1[a], L->w2[a], colprof(it, L->pa, L->pb, x, y));
        break;
    case A1_VEL:
        a1_vel_column(it->nz, s->f[0] + i0, s->m[1] + i0, psi, s->f[1 + a] + i0, it->st,
                      L->ws[a], colprof(it, L->pah, L->pbh, x, y));
        break;
    case A1_PRES:
        a1_pres_column(it->nz, s->f[1 + a] + i0, s->m[0] + i0, zeta, s->f[0] + i0, it->st,
                       L->ws[a], colprof(it, L->pa, L->pb, x, y));
        break;
    default: {
        /* stresses sit at integer points, velocities and T at half points */
        const bool full = what == VTI_PRES || what == TTI_PRES;
        aniso_column(s, it, k, what, i0, j0,
                     colprof(it, full ? L->pa : L->pah, full ? L->pb : L->pbh, x, y));
        break;
    }
    }
}

/* Runs one CPML column kernel over slab k (an orphaned `omp for`, without its
 * closing barrier when nowait), in tiles of x columns by FD_TILE_Y planes so
 * that neighbours along y stay in cache. */
static void slab_sweep_opt(struct fd_cpu *s, int k, enum sweep what, const float *p,
                           float *pn, bool nowait)
{
    const struct slab_it it = slab_it(s->L, k);
    const struct fd_box *b = &it.sl->box;
    const int64_t bx = fd_cpu_tile_x(s->L), by = FD_TILE_Y;
    const int64_t nbx = (b->hi[0] - b->lo[0] + bx - 1) / bx;
    const int64_t nby = (b->hi[1] - b->lo[1] + by - 1) / by;
#define SLAB_TILE(t)                                                                     \
    do {                                                                                 \
        const int64_t y0 = b->lo[1] + (t) / nbx * by, x0 = b->lo[0] + (t) % nbx * bx;    \
        const int64_t y1 = y0 + by < b->hi[1] ? y0 + by : b->hi[1];                      \
        const int64_t x1 = x0 + bx < b->hi[0] ? x0 + bx : b->hi[0];                      \
        for (int64_t y = y0; y < y1; y++)                                                \
            for (int64_t x = x0; x < x1; x++)                                            \
                slab_column(s, &it, k, what, x, y, p, pn);                               \
    } while (0)
    if (nowait) {
#pragma omp for schedule(static) nowait
        for (int64_t t = 0; t < nbx * nby; t++)
            SLAB_TILE(t);
    } else {
#pragma omp for schedule(static)
        for (int64_t t = 0; t < nbx * nby; t++)
            SLAB_TILE(t);
    }
#undef SLAB_TILE
}

/* slab_sweep_opt with the barrier at its end. */
static void slab_sweep(struct fd_cpu *s, int k, enum sweep what, const float *p,
                       float *pn)
{
    slab_sweep_opt(s, k, what, p, pn, false);
}

/* See fd_cpu.h: the z-slab CPML work of column (x, y), by the calling thread. */
void fd_cpu_cpml_zcolumn(struct fd_cpu *s, enum fd_cpu_pass what, int64_t x, int64_t y,
                         const float *p, float *pn)
{
    /* z slabs span every column: both passes of acoustic2 are column-local. */
    for (int k = 0; k < s->L->nslab; k++) {
        if (s->L->slab[k].axis != 2)
            continue;
        const struct slab_it it = slab_it(s->L, k);
        if (what == FD_PASS_A2) {
            slab_column(s, &it, k, A2_PSI, x, y, p, pn);
            slab_column(s, &it, k, A2_ZETA, x, y, p, pn);
        } else {
            slab_column(s, &it, k, what == FD_PASS_A1_VEL ? A1_VEL : A1_PRES, x, y, p,
                        pn);
        }
    }
}

/* acoustic2 CPML corrections of the x and y slabs, added to pn. */
void fd_cpu_a2_cpml(struct fd_cpu *s, const float *p, float *pn)
{
    /* psi of a slab must be complete before its derivative is taken, and
     * slabs of different axes overlap in the corners: one sweep at a time. */
    for (int k = 0; k < s->L->nslab; k++) {
        if (s->L->slab[k].axis == 2)
            continue;
        slab_sweep(s, k, A2_PSI, p, pn);
        slab_sweep(s, k, A2_ZETA, p, pn);
    }
}

/* acoustic1 CPML velocity corrections of the x and y slabs. */
void fd_cpu_a1_cpml_vel(struct fd_cpu *s)
{
    for (int k = 0; k < s->L->nslab; k++)
        if (s->L->slab[k].axis != 2)
            slab_sweep(s, k, A1_VEL, s->f[0], NULL);
}

/* acoustic1 CPML pressure corrections of the x and y slabs. */
void fd_cpu_a1_cpml_pres(struct fd_cpu *s)
{
    for (int k = 0; k < s->L->nslab; k++)
        if (s->L->slab[k].axis != 2)
            slab_sweep(s, k, A1_PRES, s->f[0], NULL);
}

/* See fd_cpu.h: vti/tti CPML corrections of every slab, z slabs first. */
void fd_cpu_aniso_cpml(struct fd_cpu *s, enum fd_aniso_stage stage)
{
    const enum sweep what = stage == FD_ANISO_T     ? AN_T
                            : stage == FD_ANISO_VEL ? AN_VEL
                            : s->L->eq == FD_VTI    ? VTI_PRES
                                                    : TTI_PRES;
    /* The T and velocity corrections of slab k write only T_a, v_a and the
     * slab's memory (a = its axis) and read fields this stage leaves alone:
     * the slabs run without barriers between them. The stress corrections of
     * slabs of different axes add to sH and sV at the same corner points: one
     * axis at a time (the lo and hi slabs of an axis are disjoint), in the
     * CUDA back end's order, so that both round alike. */
    const int n = s->L->nslab;
    for (int k = 0; k < n; k++) {
        slab_sweep_opt(s, k, what, NULL, NULL, true);
        if (what >= VTI_PRES &&
            (k + 1 == n || s->L->slab[k + 1].axis != s->L->slab[k].axis)) {
#pragma omp barrier
        }
    }
    if (what < VTI_PRES) {
#pragma omp barrier
    }
}

/* Cerjan taper of nf fields on the sponge boxes (orphaned omp for). */
void fd_cpu_sponge(struct fd_cpu *s, float *const *f, int nf)
{
    /* Multiplies nf fields by gx gy gz on the disjoint shell boxes. */
    const struct fd_layout *L = s->L;
    for (int k = 0; k < L->nshell; k++) {
        const struct fd_box *b = &L->shell[k];
        const int64_t nz = b->hi[2] - b->lo[2];
        const float *gz = L->g[2] + b->lo[2];
#pragma omp for collapse(2) schedule(static)
        for (int64_t y = b->lo[1]; y < b->hi[1]; y++) {
            for (int64_t x = b->lo[0]; x < b->hi[0]; x++) {
                const float gxy = L->g[0][x] * L->g[1][y];
                const int64_t i0 = fd_cpu_idx(L, x, y, b->lo[2]);
                for (int i = 0; i < nf; i++) {
                    float *c = f[i] + i0;
                    for (int64_t z = 0; z < nz; z++)
                        c[z] *= gxy * gz[z];
                }
            }
        }
    }
}

/* Free-surface image of f on z = 0 (orphaned omp for). */
void fd_cpu_image(struct fd_cpu *s, float *f, int staggered)
{
    /* Free surface at z = 0: pressure is odd about z = 0 (and zero on it);
     * vz, stored at z + 1/2, is even: vz(-k-1) = vz(k). */
    const struct fd_layout *L = s->L;
#pragma omp for collapse(2) schedule(static)
    for (int64_t y = 0; y < L->n[1]; y++) {
        for (int64_t x = 0; x < L->n[0]; x++) {
            float *c = f + fd_cpu_idx(L, x, y, 0);
            if (staggered) {
                for (int k = 1; k <= FD_HALO; k++)
                    c[-k] = c[k - 1];
            } else {
                c[0] = 0.0f;
                for (int k = 1; k <= FD_HALO; k++)
                    c[-k] = -c[k];
            }
        }
    }
}
