/* fd_cuda: the CUDA back end of the FD engine.
 *
 * Same grid layout and the same floating-point operations, in the same order,
 * as the CPU back end (fd_cpu_kern.c, fd_cpu_bnd.c); the CUDA sources are built
 * with --fmad=false so that no multiply-add is contracted and the seismograms
 * of the two back ends agree to rounding.
 *
 * Interior stencils: a block of BZ x BX threads owns a z-x tile and walks a
 * chunk of y planes; the current plane (with a 4-cell halo) sits in shared
 * memory, the 9 values along y in registers. Boundaries run on the CPML slabs
 * or sponge boxes only. Receivers are gathered into a chunk x nrec device
 * buffer that the front end fetches block by block.
 *
 * Every CUDA call and kernel launch is checked; errors come back in err with
 * the file, line and what was being done.
 */
#include <cuda_runtime.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fd/fd_backend.h"

#define BZ 32 /* threads along z per block */
#define BX 16 /* threads along x per block */
#ifndef YCHUNK
#define YCHUNK 64 /* y planes walked by one block (the emulated check uses fewer) */
#endif
#define H FD_HALO

/* Formats a CUDA failure into err. Returns -1. */
static int cuda_fail(char *err, size_t errlen, const char *file, int line,
                     const char *what, cudaError_t e)
{
    if (err && errlen)
        snprintf(err, errlen, "fd cuda: %s: %s (%s:%d)", what, cudaGetErrorString(e),
                 file, line);
    return -1;
}

/* Checks a CUDA call; returns -1 from the enclosing function on failure. */
#define CK(call, what)                                                                   \
    do {                                                                                 \
        cudaError_t e_ = (call);                                                         \
        if (e_ != cudaSuccess)                                                           \
            return cuda_fail(err, errlen, __FILE__, __LINE__, what, e_);                 \
    } while (0)

/* Checks the last kernel launch. */
#define CKL(what) CK(cudaGetLastError(), what)

/* Grid extent and strides passed to kernels by value. */
struct geo {
    int64_t nx, ny, nz; /* compute box */
    int64_t sx, sy;     /* strides */
};

/* 8th-order weights passed by value: w[0] centre (2nd derivative), then
 * (x, y, z) for k = 1..4. */
struct w13 {
    float w[13];
};

/* A box and the per-slab strides passed by value. */
struct sbox {
    int64_t lo[3], n[3]; /* first point and extent per axis */
    int64_t m0, m2;      /* slab-array extents along x and z */
    int axis;            /* stretched axis */
    int64_t st, tt;      /* field and slab-array strides along the axis */
};

/* Source spreading by value. */
struct srcv {
    int64_t idx[8];
    float coef[8];
};

struct cuda_state {
    const struct fd_layout *L;              /* layout, owned by the engine */
    int dev;                                /* CUDA ordinal */
    int nf, nm;                             /* wavefields, model arrays in use */
    float *f[8];                            /* a2: p, p-; a1: p, vx, vy, vz; vti +sV;
                                               tti + 3 scratch (as fd_cpu) */
    float *m[FD_MAX_MODEL];                 /* model arrays */
    float *psi[FD_MAXSLAB];                 /* CPML memory variables */
    float *zeta[FD_MAXSLAB];                /* CPML memory variables */
    float *psi2[FD_MAXSLAB];                /* tti CPML memory of D+_a (sV - sH) */
    float *zeta2[FD_MAXSLAB];               /* tti CPML memory of D-_a U_a */
    float *pa[3], *pb[3], *pah[3], *pbh[3]; /* CPML profiles */
    float *g[3];                            /* sponge tapers */
    struct srcv src;                        /* source */
    struct fd_interp *rec;                  /* receivers (device) */
    size_t nrec;                            /* receivers */
    float *recbuf;                          /* chunk x nrec (device) */
    int chunk;                              /* slots in recbuf */
};

/* Field index of compute point (x, y, z). */
__host__ __device__ static inline int64_t gidx(const geo &g, int64_t x, int64_t y,
                                               int64_t z)
{
    return (y + H) * g.sy + (x + H) * g.sx + (z + H);
}

static geo make_geo(const struct fd_layout *L)
{
    /* Kernel view of the layout. */
    geo g = {L->n[0], L->n[1], L->n[2], L->sx, L->sy};
    return g;
}

/* The shared-memory z-x tile of one plane, loaded by a BZ x BX block. Entries
 * only inactive threads read may stay unset. */
__device__ static inline void load_tile(float (*s)[BZ + 2 * H],
                                        const float *__restrict__ f, const geo &g,
                                        int64_t x, int64_t y, int64_t z, float centre)
{
    const int tz = threadIdx.x, tx = threadIdx.y;
    const bool lx = x < g.nx + H, lz = z < g.nz + H;
    const int64_t i = gidx(g, x, y, z);
    if (lx && lz)
        s[tx + H][tz + H] = centre;
    if (lx && tz < H) {
        s[tx + H][tz] = f[i - H];
        if (z + BZ < g.nz + H)
            s[tx + H][tz + BZ + H] = f[i + BZ];
    }
    if (lz && tx < H) {
        s[tx][tz + H] = f[i - H * g.sx];
        if (x + BX < g.nx + H)
            s[tx + BX + H][tz + H] = f[i + BX * g.sx];
    }
}

/* Where a thread of an interior sweep is: its z-x column, the block's chunk
 * of y planes, whether it loads tile values and whether it computes. */
struct sweep_pos {
    int64_t x, z, y0, y1;
    bool load, act;
};

/* Starts a sweep: the thread's position, and the y queue q[k] = p(y0 + k - H). */
__device__ static __forceinline__ sweep_pos sweep_begin(const float *__restrict__ p,
                                                        const geo &g, float *q)
{
    sweep_pos w;
    w.z = (int64_t)blockIdx.x * BZ + threadIdx.x;
    w.x = (int64_t)blockIdx.y * BX + threadIdx.y;
    w.y0 = (int64_t)blockIdx.z * YCHUNK;
    w.y1 = w.y0 + YCHUNK < g.ny ? w.y0 + YCHUNK : g.ny;
    w.load = w.x < g.nx + H && w.z < g.nz + H;
    w.act = w.x < g.nx && w.z < g.nz;
#pragma unroll
    for (int k = 0; k <= 2 * H; k++)
        q[k] = w.load ? p[gidx(g, w.x, w.y0 + k - H, w.z)] : 0.0f;
    return w;
}

/* Puts plane y into the shared tile (between barriers: the previous plane's
 * readers are done, and the tile is complete before anyone reads it). */
__device__ static __forceinline__ void sweep_stage(float (*s)[BZ + 2 * H],
                                                   const float *__restrict__ p,
                                                   const geo &g, const sweep_pos &w,
                                                   int64_t y, const float *q)
{
    __syncthreads();
    load_tile(s, p, g, w.x, y, w.z, q[H]);
    __syncthreads();
}

