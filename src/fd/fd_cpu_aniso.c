/* fd_cpu_aniso: the VTI and TTI pseudo-acoustic kernels of the CPU back end.
 *
 * First-order system of Duveneck, Milcik, Bakker & Perkins (2008) / Duveneck &
 * Bakker (2011) with variable density, on the acoustic1 staggered grid: two
 * stresses sH (f[0]) and sV (f[4]), particle velocities (f[1..3]):
 *     v_x -= dt/rho D+_x sH,  v_y -= dt/rho D+_y sH,  v_z -= dt/rho D+_z sV,
 *     sH  -= dt kappa ((1 + 2 eps) (D-_x v_x + D-_y v_y) + sqrt(1 + 2 delta) D-_z v_z),
 *     sV  -= dt kappa (sqrt(1 + 2 delta) (D-_x v_x + D-_y v_y) + D-_z v_z).
 * Its energy is positive definite when eps >= delta, so it is stable there; with
 * eps = delta = 0, sH = sV = p and it is acoustic1. The recorded pressure is sH.
 * Model arrays: m[0] = dt kappa, m[1] = dt / rho, m[2] = 1 + 2 eps,
 * m[3] = sqrt(1 + 2 delta).
 *
 * TTI (Duveneck & Bakker 2011) with the symmetry axis n = (sin t cos f,
 * sin t sin f, cos t) per cell (m[4..6]) and Cartesian velocities:
 *     rho dv/dt = -(grad sH + N grad (sV - sH)),            N ~ n n^T,
 *     dsH/dt = -kappa ((1 + 2 eps) eH + q eV),  dsV/dt = -kappa (q eH + eV),
 *     eV = -N^T grad^T v = div (n n^T v),  eH = div v - eV.
 * The discrete N is diag(n) S diag(n), S the 4-point average between two
 * staggered grids (identity on its own grid); the stress update uses exactly
 * the transpose of the velocity update's operator, so the scheme conserves
 * the discrete energy (positive for eps >= delta) for any tilt field, and
 * with n = (0, 0, 1) it is the VTI scheme. Scratch fields f[5..7] hold
 * T_j = n_j D+_j (sV - sH) between passes A and B and U_j = n_j sum_i S_ji
 * (n_i v_i) between passes C and D.
 */
#include "fd/fd_cpu.h"

/* One z column of the VTI velocity update; w: (x, y, z) for k = 1..4. */
FD_CLONES static void vti_vel_column(int64_t nz, const float *restrict h,
                                     const float *restrict v, const float *restrict b,
                                     float *restrict vx, float *restrict vy,
                                     float *restrict vz, int64_t sx, int64_t sy,
                                     const float *w)
{
    for (int64_t z = 0; z < nz; z++) {
        float dx = 0.0f, dy = 0.0f, dz = 0.0f;
        for (int k = 1; k <= 4; k++) {
            dx += w[3 * (k - 1)] * (h[z + k * sx] - h[z - (k - 1) * sx]);
            dy += w[3 * (k - 1) + 1] * (h[z + k * sy] - h[z - (k - 1) * sy]);
            dz += w[3 * (k - 1) + 2] * (v[z + k] - v[z - (k - 1)]);
        }
        vx[z] -= 0.5f * (b[z] + b[z + sx]) * dx;
        vy[z] -= 0.5f * (b[z] + b[z + sy]) * dy;
        vz[z] -= 0.5f * (b[z] + b[z + 1]) * dz;
    }
}

/* One z column of the VTI stress update; w as vti_vel_column. */
FD_CLONES static void vti_pres_column(int64_t nz, float *restrict h, float *restrict v,
                                      const float *restrict kap, const float *restrict e,
                                      const float *restrict q, const float *restrict vx,
                                      const float *restrict vy, const float *restrict vz,
                                      int64_t sx, int64_t sy, const float *w)
{
    for (int64_t z = 0; z < nz; z++) {
        float dh = 0.0f, dz = 0.0f;
        for (int k = 1; k <= 4; k++) {
            dh += w[3 * (k - 1)] * (vx[z + (k - 1) * sx] - vx[z - k * sx]);
            dh += w[3 * (k - 1) + 1] * (vy[z + (k - 1) * sy] - vy[z - k * sy]);
            dz += w[3 * (k - 1) + 2] * (vz[z + (k - 1)] - vz[z - k]);
        }
        h[z] -= kap[z] * (e[z] * dh + q[z] * dz);
        v[z] -= kap[z] * (q[z] * dh + dz);
    }
}

