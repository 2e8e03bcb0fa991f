/* fd_cpu_aniso: the VTI pseudo-acoustic kernels of the CPU back end.
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