/* Moves the y queue on by one plane after plane y. */
__device__ static __forceinline__ void sweep_next(const float *__restrict__ p,
                                                  const geo &g, const sweep_pos &w,
                                                  int64_t y, float *q)
{
#pragma unroll
    for (int k = 0; k < 2 * H; k++)
        q[k] = q[k + 1];
    q[2 * H] = w.load && y + 1 < g.ny ? p[gidx(g, w.x, y + 1 + H, w.z)] : 0.0f;
}

/* acoustic2 interior: pn = 2p - pn + v2 lap(p). */
__global__ void k_a2_main(const float *__restrict__ p, float *__restrict__ pn,
                          const float *__restrict__ v2, geo g, w13 c)
{
    __shared__ float s[BX + 2 * H][BZ + 2 * H];
    float q[2 * H + 1];
    const sweep_pos w = sweep_begin(p, g, q);
    const int a = threadIdx.y + H, b = threadIdx.x + H;
    for (int64_t y = w.y0; y < w.y1; y++) {
        sweep_stage(s, p, g, w, y, q);
        if (w.act) {
            float lap = c.w[0] * q[H];
#pragma unroll
            for (int k = 1; k <= H; k++) {
                lap += c.w[3 * k - 2] * (s[a + k][b] + s[a - k][b]);
                lap += c.w[3 * k - 1] * (q[H + k] + q[H - k]);
                lap += c.w[3 * k] * (s[a][b + k] + s[a][b - k]);
            }
            const int64_t i = gidx(g, w.x, y, w.z);
            pn[i] = 2.0f * q[H] - pn[i] + v2[i] * lap;
        }
        sweep_next(p, g, w, y, q);
    }
}

/* acoustic1 velocities: v_a -= 0.5 (b + b_a) D+_a p. c.w: (x, y, z) for k. */
__global__ void k_a1_vel(const float *__restrict__ p, const float *__restrict__ bu,
                         float *__restrict__ vx, float *__restrict__ vy,
                         float *__restrict__ vz, geo g, w13 c)
{
    __shared__ float s[BX + 2 * H][BZ + 2 * H];
    float q[2 * H + 1];
    const sweep_pos w = sweep_begin(p, g, q);
    const int a = threadIdx.y + H, b = threadIdx.x + H;
    for (int64_t y = w.y0; y < w.y1; y++) {
        sweep_stage(s, p, g, w, y, q);
        if (w.act) {
            float dx = c.w[0] * (s[a + 1][b] - s[a][b]);
            float dy = c.w[1] * (q[H + 1] - q[H]);
            float dz = c.w[2] * (s[a][b + 1] - s[a][b]);
#pragma unroll
            for (int k = 2; k <= H; k++) {
                dx += c.w[3 * k - 3] * (s[a + k][b] - s[a - k + 1][b]);
                dy += c.w[3 * k - 2] * (q[H + k] - q[H - k + 1]);
                dz += c.w[3 * k - 1] * (s[a][b + k] - s[a][b - k + 1]);
            }
            const int64_t i = gidx(g, w.x, y, w.z);
            const float bc = bu[i];
            vx[i] -= 0.5f * (bc + bu[i + g.sx]) * dx;
            vy[i] -= 0.5f * (bc + bu[i + g.sy]) * dy;
            vz[i] -= 0.5f * (bc + bu[i + 1]) * dz;
        }
        sweep_next(p, g, w, y, q);
    }
}

/* acoustic1 pressure: p -= kappa (D-_x vx + D-_y vy + D-_z vz). One thread
 * per z-x column walking a y chunk; neighbours come through the caches. */
__global__ void k_a1_pres(float *__restrict__ p, const float *__restrict__ ka,
                          const float *__restrict__ vx, const float *__restrict__ vy,
                          const float *__restrict__ vz, geo g, w13 c)
{
    const int64_t z = (int64_t)blockIdx.x * BZ + threadIdx.x;
    const int64_t x = (int64_t)blockIdx.y * BX + threadIdx.y;
    const int64_t y0 = (int64_t)blockIdx.z * YCHUNK;
    const int64_t y1 = y0 + YCHUNK < g.ny ? y0 + YCHUNK : g.ny;
    if (x >= g.nx || z >= g.nz)
        return;
    const int64_t sx = g.sx, sy = g.sy;
    for (int64_t y = y0; y < y1; y++) {
        const int64_t i = gidx(g, x, y, z);
        float d = c.w[0] * (vx[i] - vx[i - sx]);
        d += c.w[1] * (vy[i] - vy[i - sy]);
        d += c.w[2] * (vz[i] - vz[i - 1]);
#pragma unroll
        for (int k = 2; k <= H; k++) {
            d += c.w[3 * k - 3] * (vx[i + (k - 1) * sx] - vx[i - k * sx]);
            d += c.w[3 * k - 2] * (vy[i + (k - 1) * sy] - vy[i - k * sy]);
            d += c.w[3 * k - 1] * (vz[i + (k - 1)] - vz[i - k]);
        }
        p[i] -= ka[i] * d;
    }
}

/* Column position of a thread of the interior launch; false when outside. */
__device__ static inline bool col_pos(const geo &g, int64_t *x, int64_t *z, int64_t *y0,
                                      int64_t *y1)
{
    *z = (int64_t)blockIdx.x * BZ + threadIdx.x;
    *x = (int64_t)blockIdx.y * BX + threadIdx.y;
    *y0 = (int64_t)blockIdx.z * YCHUNK;
    *y1 = *y0 + YCHUNK < g.ny ? *y0 + YCHUNK : g.ny;
    return *x < g.nx && *z < g.nz;
}

/* Device pointers of the tti passes. */
struct tti_ptrs {
    float *h, *v, *vx, *vy, *vz, *t0, *t1, *t2;
    const float *kap, *b, *e, *q, *nx, *ny, *nz;
};

/* 4-point average S_ij u (see fd_cpu_aniso.c stag_avg). */
__device__ static inline float d_avg(const float *u, int64_t i, int64_t si, int64_t sj)
{
    return 0.25f * ((u[i] + u[i - sj]) + (u[i + si] + u[i + si - sj]));
}

/* 4-point average S_ji (n v) (see stag_avg_nv). */
__device__ static inline float d_avg_nv(const float *n, const float *v, int64_t i,
                                        int64_t sj, int64_t si)
{
    return 0.25f * ((n[i] * v[i] + n[i - si] * v[i - si]) +
                    (n[i + sj] * v[i + sj] + n[i + sj - si] * v[i + sj - si]));
}

/* tti pass 0..3 = A..D, vti velocities (4) and stresses (5), with
 * fd_cpu_aniso.c's column functions' operation order. */
