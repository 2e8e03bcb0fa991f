/* fd_cpu_kern: the interior 8th-order stencils of the CPU back end.
 *
 * Each kernel walks tiles of (bx x-columns) x (FD_TILE_Y y-planes); within a
 * tile y is outer, x middle and z innermost and contiguous. A tile's working
 * set (9 y-planes of bx+8 columns) is sized to stay in a core's L2 cache.
 * The operation order (k = 1..4 outer; x, y, z inner) is the one the CUDA
 * kernels use, so the two back ends round alike.
 */
#include "fd/fd_cpu.h"

/* See fd_cpu.h: at least 4, at most the box width. */
int64_t fd_cpu_tile_x(const struct fd_layout *L)
{
    int64_t bx = FD_TILE_BYTES / (36 * L->m[2]) - 8;
    if (bx < 4)
        bx = 4;
    return bx > L->n[0] ? L->n[0] : bx;
}

/* One z column of the acoustic2 update: o = 2c - o + v lap(c). w holds the
 * centre weight, then (x, y, z) weights for k = 1..4. */
FD_CLONES static void a2_column(int64_t nz, const float *restrict c, float *restrict o,
                                const float *restrict v, int64_t sx, int64_t sy,
                                const float *w)
{
    const float w0 = w[0], x1 = w[1], y1 = w[2], z1 = w[3], x2 = w[4], y2 = w[5],
                z2 = w[6], x3 = w[7], y3 = w[8], z3 = w[9], x4 = w[10], y4 = w[11],
                z4 = w[12];
    for (int64_t z = 0; z < nz; z++) {
        float lap = w0 * c[z];
        lap += x1 * (c[z + sx] + c[z - sx]);
        lap += y1 * (c[z + sy] + c[z - sy]);
        lap += z1 * (c[z + 1] + c[z - 1]);
        lap += x2 * (c[z + 2 * sx] + c[z - 2 * sx]);
        lap += y2 * (c[z + 2 * sy] + c[z - 2 * sy]);
        lap += z2 * (c[z + 2] + c[z - 2]);
        lap += x3 * (c[z + 3 * sx] + c[z - 3 * sx]);
        lap += y3 * (c[z + 3 * sy] + c[z - 3 * sy]);
        lap += z3 * (c[z + 3] + c[z - 3]);
        lap += x4 * (c[z + 4 * sx] + c[z - 4 * sx]);
        lap += y4 * (c[z + 4 * sy] + c[z - 4 * sy]);
        lap += z4 * (c[z + 4] + c[z - 4]);
        o[z] = 2.0f * c[z] - o[z] + v[z] * lap;
    }
}

/* One z column of the acoustic1 velocity update; w: (x, y, z) for k = 1..4. */
FD_CLONES static void a1_vel_column(int64_t nz, const float *restrict c,
                                    const float *restrict b, float *restrict vx,
                                    float *restrict vy, float *restrict vz, int64_t sx,
                                    int64_t sy, const float *w)
{
    const float x1 = w[0], y1 = w[1], z1 = w[2], x2 = w[3], y2 = w[4], z2 = w[5],
                x3 = w[6], y3 = w[7], z3 = w[8], x4 = w[9], y4 = w[10], z4 = w[11];
    for (int64_t z = 0; z < nz; z++) {
        float dx = x1 * (c[z + sx] - c[z]);
        float dy = y1 * (c[z + sy] - c[z]);
        float dz = z1 * (c[z + 1] - c[z]);
        dx += x2 * (c[z + 2 * sx] - c[z - sx]);
        dy += y2 * (c[z + 2 * sy] - c[z - sy]);
        dz += z2 * (c[z + 2] - c[z - 1]);
        dx += x3 * (c[z + 3 * sx] - c[z - 2 * sx]);
        dy += y3 * (c[z + 3 * sy] - c[z - 2 * sy]);
        dz += z3 * (c[z + 3] - c[z - 2]);
        dx += x4 * (c[z + 4 * sx] - c[z - 3 * sx]);
        dy += y4 * (c[z + 4 * sy] - c[z - 3 * sy]);
        dz += z4 * (c[z + 4] - c[z - 3]);
        vx[z] -= 0.5f * (b[z] + b[z + sx]) * dx;
        vy[z] -= 0.5f * (b[z] + b[z + sy]) * dy;
        vz[z] -= 0.5f * (b[z] + b[z + 1]) * dz;
    }
}