/* See fd_cpu.h (orphaned omp for): one VTI pass (vel or stress) over the box. */
void fd_cpu_vti_pass(struct fd_cpu *s, bool stress)
{
    const struct fd_layout *L = s->L;
    const int64_t nx = L->n[0], ny = L->n[1], nz = L->n[2];
    float w[12];
    for (int k = 1; k <= 4; k++)
        for (int a = 0; a < 3; a++)
            w[3 * (k - 1) + a] = L->ws[a][k];
#pragma omp for collapse(2) schedule(static)
    for (int64_t y = 0; y < ny; y++) {
        for (int64_t x = 0; x < nx; x++) {
            const int64_t i = fd_cpu_idx(L, x, y, 0);
            if (stress)
                vti_pres_column(nz, s->f[0] + i, s->f[4] + i, s->m[0] + i, s->m[2] + i,
                                s->m[3] + i, s->f[1] + i, s->f[2] + i, s->f[3] + i, L->sx,
                                L->sy, w);
            else
                vti_vel_column(nz, s->f[0] + i, s->f[4] + i, s->m[1] + i, s->f[1] + i,
                               s->f[2] + i, s->f[3] + i, L->sx, L->sy, w);
        }
    }
}

/* Pass A, one z column: T_j = n_j D+_j (sV - sH) for j = x, y, z. */
FD_CLONES static void tti_grad_column(int64_t nz, const float *restrict h,
                                      const float *restrict v, const float *restrict nx,
                                      const float *restrict ny, const float *restrict nzv,
                                      float *restrict tx, float *restrict ty,
                                      float *restrict tz, int64_t sx, int64_t sy,
                                      const float *w)
{
    for (int64_t z = 0; z < nz; z++) {
        float ax = 0.0f, ay = 0.0f, az = 0.0f;
        for (int k = 1; k <= 4; k++) {
            ax += w[3 * (k - 1)] * ((v[z + k * sx] - h[z + k * sx]) -
                                    (v[z - (k - 1) * sx] - h[z - (k - 1) * sx]));
            ay += w[3 * (k - 1) + 1] * ((v[z + k * sy] - h[z + k * sy]) -
                                        (v[z - (k - 1) * sy] - h[z - (k - 1) * sy]));
            az += w[3 * (k - 1) + 2] *
                  ((v[z + k] - h[z + k]) - (v[z - (k - 1)] - h[z - (k - 1)]));
        }
        tx[z] = nx[z] * ax;
        ty[z] = ny[z] * ay;
        tz[z] = nzv[z] * az;
    }
}

/* 4-point average from the staggered grid of u (axis j, stride sj) to the one
 * of axis i (stride si) at index z: S_ij u. */
static inline float stag_avg(const float *u, int64_t z, int64_t si, int64_t sj)
{
    return 0.25f * ((u[z] + u[z - sj]) + (u[z + si] + u[z + si - sj]));
}

/* Pass B, one z column: v_i -= dt/rho (D+_i sH + n_i sum_j S_ij T_j). */
FD_CLONES static void tti_vel_column(int64_t nz, const float *restrict h,
                                     const float *restrict b, const float *const *nv,
                                     const float *const *t, float *restrict vx,
                                     float *restrict vy, float *restrict vz, int64_t sx,
                                     int64_t sy, const float *w)
{
    const float *restrict tx = t[0], *restrict ty = t[1], *restrict tz = t[2];
    const float *restrict nx = nv[0], *restrict ny = nv[1], *restrict nzv = nv[2];
    for (int64_t z = 0; z < nz; z++) {
        float dx = 0.0f, dy = 0.0f, dz = 0.0f;
        for (int k = 1; k <= 4; k++) {
            dx += w[3 * (k - 1)] * (h[z + k * sx] - h[z - (k - 1) * sx]);
            dy += w[3 * (k - 1) + 1] * (h[z + k * sy] - h[z - (k - 1) * sy]);
            dz += w[3 * (k - 1) + 2] * (h[z + k] - h[z - (k - 1)]);
        }
        const float rx = tx[z] + stag_avg(ty, z, sx, sy) + stag_avg(tz, z, sx, 1);
        const float ry = stag_avg(tx, z, sy, sx) + ty[z] + stag_avg(tz, z, sy, 1);
        const float rz = stag_avg(tx, z, 1, sx) + stag_avg(ty, z, 1, sy) + tz[z];
        vx[z] -= 0.5f * (b[z] + b[z + sx]) * (dx + nx[z] * rx);
        vy[z] -= 0.5f * (b[z] + b[z + sy]) * (dy + ny[z] * ry);
        vz[z] -= 0.5f * (b[z] + b[z + 1]) * (dz + nzv[z] * rz);
    }
}

/* 4-point average of n_i v_i from the grid of axis i (stride si) to the one of
 * axis j (stride sj) at index z: S_ji (n_i v_i). */
static inline float stag_avg_nv(const float *n, const float *v, int64_t z, int64_t sj,
                                int64_t si)
{
    return 0.25f * ((n[z] * v[z] + n[z - si] * v[z - si]) +
                    (n[z + sj] * v[z + sj] + n[z + sj - si] * v[z + sj - si]));
}

/* Pass C, one z column: U_j = n_j sum_i S_ji (n_i v_i) (the transpose of B's
 * n_i S_ij). */