__global__ void k_tti(tti_ptrs P, int pass, geo g, w13 c)
{
    int64_t x, z, y0, y1;
    if (!col_pos(g, &x, &z, &y0, &y1))
        return;
    const int64_t sx = g.sx, sy = g.sy;
    for (int64_t y = y0; y < y1; y++) {
        const int64_t i = gidx(g, x, y, z);
        if (pass == 4) {
            float dx = 0.0f, dy = 0.0f, dz = 0.0f;
            for (int k = 1; k <= H; k++) {
                dx += c.w[3 * (k - 1)] * (P.h[i + k * sx] - P.h[i - (k - 1) * sx]);
                dy += c.w[3 * (k - 1) + 1] * (P.h[i + k * sy] - P.h[i - (k - 1) * sy]);
                dz += c.w[3 * (k - 1) + 2] * (P.v[i + k] - P.v[i - (k - 1)]);
            }
            P.vx[i] -= 0.5f * (P.b[i] + P.b[i + sx]) * dx;
            P.vy[i] -= 0.5f * (P.b[i] + P.b[i + sy]) * dy;
            P.vz[i] -= 0.5f * (P.b[i] + P.b[i + 1]) * dz;
        } else if (pass == 5) {
            float dh = 0.0f, dz = 0.0f;
            for (int k = 1; k <= H; k++) {
                dh += c.w[3 * (k - 1)] * (P.vx[i + (k - 1) * sx] - P.vx[i - k * sx]);
                dh += c.w[3 * (k - 1) + 1] * (P.vy[i + (k - 1) * sy] - P.vy[i - k * sy]);
                dz += c.w[3 * (k - 1) + 2] * (P.vz[i + (k - 1)] - P.vz[i - k]);
            }
            P.h[i] -= P.kap[i] * (P.e[i] * dh + P.q[i] * dz);
            P.v[i] -= P.kap[i] * (P.q[i] * dh + dz);
        } else if (pass == 0) {
            float ax = 0.0f, ay = 0.0f, az = 0.0f;
            for (int k = 1; k <= H; k++) {
                ax +=
                    c.w[3 * (k - 1)] * ((P.v[i + k * sx] - P.h[i + k * sx]) -
                                        (P.v[i - (k - 1) * sx] - P.h[i - (k - 1) * sx]));
                ay += c.w[3 * (k - 1) + 1] *
                      ((P.v[i + k * sy] - P.h[i + k * sy]) -
                       (P.v[i - (k - 1) * sy] - P.h[i - (k - 1) * sy]));
                az += c.w[3 * (k - 1) + 2] *
                      ((P.v[i + k] - P.h[i + k]) - (P.v[i - (k - 1)] - P.h[i - (k - 1)]));
            }
            P.t0[i] = P.nx[i] * ax;
            P.t1[i] = P.ny[i] * ay;
            P.t2[i] = P.nz[i] * az;
        } else if (pass == 1) {
            float dx = 0.0f, dy = 0.0f, dz = 0.0f;
            for (int k = 1; k <= H; k++) {
                dx += c.w[3 * (k - 1)] * (P.h[i + k * sx] - P.h[i - (k - 1) * sx]);
                dy += c.w[3 * (k - 1) + 1] * (P.h[i + k * sy] - P.h[i - (k - 1) * sy]);
                dz += c.w[3 * (k - 1) + 2] * (P.h[i + k] - P.h[i - (k - 1)]);
            }
            const float rx = P.t0[i] + d_avg(P.t1, i, sx, sy) + d_avg(P.t2, i, sx, 1);
            const float ry = d_avg(P.t0, i, sy, sx) + P.t1[i] + d_avg(P.t2, i, sy, 1);
            const float rz = d_avg(P.t0, i, 1, sx) + d_avg(P.t1, i, 1, sy) + P.t2[i];
            P.vx[i] -= 0.5f * (P.b[i] + P.b[i + sx]) * (dx + P.nx[i] * rx);
            P.vy[i] -= 0.5f * (P.b[i] + P.b[i + sy]) * (dy + P.ny[i] * ry);
            P.vz[i] -= 0.5f * (P.b[i] + P.b[i + 1]) * (dz + P.nz[i] * rz);
        } else if (pass == 2) {
            const float px = P.nx[i] * P.vx[i], py = P.ny[i] * P.vy[i],
                        pz = P.nz[i] * P.vz[i];
            P.t0[i] = P.nx[i] * (px + d_avg_nv(P.ny, P.vy, i, sx, sy) +
                                 d_avg_nv(P.nz, P.vz, i, sx, 1));
            P.t1[i] = P.ny[i] * (d_avg_nv(P.nx, P.vx, i, sy, sx) + py +
                                 d_avg_nv(P.nz, P.vz, i, sy, 1));
            P.t2[i] = P.nz[i] * (d_avg_nv(P.nx, P.vx, i, 1, sx) +
                                 d_avg_nv(P.ny, P.vy, i, 1, sy) + pz);
        } else {
            float dv = 0.0f, du = 0.0f;
            for (int k = 1; k <= H; k++) {
                const float wx = c.w[3 * (k - 1)], wy = c.w[3 * (k - 1) + 1],
                            wz = c.w[3 * (k - 1) + 2];
                dv += wx * (P.vx[i + (k - 1) * sx] - P.vx[i - k * sx]);
                dv += wy * (P.vy[i + (k - 1) * sy] - P.vy[i - k * sy]);
                dv += wz * (P.vz[i + (k - 1)] - P.vz[i - k]);
                du += wx * (P.t0[i + (k - 1) * sx] - P.t0[i - k * sx]);
                du += wy * (P.t1[i + (k - 1) * sy] - P.t1[i - k * sy]);
                du += wz * (P.t2[i + (k - 1)] - P.t2[i - k]);
            }
            const float eh = dv - du;
            P.h[i] -= P.kap[i] * (P.e[i] * eh + P.q[i] * du);
            P.v[i] -= P.kap[i] * (P.q[i] * eh + du);
        }
    }
}

/* Point of a box for this thread; false when outside. */
__device__ static inline bool box_point(const sbox &b, int64_t *x, int64_t *y, int64_t *z)
{
    const int64_t lz = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    const int64_t lx = (int64_t)blockIdx.y * blockDim.y + threadIdx.y;
    const int64_t ly = blockIdx.z;
    if (lz >= b.n[2] || lx >= b.n[0])
        return false;
    *x = b.lo[0] + lx;
    *y = b.lo[1] + ly;
    *z = b.lo[2] + lz;
    return true;
}

/* Slab-array index of a box point. */
__device__ static inline int64_t sidx(const sbox &b, int64_t x, int64_t y, int64_t z)
{
    return ((y - b.lo[1] + H) * b.m0 + (x - b.lo[0] + H)) * b.m2 + (z - b.lo[2] + H);
}

/* Profile coordinate of a box point along the slab's axis. */
__device__ static inline int64_t along(const sbox &b, int64_t x, int64_t y, int64_t z)
{
    return b.axis == 0 ? x : (b.axis == 1 ? y : z);
}

/* acoustic2 CPML pass 1: psi = b psi + a d_a p. */
__global__ void k_a2_psi(const float *__restrict__ p, float *__restrict__ psi,
                         const float *__restrict__ pa, const float *__restrict__ pb,
                         geo g, sbox b, w13 c)
{
    int64_t x, y, z;
    if (!box_point(b, &x, &y, &z))
        return;
    const int64_t i = gidx(g, x, y, z), j = sidx(b, x, y, z), st = b.st;
    const int64_t t = along(b, x, y, z);
    float d1 = c.w[1] * (p[i + st] - p[i - st]);
    d1 += c.w[2] * (p[i + 2 * st] - p[i - 2 * st]);
    d1 += c.w[3] * (p[i + 3 * st] - p[i - 3 * st]);
    d1 += c.w[4] * (p[i + 4 * st] - p[i - 4 * st]);
    psi[j] = pb[t] * psi[j] + pa[t] * d1;
}