/* One z column of the acoustic1 pressure update; w as a1_vel_column. */
FD_CLONES static void a1_pres_column(int64_t nz, float *restrict p,
                                     const float *restrict k, const float *restrict vx,
                                     const float *restrict vy, const float *restrict vz,
                                     int64_t sx, int64_t sy, const float *w)
{
    const float x1 = w[0], y1 = w[1], z1 = w[2], x2 = w[3], y2 = w[4], z2 = w[5],
                x3 = w[6], y3 = w[7], z3 = w[8], x4 = w[9], y4 = w[10], z4 = w[11];
    for (int64_t z = 0; z < nz; z++) {
        float d = x1 * (vx[z] - vx[z - sx]);
        d += y1 * (vy[z] - vy[z - sy]);
        d += z1 * (vz[z] - vz[z - 1]);
        d += x2 * (vx[z + sx] - vx[z - 2 * sx]);
        d += y2 * (vy[z + sy] - vy[z - 2 * sy]);
        d += z2 * (vz[z + 1] - vz[z - 2]);
        d += x3 * (vx[z + 2 * sx] - vx[z - 3 * sx]);
        d += y3 * (vy[z + 2 * sy] - vy[z - 3 * sy]);
        d += z3 * (vz[z + 2] - vz[z - 3]);
        d += x4 * (vx[z + 3 * sx] - vx[z - 4 * sx]);
        d += y4 * (vy[z + 3 * sy] - vy[z - 4 * sy]);
        d += z4 * (vz[z + 3] - vz[z - 4]);
        p[z] -= k[z] * d;
    }
}

/* Runs one interior column kernel over the whole compute box (an orphaned
 * `omp for` over tiles), followed on each column by the z-axis CPML work of
 * that column while it is in cache. */
static void interior_sweep(struct fd_cpu *s, enum fd_cpu_pass what, const float *p,
                           float *pn)
{
    const struct fd_layout *L = s->L;
    const int64_t nx = L->n[0], ny = L->n[1], nz = L->n[2];
    const int64_t sx = L->sx, sy = L->sy;
    /* acoustic2: centre, then (x, y, z) for k = 1..4; acoustic1: (x, y, z). */
    float w[13];
    if (what == FD_PASS_A2) {
        w[0] = L->w2[0][0] + L->w2[1][0] + L->w2[2][0];
        for (int k = 1; k <= 4; k++)
            for (int a = 0; a < 3; a++)
                w[3 * (k - 1) + 1 + a] = L->w2[a][k];
    } else {
        for (int k = 1; k <= 4; k++)
            for (int a = 0; a < 3; a++)
                w[3 * (k - 1) + a] = L->ws[a][k];
        w[12] = 0.0f;
    }
    const bool zcpml = L->boundary == FD_BOUNDARY_CPML;
    const int64_t bx = fd_cpu_tile_x(L);
    const int64_t nbx = (nx + bx - 1) / bx, nby = (ny + FD_TILE_Y - 1) / FD_TILE_Y;
#pragma omp for schedule(static)
    for (int64_t t = 0; t < nbx * nby; t++) {
        const int64_t y0 = t / nbx * FD_TILE_Y, x0 = t % nbx * bx;
        const int64_t y1 = y0 + FD_TILE_Y < ny ? y0 + FD_TILE_Y : ny;
        const int64_t x1 = x0 + bx < nx ? x0 + bx : nx;
        for (int64_t y = y0; y < y1; y++) {
            for (int64_t x = x0; x < x1; x++) {
                const int64_t i0 = fd_cpu_idx(L, x, y, 0);
                switch (what) {
                case FD_PASS_A2:
                    a2_column(nz, p + i0, pn + i0, s->m[0] + i0, sx, sy, w);
                    break;
                case FD_PASS_A1_VEL:
                    a1_vel_column(nz, p + i0, s->m[1] + i0, s->f[1] + i0, s->f[2] + i0,
                                  s->f[3] + i0, sx, sy, w);
                    break;
                case FD_PASS_A1_PRES:
                    a1_pres_column(nz, s->f[0] + i0, s->m[0] + i0, s->f[1] + i0,
                                   s->f[2] + i0, s->f[3] + i0, sx, sy, w);
                    break;
                }
                if (zcpml)
                    fd_cpu_cpml_zcolumn(s, what, x, y, p, pn);
            }
        }
    }
}

/* See fd_cpu.h (an orphaned omp for: call from every thread of a region). */
void fd_cpu_a2_main(struct fd_cpu *s, const float *p, float *pn)
{
    /* pn = 2 p - pn + v^2 dt^2 lap(p) on every compute point. */
    interior_sweep(s, FD_PASS_A2, p, pn);
}

/* See fd_cpu.h (orphaned omp for). */
void fd_cpu_a1_vel(struct fd_cpu *s)
{
    /* v_a(i + 1/2) -= dt b_avg D+_a p for the three axes; b averaged over the
     * two cells either side of the staggered point. */
    interior_sweep(s, FD_PASS_A1_VEL, s->f[0], NULL);
}

/* See fd_cpu.h (orphaned omp for). */
void fd_cpu_a1_pres(struct fd_cpu *s)
{
    /* p -= dt kappa (D-_x vx + D-_y vy + D-_z vz). */
    interior_sweep(s, FD_PASS_A1_PRES, s->f[0], NULL);
}