FD_CLONES static void tti_proj_column(int64_t nz, const float *const *nv,
                                      const float *const *vv, float *restrict ux,
                                      float *restrict uy, float *restrict uz, int64_t sx,
                                      int64_t sy)
{
    const float *restrict nx = nv[0], *restrict ny = nv[1], *restrict nzv = nv[2];
    const float *restrict vx = vv[0], *restrict vy = vv[1], *restrict vz = vv[2];
    for (int64_t z = 0; z < nz; z++) {
        const float px = nx[z] * vx[z], py = ny[z] * vy[z], pz = nzv[z] * vz[z];
        ux[z] = nx[z] *
                (px + stag_avg_nv(ny, vy, z, sx, sy) + stag_avg_nv(nzv, vz, z, sx, 1));
        uy[z] = ny[z] *
                (stag_avg_nv(nx, vx, z, sy, sx) + py + stag_avg_nv(nzv, vz, z, sy, 1));
        uz[z] =
            nzv[z] * (stag_avg_nv(nx, vx, z, 1, sx) + stag_avg_nv(ny, vy, z, 1, sy) + pz);
    }
}

/* Pass D, one z column: eV = sum_j D-_j U_j, eH = div v - eV, stresses. */
FD_CLONES static void tti_pres_column(int64_t nz, float *restrict h, float *restrict v,
                                      const float *const *mod, const float *const *vv,
                                      const float *const *u, int64_t sx, int64_t sy,
                                      const float *w)
{
    const float *restrict kap = mod[0], *restrict e = mod[2], *restrict q = mod[3];
    const float *restrict vx = vv[0], *restrict vy = vv[1], *restrict vz = vv[2];
    const float *restrict ux = u[0], *restrict uy = u[1], *restrict uz = u[2];
    for (int64_t z = 0; z < nz; z++) {
        float dv = 0.0f, du = 0.0f;
        for (int k = 1; k <= 4; k++) {
            const float wx = w[3 * (k - 1)], wy = w[3 * (k - 1) + 1],
                        wz = w[3 * (k - 1) + 2];
            dv += wx * (vx[z + (k - 1) * sx] - vx[z - k * sx]);
            dv += wy * (vy[z + (k - 1) * sy] - vy[z - k * sy]);
            dv += wz * (vz[z + (k - 1)] - vz[z - k]);
            du += wx * (ux[z + (k - 1) * sx] - ux[z - k * sx]);
            du += wy * (uy[z + (k - 1) * sy] - uy[z - k * sy]);
            du += wz * (uz[z + (k - 1)] - uz[z - k]);
        }
        const float eh = dv - du;
        h[z] -= kap[z] * (e[z] * eh + q[z] * du);
        v[z] -= kap[z] * (q[z] * eh + du);
    }
}

/* Runs TTI pass 0..3 (A..D) on column (x, y) starting at field index i. */
static void tti_column(struct fd_cpu *s, int pass, int64_t i, const float *w)
{
    const struct fd_layout *L = s->L;
    const int64_t nz = L->n[2], sx = L->sx, sy = L->sy;
    const float *nv[3] = {s->m[4] + i, s->m[5] + i, s->m[6] + i};
    const float *vv[3] = {s->f[1] + i, s->f[2] + i, s->f[3] + i};
    const float *tc[3] = {s->f[5] + i, s->f[6] + i, s->f[7] + i};
    float *t0 = s->f[5] + i, *t1 = s->f[6] + i, *t2 = s->f[7] + i;
    switch (pass) {
    case 0:
        tti_grad_column(nz, s->f[0] + i, s->f[4] + i, nv[0], nv[1], nv[2], t0, t1, t2, sx,
                        sy, w);
        break;
    case 1:
        tti_vel_column(nz, s->f[0] + i, s->m[1] + i, nv, tc, s->f[1] + i, s->f[2] + i,
                       s->f[3] + i, sx, sy, w);
        break;
    case 2:
        tti_proj_column(nz, nv, vv, t0, t1, t2, sx, sy);
        break;
    default: {
        const float *mod[4] = {s->m[0] + i, s->m[1] + i, s->m[2] + i, s->m[3] + i};
        tti_pres_column(nz, s->f[0] + i, s->f[4] + i, mod, vv, tc, sx, sy, w);
        break;
    }
    }
}

/* See fd_cpu.h (orphaned omp for): one TTI pass over the box. */
void fd_cpu_tti_pass(struct fd_cpu *s, int pass)
{
    const struct fd_layout *L = s->L;
    float w[12];
    for (int k = 1; k <= 4; k++)
        for (int a = 0; a < 3; a++)
            w[3 * (k - 1) + a] = L->ws[a][k];
#pragma omp for collapse(2) schedule(static)
    for (int64_t y = 0; y < L->n[1]; y++)
        for (int64_t x = 0; x < L->n[0]; x++)
            tti_column(s, pass, fd_cpu_idx(L, x, y, 0), w);
}