/* acoustic2 CPML pass 2: zeta = b zeta + a (d_aa p + d_a psi);
 * pn += v2 (d_a psi + zeta). c.w[0..4]: 2nd-derivative weights, c.w[5..8]:
 * 1st-derivative weights k = 1..4. */
__global__ void k_a2_zeta(const float *__restrict__ p, float *__restrict__ pn,
                          const float *__restrict__ v2, const float *__restrict__ psi,
                          float *__restrict__ zeta, const float *__restrict__ pa,
                          const float *__restrict__ pb, geo g, sbox b, w13 c)
{
    int64_t x, y, z;
    if (!box_point(b, &x, &y, &z))
        return;
    const int64_t i = gidx(g, x, y, z), j = sidx(b, x, y, z), st = b.st, tt = b.tt;
    const int64_t t = along(b, x, y, z);
    float d2 = c.w[0] * p[i];
    d2 += c.w[1] * (p[i + st] + p[i - st]);
    d2 += c.w[2] * (p[i + 2 * st] + p[i - 2 * st]);
    d2 += c.w[3] * (p[i + 3 * st] + p[i - 3 * st]);
    d2 += c.w[4] * (p[i + 4 * st] + p[i - 4 * st]);
    float dp = c.w[5] * (psi[j + tt] - psi[j - tt]);
    dp += c.w[6] * (psi[j + 2 * tt] - psi[j - 2 * tt]);
    dp += c.w[7] * (psi[j + 3 * tt] - psi[j - 3 * tt]);
    dp += c.w[8] * (psi[j + 4 * tt] - psi[j - 4 * tt]);
    const float ze = pb[t] * zeta[j] + pa[t] * (d2 + dp);
    zeta[j] = ze;
    pn[i] += v2[i] * (dp + ze);
}

/* acoustic1 CPML velocity correction: psi = bh psi + ah D+_a p;
 * v -= 0.5 (b + b_a) psi. */
__global__ void k_a1_cpml_vel(const float *__restrict__ p, const float *__restrict__ bu,
                              float *__restrict__ v, float *__restrict__ psi,
                              const float *__restrict__ pa, const float *__restrict__ pb,
                              geo g, sbox b, w13 c)
{
    int64_t x, y, z;
    if (!box_point(b, &x, &y, &z))
        return;
    const int64_t i = gidx(g, x, y, z), j = sidx(b, x, y, z), st = b.st;
    const int64_t t = along(b, x, y, z);
    float d = c.w[1] * (p[i + st] - p[i]);
    d += c.w[2] * (p[i + 2 * st] - p[i - st]);
    d += c.w[3] * (p[i + 3 * st] - p[i - 2 * st]);
    d += c.w[4] * (p[i + 4 * st] - p[i - 3 * st]);
    const float ps = pb[t] * psi[j] + pa[t] * d;
    psi[j] = ps;
    v[i] -= 0.5f * (bu[i] + bu[i + st]) * ps;
}

/* Staggered D-_a f at field index i (stride st along a), CPU operation order. */
__device__ static inline float d_minus(const float *__restrict__ f, int64_t i, int64_t st,
                                       const w13 &c)
{
    float d = c.w[1] * (f[i] - f[i - st]);
    d += c.w[2] * (f[i + st] - f[i - 2 * st]);
    d += c.w[3] * (f[i + 2 * st] - f[i - 3 * st]);
    d += c.w[4] * (f[i + 3 * st] - f[i - 4 * st]);
    return d;
}

/* acoustic1 CPML pressure correction: zeta = b zeta + a D-_a v; p -= kappa zeta. */
__global__ void k_a1_cpml_pres(float *__restrict__ p, const float *__restrict__ ka,
                               const float *__restrict__ v, float *__restrict__ zeta,
                               const float *__restrict__ pa, const float *__restrict__ pb,
                               geo g, sbox b, w13 c)
{
    int64_t x, y, z;
    if (!box_point(b, &x, &y, &z))
        return;
    const int64_t i = gidx(g, x, y, z), j = sidx(b, x, y, z), st = b.st;
    const int64_t t = along(b, x, y, z);
    const float d = d_minus(v, i, st, c);
    const float ze = pb[t] * zeta[j] + pa[t] * d;
    zeta[j] = ze;
    p[i] -= ka[i] * ze;
}

/* vti CPML stress correction: zeta = b zeta + a D-_a v; h -= kappa (ch zeta),
 * v -= kappa (cv zeta) (cv NULL: kappa zeta). See fd_cpu_bnd.c. */
__global__ void k_vti_cpml_pres(float *__restrict__ h, float *__restrict__ sv,
                                const float *__restrict__ ka,
                                const float *__restrict__ ch,
                                const float *__restrict__ cv, const float *__restrict__ v,
                                float *__restrict__ zeta, const float *__restrict__ pa,
                                const float *__restrict__ pb, geo g, sbox b, w13 c)
{
    int64_t x, y, z;
    if (!box_point(b, &x, &y, &z))
        return;
    const int64_t i = gidx(g, x, y, z), j = sidx(b, x, y, z), st = b.st;
    const int64_t t = along(b, x, y, z);
    const float d = d_minus(v, i, st, c);
    const float ze = pb[t] * zeta[j] + pa[t] * d;
    zeta[j] = ze;
    h[i] -= ka[i] * (ch[i] * ze);
    sv[i] -= ka[i] * (cv ? cv[i] * ze : ze);
}

/* tti CPML correction of T: psi2 = bh psi2 + ah D+_a (sV - sH); T_a += n_a psi2. */
__global__ void k_tti_cpml_t(const float *__restrict__ h, const float *__restrict__ sv,
                             const float *__restrict__ na, float *__restrict__ tt,
                             float *__restrict__ psi, const float *__restrict__ pa,
                             const float *__restrict__ pb, geo g, sbox b, w13 c)
{
    int64_t x, y, z;
    if (!box_point(b, &x, &y, &z))
        return;
    const int64_t i = gidx(g, x, y, z), j = sidx(b, x, y, z), st = b.st;
    const int64_t t = along(b, x, y, z);
    float d = c.w[1] * ((sv[i + st] - h[i + st]) - (sv[i] - h[i]));
    d += c.w[2] * ((sv[i + 2 * st] - h[i + 2 * st]) - (sv[i - st] - h[i - st]));
    d += c.w[3] * ((sv[i + 3 * st] - h[i + 3 * st]) - (sv[i - 2 * st] - h[i - 2 * st]));
    d += c.w[4] * ((sv[i + 4 * st] - h[i + 4 * st]) - (sv[i - 3 * st] - h[i - 3 * st]));
    const float ps = pb[t] * psi[j] + pa[t] * d;
    psi[j] = ps;
    tt[i] += na[i] * ps;
}

/* Model and field pointers of the tti CPML stress correction. */
struct tti_cpml_ptrs {
    float *h, *sv, *zeta, *zeta2;
    const float *ka, *e, *q, *v, *u;
};

/* tti CPML stress correction: zeta = b zeta + a D-_a v_a, zeta2 = b zeta2 +
 * a D-_a U_a; eH = zeta - zeta2, eV = zeta2; h -= kappa (e eH + q eV),
 * sV -= kappa (q eH + eV). See fd_cpu_bnd.c. */
__global__ void k_tti_cpml_pres(tti_cpml_ptrs P, const float *__restrict__ pa,
                                const float *__restrict__ pb, geo g, sbox b, w13 c)
{
    int64_t x, y, z;
    if (!box_point(b, &x, &y, &z))
        return;
    const int64_t i = gidx(g, x, y, z), j = sidx(b, x, y, z), st = b.st;
    const int64_t t = along(b, x, y, z);
    const float *v = P.v, *u = P.u;
    const float d = d_minus(v, i, st, c), e = d_minus(u, i, st, c);
    const float z1 = pb[t] * P.zeta[j] + pa[t] * d;
    const float z2 = pb[t] * P.zeta2[j] + pa[t] * e;
    P.zeta[j] = z1;
    P.zeta2[j] = z2;
    const float eh = z1 - z2;
    P.h[i] -= P.ka[i] * (P.e[i] * eh + P.q[i] * z2);
    P.sv[i] -= P.ka[i] * (P.q[i] * eh + z2);
}

/* Sponge: f *= gx gy gz on a shell box, for two or four fields. */
__global__ void k_sponge(float *f0, float *f1, float *f2, float *f3, int nf,
                         const float *__restrict__ gx, const float *__restrict__ gy,
                         const float *__restrict__ gz, geo g, sbox b)
{
    int64_t x, y, z;
    if (!box_point(b, &x, &y, &z))
        return;
    const int64_t i = gidx(g, x, y, z);
    const float gg = gx[x] * gy[y] * gz[z];
    f0[i] *= gg;
    if (nf > 1)
        f1[i] *= gg;
    if (nf > 2) {
        f2[i] *= gg;
        f3[i] *= gg;
    }
}

/* Free surface image on the z = 0 plane (see fd_cpu_image). */
__global__ void k_image(float *f, geo g, int staggered)
{
    const int64_t x = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    const int64_t y = blockIdx.y;
    if (x >= g.nx)
        return;
    float *c = f + gidx(g, x, y, 0);
    if (staggered) {
#pragma unroll
        for (int k = 1; k <= H; k++)
            c[-k] = c[k - 1];
    } else {
        c[0] = 0.0f;
#pragma unroll
        for (int k = 1; k <= H; k++)
            c[-k] = -c[k];
    }
}

/* Adds the source (one thread: the 8 updates in the CPU's order). */
__global__ void k_source(float *p, srcv s, float amp)
{
    for (int j = 0; j < 8; j++)
        p[s.idx[j]] += s.coef[j] * amp;
}

/* Gathers receivers into slot row of the record buffer. */
__global__ void k_record(const float *__restrict__ p, const struct fd_interp *rec,
                         size_t nrec, float *out)
{
    const size_t r = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= nrec)
        return;
    float v = 0.0f;
    for (int j = 0; j < 8; j++)
        v += rec[r].w[j] * p[rec[r].idx[j]];
    out[r] = v;
}

bool fd_cuda_probe(void)
{
    /* A device is usable when the runtime reports at least one. */
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError(); /* clear it so later calls do not report it */
        return false;
    }
    return n > 0;
}

/* Selects the device; returns 0 or -1 with err. */
static int use_device(int dev, char *err, size_t errlen)
{
    int n = 0;
    CK(cudaGetDeviceCount(&n), "counting CUDA devices");
    if (dev < 0 || dev >= n) {
        if (err && errlen)
            snprintf(err, errlen, "fd cuda: device %d does not exist (%d devices)", dev,
                     n);
        return -1;
    }
    CK(cudaSetDevice(dev), "selecting the CUDA device");
    return 0;
}

int fd_cuda_copy_bandwidth(int ordinal, size_t bytes, double *gbs, char *err,
                           size_t errlen)
{
    /* Times device-to-device copies of bytes; best of 5. */
    *gbs = 0.0;
    if (use_device(ordinal, err, errlen) != 0)
        return -1;
    void *a = NULL, *b = NULL;
    cudaEvent_t e0 = NULL, e1 = NULL;
    float best = 1e30f;
    int rc = -1;
    cudaError_t e;
    const char *what = "allocating the copy buffers";
    if ((e = cudaMalloc(&a, bytes)) != cudaSuccess ||
        (e = cudaMalloc(&b, bytes)) != cudaSuccess)
        goto out;
    what = "creating timing events";
    if ((e = cudaEventCreate(&e0)) != cudaSuccess ||
        (e = cudaEventCreate(&e1)) != cudaSuccess)
        goto out;
    what = "copying on the device";
    if ((e = cudaMemset(a, 1, bytes)) != cudaSuccess ||
        (e = cudaMemcpy(b, a, bytes, cudaMemcpyDeviceToDevice)) != cudaSuccess)
        goto out;
    for (int r = 0; r < 5; r++) {
        float ms = 0.0f;
        if ((e = cudaEventRecord(e0)) != cudaSuccess ||
            (e = cudaMemcpy(b, a, bytes, cudaMemcpyDeviceToDevice)) != cudaSuccess ||
            (e = cudaEventRecord(e1)) != cudaSuccess ||
            (e = cudaEventSynchronize(e1)) != cudaSuccess ||
            (e = cudaEventElapsedTime(&ms, e0, e1)) != cudaSuccess)
            goto out;
        best = ms < best ? ms : best;
    }
    *gbs = 2.0 * (double)bytes / ((double)best * 1e-3) / 1e9;
    rc = 0;
out:
    if (rc != 0)
        cuda_fail(err, errlen, __FILE__, __LINE__, what, e);
    if (e0)
        cudaEventDestroy(e0);
    if (e1)
        cudaEventDestroy(e1);
    cudaFree(a);
    cudaFree(b);
    return rc;
}

/* Frees everything a state holds; NULL is ok. */
static void cu_destroy(void *state)
{
    struct cuda_state *s = (struct cuda_state *)state;
    if (!s)
        return;
    cudaSetDevice(s->dev);
    for (int i = 0; i < 8; i++)
        cudaFree(s->f[i]);
    for (int i = 0; i < FD_MAX_MODEL; i++)
        cudaFree(s->m[i]);
    for (int i = 0; i < FD_MAXSLAB; i++) {
        cudaFree(s->psi[i]);
        cudaFree(s->zeta[i]);
        cudaFree(s->psi2[i]);
        cudaFree(s->zeta2[i]);
    }
    for (int a = 0; a < 3; a++) {
        cudaFree(s->pa[a]);
        cudaFree(s->pb[a]);
        cudaFree(s->pah[a]);
        cudaFree(s->pbh[a]);
        cudaFree(s->g[a]);
    }
    cudaFree(s->rec);
    cudaFree(s->recbuf);
    free(s);
}

/* Allocates n floats on the device and copies host (if any) or zeroes. */
static int dalloc(float **d, size_t n, const float *host, const char *what, char *err,
                  size_t errlen)
{
    CK(cudaMalloc((void **)d, n * sizeof(float)), what);
    if (host)
        CK(cudaMemcpy(*d, host, n * sizeof(float), cudaMemcpyHostToDevice), what);
    else
        CK(cudaMemset(*d, 0, n * sizeof(float)), what);
    return 0;
}

/* Allocates fields and uploads model and profiles. See fd_backend_ops. */
static int cu_create(void **state, const struct fd_layout *L,
                     const float *const model[FD_MAX_MODEL], int ordinal, char *err,
                     size_t errlen)
{
    if (use_device(ordinal, err, errlen) != 0)
        return -1;
    struct cuda_state *s = (struct cuda_state *)calloc(1, sizeof *s);
    if (!s) {
        if (err && errlen)
            snprintf(err, errlen, "fd cuda: out of host memory");
        return -1;
    }
    s->L = L;
    s->dev = ordinal;
    static const int nfs[] = {2, 4, 5, 8}, nms[] = {1, 2, 4, 7}; /* by equation */
    s->nf = nfs[L->eq];
    s->nm = nms[L->eq];
    for (int i = 0; i < s->nf; i++)
        if (dalloc(&s->f[i], L->cells, NULL, "allocating a wavefield", err, errlen))
            goto fail;
    for (int i = 0; i < s->nm; i++)
        if (dalloc(&s->m[i], L->cells, model[i], "uploading the model", err, errlen))
            goto fail;
    for (int i = 0; i < L->nslab; i++)
        if (dalloc(&s->psi[i], L->slab[i].cells, NULL, "allocating CPML memory", err,
                   errlen) ||
            dalloc(&s->zeta[i], L->slab[i].cells, NULL, "allocating CPML memory", err,
                   errlen) ||
            (L->eq == FD_TTI && (dalloc(&s->psi2[i], L->slab[i].cells, NULL,
                                        "allocating CPML memory", err, errlen) ||
                                 dalloc(&s->zeta2[i], L->slab[i].cells, NULL,
                                        "allocating CPML memory", err, errlen))))
            goto fail;
    for (int a = 0; a < 3; a++) {
        size_t n = (size_t)L->n[a];
        if (L->boundary == FD_BOUNDARY_CPML) {
            if (dalloc(&s->pa[a], n, L->pa[a], "uploading CPML profiles", err, errlen) ||
                dalloc(&s->pb[a], n, L->pb[a], "uploading CPML profiles", err, errlen) ||
                dalloc(&s->pah[a], n, L->pah[a], "uploading CPML profiles", err,
                       errlen) ||
                dalloc(&s->pbh[a], n, L->pbh[a], "uploading CPML profiles", err, errlen))
                goto fail;
        }
        if (L->g[a] &&
            dalloc(&s->g[a], n, L->g[a], "uploading sponge profiles", err, errlen))
            goto fail;
    }
    *state = s;
    return 0;
fail:
    cu_destroy(s);
    return -1;
}

/* Zeroes fields, installs source and receivers. See fd_backend_ops. */
static int cu_begin_shot(void *state, const struct fd_interp *src,
                         const struct fd_interp *rec, size_t nrec, int chunk, char *err,
                         size_t errlen)
{
    struct cuda_state *s = (struct cuda_state *)state;
    const struct fd_layout *L = s->L;
    CK(cudaSetDevice(s->dev), "selecting the CUDA device");
    for (int i = 0; i < s->nf; i++)
        CK(cudaMemset(s->f[i], 0, L->cells * sizeof(float)), "zeroing a wavefield");
    for (int i = 0; i < L->nslab; i++) {
        CK(cudaMemset(s->psi[i], 0, L->slab[i].cells * sizeof(float)),
           "zeroing CPML memory");
        CK(cudaMemset(s->zeta[i], 0, L->slab[i].cells * sizeof(float)),
           "zeroing CPML memory");
        if (s->psi2[i]) {
            CK(cudaMemset(s->psi2[i], 0, L->slab[i].cells * sizeof(float)),
               "zeroing CPML memory");
            CK(cudaMemset(s->zeta2[i], 0, L->slab[i].cells * sizeof(float)),
               "zeroing CPML memory");
        }
    }
    for (int j = 0; j < 8; j++) {
        float m0 = 0.0f, m1 = 0.0f;
        CK(cudaMemcpy(&m0, s->m[0] + src->idx[j], sizeof(float), cudaMemcpyDeviceToHost),
           "reading the model at the source");
        if (s->nm > 1)
            CK(cudaMemcpy(&m1, s->m[1] + src->idx[j], sizeof(float),
                          cudaMemcpyDeviceToHost),
               "reading the model at the source");
        s->src.idx[j] = src->idx[j];
        s->src.coef[j] = fd_source_coef(L->eq, src->w[j], m0, m1);
    }
    CK(cudaFree(s->rec), "freeing receiver tables");
    CK(cudaFree(s->recbuf), "freeing the record buffer");
    s->rec = NULL;
    s->recbuf = NULL;
    s->nrec = nrec;
    s->chunk = chunk;
    if (nrec == 0)
        return 0;
    CK(cudaMalloc((void **)&s->rec, nrec * sizeof *rec), "allocating receiver tables");
    CK(cudaMemcpy(s->rec, rec, nrec * sizeof *rec, cudaMemcpyHostToDevice),
       "uploading receiver tables");
    CK(cudaMalloc((void **)&s->recbuf, nrec * (size_t)chunk * sizeof(float)),
       "allocating the record buffer");
    return 0;
}

/* Launch shape of a box: z threads x 32, x threads x 4, one y per grid z. */
static void box_launch(const sbox &b, dim3 *grid, dim3 *block)
{
    *block = dim3(32, 4, 1);
    *grid = dim3((unsigned)((b.n[2] + 31) / 32), (unsigned)((b.n[0] + 3) / 4),
                 (unsigned)b.n[1]);
}

/* Kernel view of slab k. */
static sbox slab_box(const struct fd_layout *L, int k)
{
    const struct fd_slab *sl = &L->slab[k];
    sbox b;
    for (int a = 0; a < 3; a++) {
        b.lo[a] = sl->box.lo[a];
        b.n[a] = sl->box.hi[a] - sl->box.lo[a];
    }
    b.m0 = sl->m[0];
    b.m2 = sl->m[2];
    b.axis = sl->axis;
    b.st = sl->axis == 0 ? L->sx : (sl->axis == 1 ? L->sy : 1);
    b.tt = sl->axis == 0 ? sl->m[2] : (sl->axis == 1 ? sl->m[0] * sl->m[2] : 1);
    return b;
}

/* Kernel view of sponge box k. */
static sbox shell_box(const struct fd_layout *L, int k)
{
    sbox b;
    memset(&b, 0, sizeof b);
    for (int a = 0; a < 3; a++) {
        b.lo[a] = L->shell[k].lo[a];
        b.n[a] = L->shell[k].hi[a] - L->shell[k].lo[a];
    }
    return b;
}

/* Weights of one axis for the boundary kernels: w[0..4] = 2nd derivative
 * (or 0, staggered 1..4), w[5..8] = centred 1st derivative 1..4. */
static w13 axis_weights(const struct fd_layout *L, int a, bool staggered)
{
    w13 c;
    memset(&c, 0, sizeof c);
    for (int k = 0; k < 5; k++)
        c.w[k] = staggered ? L->ws[a][k] : L->w2[a][k];
    if (!staggered)
        for (int k = 1; k < 5; k++) {
            c.w[k] = L->w2[a][k];
            c.w[4 + k] = L->w1[a][k];
        }
    return c;
}

/* Interior weights: acoustic2 {centre, (x,y,z) k=1..4}; acoustic1 {(x,y,z) k}. */
static w13 interior_weights(const struct fd_layout *L)
{
    w13 c;
    memset(&c, 0, sizeof c);
    if (L->eq == FD_ACOUSTIC2) {
        c.w[0] = L->w2[0][0] + L->w2[1][0] + L->w2[2][0];
        for (int k = 1; k <= 4; k++)
            for (int a = 0; a < 3; a++)
                c.w[3 * (k - 1) + 1 + a] = L->w2[a][k];
    } else {
        for (int k = 1; k <= 4; k++)
            for (int a = 0; a < 3; a++)
                c.w[3 * (k - 1) + a] = L->ws[a][k];
    }
    return c;
}

/* Sponge on all shell boxes for nf fields. */
static int cu_sponge(struct cuda_state *s, float *const *f, int nf, const geo &g,
                     char *err, size_t errlen)
{
    const struct fd_layout *L = s->L;
    for (int k = 0; k < L->nshell; k++) {
        sbox b = shell_box(L, k);
        dim3 grid, block;
        box_launch(b, &grid, &block);
        k_sponge<<<grid, block>>>(f[0], nf > 1 ? f[1] : NULL, nf > 2 ? f[2] : NULL,
                                  nf > 3 ? f[3] : NULL, nf, s->g[0], s->g[1], s->g[2], g,
                                  b);
        CKL("launching the sponge kernel");
    }
    return 0;
}

/* Free-surface image of field f. */
static int cu_image(struct cuda_state *s, float *f, int staggered, const geo &g,
                    char *err, size_t errlen)
{
    dim3 grid((unsigned)((s->L->n[0] + 127) / 128), (unsigned)s->L->n[1], 1);
    k_image<<<grid, 128>>>(f, g, staggered);
    CKL("launching the free-surface kernel");
    return 0;
}

/* acoustic1 CPML corrections on every slab, in slab order: of the velocities
 * (vel) or of the pressure. */
static int cu_a1_cpml(struct cuda_state *s, const geo &g, bool vel, char *err,
                      size_t errlen)
{
    const struct fd_layout *L = s->L;
    for (int k = 0; k < L->nslab; k++) {
        const sbox b = slab_box(L, k);
        const w13 c = axis_weights(L, b.axis, true);
        float *p = s->f[0], *v = s->f[1 + b.axis];
        dim3 bg, bb;
        box_launch(b, &bg, &bb);
        if (vel)
            k_a1_cpml_vel<<<bg, bb>>>(p, s->m[1], v, s->psi[k], s->pah[b.axis],
                                      s->pbh[b.axis], g, b, c);
        else
            k_a1_cpml_pres<<<bg, bb>>>(p, s->m[0], v, s->zeta[k], s->pa[b.axis],
                                       s->pb[b.axis], g, b, c);
        CKL(vel ? "launching the CPML velocity kernel"
                : "launching the CPML pressure kernel");
    }
    return 0;
}

/* vti/tti CPML corrections on every slab, in slab order (fd_cpu_aniso_cpml):
 * stage 0 T (tti), 1 velocities, 2 stresses. */
static int cu_aniso_cpml(struct cuda_state *s, const geo &g, int stage, char *err,
                         size_t errlen)
{
    const struct fd_layout *L = s->L;
    float **f = s->f;
    for (int k = 0; k < L->nslab; k++) {
        const sbox b = slab_box(L, k);
        const int a = b.axis;
        const w13 c = axis_weights(L, a, true);
        dim3 bg, bb;
        box_launch(b, &bg, &bb);
        if (stage == 0)
            k_tti_cpml_t<<<bg, bb>>>(f[0], f[4], s->m[4 + a], f[5 + a], s->psi2[k],
                                     s->pah[a], s->pbh[a], g, b, c);
        else if (stage == 1) /* vti's z velocity is driven by sV */
            k_a1_cpml_vel<<<bg, bb>>>(L->eq == FD_VTI && a == 2 ? f[4] : f[0], s->m[1],
                                      f[1 + a], s->psi[k], s->pah[a], s->pbh[a], g, b, c);
        else if (L->eq == FD_VTI)
            k_vti_cpml_pres<<<bg, bb>>>(f[0], f[4], s->m[0], a == 2 ? s->m[3] : s->m[2],
                                        a == 2 ? NULL : s->m[3], f[1 + a], s->zeta[k],
                                        s->pa[a], s->pb[a], g, b, c);
        else {
            tti_cpml_ptrs P = {f[0],    f[4],    s->zeta[k], s->zeta2[k], s->m[0],
                               s->m[2], s->m[3], f[1 + a],   f[5 + a]};
            k_tti_cpml_pres<<<bg, bb>>>(P, s->pa[a], s->pb[a], g, b, c);
        }
        CKL("launching an anisotropic CPML kernel");
    }
    return 0;
}

/* One vti or tti step, in fd_cpu.c aniso_step's order. */
static int cu_step_aniso(struct cuda_state *s, float amp, const geo &g, const w13 &wi,
                         dim3 grid, dim3 block, char *err, size_t errlen)
{
    const struct fd_layout *L = s->L;
    const bool cpml = L->boundary == FD_BOUNDARY_CPML;
    float **f = s->f;
    tti_ptrs P = {f[0],    f[4],    f[1],    f[2],    f[3],    f[5],    f[6],   f[7],
                  s->m[0], s->m[1], s->m[2], s->m[3], s->m[4], s->m[5], s->m[6]};
    if (L->eq == FD_VTI)
        k_tti<<<grid, block>>>(P, 4, g, wi);
    else {
        k_tti<<<grid, block>>>(P, 0, g, wi);
        CKL("launching an anisotropic velocity kernel");
        if (cpml && cu_aniso_cpml(s, g, 0, err, errlen))
            return -1;
        k_tti<<<grid, block>>>(P, 1, g, wi);
    }
    CKL("launching an anisotropic velocity kernel");
    if (cpml && cu_aniso_cpml(s, g, 1, err, errlen))
        return -1;
    if (L->free_surface && cu_image(s, f[3], 1, g, err, errlen))
        return -1;
    if (L->eq == FD_VTI)
        k_tti<<<grid, block>>>(P, 5, g, wi);
    else {
        k_tti<<<grid, block>>>(P, 2, g, wi);
        k_tti<<<grid, block>>>(P, 3, g, wi);
    }
    CKL("launching an anisotropic stress kernel");
    if (cpml && cu_aniso_cpml(s, g, 2, err, errlen))
        return -1;
    k_source<<<1, 1>>>(f[0], s->src, amp);
    k_source<<<1, 1>>>(f[4], s->src, amp);
    CKL("launching the source kernel");
    if (!cpml &&
        (cu_sponge(s, f, 4, g, err, errlen) || cu_sponge(s, f + 4, 1, g, err, errlen)))
        return -1;
    if (L->free_surface &&
        (cu_image(s, f[0], 0, g, err, errlen) || cu_image(s, f[4], 0, g, err, errlen)))
        return -1;
    return 0;
}

/* One time step (see fd_cpu.c cpu_step for the order of operations). */
static int cu_step(void *state, float amp, char *err, size_t errlen)
{
    struct cuda_state *s = (struct cuda_state *)state;
    const struct fd_layout *L = s->L;
    const geo g = make_geo(L);
    const w13 wi = interior_weights(L);
    const dim3 block(BZ, BX, 1);
    const dim3 grid((unsigned)((L->n[2] + BZ - 1) / BZ),
                    (unsigned)((L->n[0] + BX - 1) / BX),
                    (unsigned)((L->n[1] + YCHUNK - 1) / YCHUNK));
    CK(cudaSetDevice(s->dev), "selecting the CUDA device");
    if (L->eq == FD_ACOUSTIC2) {
        float *p = s->f[0], *pn = s->f[1];
        k_a2_main<<<grid, block>>>(p, pn, s->m[0], g, wi);
        CKL("launching the acoustic2 kernel");
        if (L->boundary == FD_BOUNDARY_CPML) {
            for (int k = 0; k < L->nslab; k++) {
                sbox b = slab_box(L, k);
                w13 c = axis_weights(L, b.axis, false);
                w13 c1;
                memset(&c1, 0, sizeof c1);
                for (int j = 1; j < 5; j++)
                    c1.w[j] = L->w1[b.axis][j];
                dim3 bg, bb;
                box_launch(b, &bg, &bb);
                k_a2_psi<<<bg, bb>>>(p, s->psi[k], s->pa[b.axis], s->pb[b.axis], g, b,
                                     c1);
                CKL("launching the CPML psi kernel");
                k_a2_zeta<<<bg, bb>>>(p, pn, s->m[0], s->psi[k], s->zeta[k],
                                      s->pa[b.axis], s->pb[b.axis], g, b, c);
                CKL("launching the CPML zeta kernel");
            }
        } else {
            float *fs[2] = {p, pn};
            if (cu_sponge(s, fs, 2, g, err, errlen))
                return -1;
        }
        k_source<<<1, 1>>>(pn, s->src, amp);
        CKL("launching the source kernel");
        if (L->free_surface && cu_image(s, pn, 0, g, err, errlen))
            return -1;
        s->f[0] = pn;
        s->f[1] = p;
        return 0;
    }
    if (L->eq == FD_VTI || L->eq == FD_TTI)
        return cu_step_aniso(s, amp, g, wi, grid, block, err, errlen);
    float *p = s->f[0];
    k_a1_vel<<<grid, block>>>(p, s->m[1], s->f[1], s->f[2], s->f[3], g, wi);
    CKL("launching the acoustic1 velocity kernel");
    if (L->boundary == FD_BOUNDARY_CPML && cu_a1_cpml(s, g, true, err, errlen))
        return -1;
    if (L->free_surface && cu_image(s, s->f[3], 1, g, err, errlen))
        return -1;
    k_a1_pres<<<grid, block>>>(p, s->m[0], s->f[1], s->f[2], s->f[3], g, wi);
    CKL("launching the acoustic1 pressure kernel");
    if (L->boundary == FD_BOUNDARY_CPML && cu_a1_cpml(s, g, false, err, errlen))
        return -1;
    k_source<<<1, 1>>>(p, s->src, amp);
    CKL("launching the source kernel");
    if (L->boundary == FD_BOUNDARY_SPONGE && cu_sponge(s, s->f, 4, g, err, errlen))
        return -1;
    if (L->free_surface && cu_image(s, p, 0, g, err, errlen))
        return -1;
    return 0;
}

/* Gathers receivers into a slot of the device record buffer. */
static int cu_record(void *state, int slot, char *err, size_t errlen)
{
    struct cuda_state *s = (struct cuda_state *)state;
    CK(cudaSetDevice(s->dev), "selecting the CUDA device");
    unsigned blocks = (unsigned)((s->nrec + 127) / 128);
    k_record<<<blocks, 128>>>(s->f[0], s->rec, s->nrec,
                              s->recbuf + (size_t)slot * s->nrec);
    CKL("launching the receiver kernel");
    return 0;
}

/* Copies count slots of the record buffer to host (synchronises, so errors of
 * earlier kernels surface here). */
static int cu_fetch(void *state, int count, float *host, char *err, size_t errlen)
{
    struct cuda_state *s = (struct cuda_state *)state;
    CK(cudaSetDevice(s->dev), "selecting the CUDA device");
    CK(cudaMemcpy(host, s->recbuf, (size_t)count * s->nrec * sizeof(float),
                  cudaMemcpyDeviceToHost),
       "copying receiver samples to the host");
    return 0;
}

/* Copies the model part of the pressure to host, one y plane per 2-D copy. */
static int cu_snapshot(void *state, float *host, char *err, size_t errlen)
{
    struct cuda_state *s = (struct cuda_state *)state;
    const struct fd_layout *L = s->L;
    const geo g = make_geo(L);
    CK(cudaSetDevice(s->dev), "selecting the CUDA device");
    const size_t col = (size_t)L->mn[2] * sizeof(float);
    for (int64_t y = 0; y < L->mn[1]; y++) {
        const float *src = s->f[0] + gidx(g, L->off[0], L->off[1] + y, L->off[2]);
        CK(cudaMemcpy2D(host + (size_t)y * (size_t)L->mn[0] * (size_t)L->mn[2], col, src,
                        (size_t)L->sx * sizeof(float), col, (size_t)L->mn[0],
                        cudaMemcpyDeviceToHost),
           "copying a snapshot to the host");
    }
    return 0;
}

/* Replaces model array which with host. See fd_backend_ops.set_model. */
static int cu_set_model(void *state, int which, const float *host, char *err,
                        size_t errlen)
{
    struct cuda_state *s = (struct cuda_state *)state;
    if (which < 0 || which >= s->nm) {
        if (err && errlen)
            snprintf(err, errlen, "fd cuda: no model array %d", which);
        return -1;
    }
    CK(cudaSetDevice(s->dev), "selecting the CUDA device");
    CK(cudaMemcpy(s->m[which], host, s->L->cells * sizeof(float), cudaMemcpyHostToDevice),
       "uploading a model array");
    return 0;
}

extern "C" const struct fd_backend_ops fd_cuda_ops = {
    "cuda",   cu_create,   cu_begin_shot, cu_step,    cu_record,
    cu_fetch, cu_snapshot, cu_set_model,  cu_destroy,
};
