/* fd_cpu: internals shared by the CPU back end's files (fd_cpu.c, fd_cpu_kern.c,
 * fd_cpu_bnd.c). Not part of the engine API. */
#ifndef FD_CPU_H
#define FD_CPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fd/fd_backend.h"

struct fd_cpu {
    const struct fd_layout *L; /* layout, owned by the engine */
    int nth;                   /* OpenMP threads */
    int nf, nm;                /* wavefields, model arrays in use */
    float *f[8]; /* a2: p, p-; a1: p, vx, vy, vz; vti: + sV; tti: + 3 scratch */
    float *m[FD_MAX_MODEL];        /* a2: v^2 dt^2; a1: dt kappa, dt/rho */
    float *base[8 + FD_MAX_MODEL]; /* allocations behind f[] and m[] (see cpu_create) */
    float *psi[FD_MAXSLAB];        /* CPML memory: a2 psi, a1 psi of grad p */
    float *zeta[FD_MAXSLAB];       /* CPML memory: a2 zeta, a1 psi of div v */
    float *psi2[FD_MAXSLAB];       /* tti CPML memory of D+_a (sV - sH) */
    float *zeta2[FD_MAXSLAB];      /* tti CPML memory of D-_a U_a */
    struct fd_interp src;          /* source spreading */
    float coef[8];                 /* source coefficients (fd_source_coef) */
    struct fd_interp *rec;         /* receiver gathering, nrec */
    size_t nrec;                   /* receivers */
    float *recbuf;                 /* chunk x nrec samples, time-major */
    int chunk;                     /* slots in recbuf */
};

/* Field index of compute point (x, y, z) (layout in fd_backend.h). */
static inline int64_t fd_cpu_idx(const struct fd_layout *L, int64_t x, int64_t y,
                                 int64_t z)
{
    return (y + FD_HALO) * L->sy + (x + FD_HALO) * L->sx + (z + FD_HALO);
}

/* The column kernels are compiled for AVX-512 and AVX2 as well as the baseline
 * and the best is picked at load time (GCC function multiversioning). Every
 * clone does the same IEEE single operations in the same order (no FP
 * contraction in ISO C mode), so results do not depend on the clone. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) &&                   \
    !defined(__SANITIZE_ADDRESS__)
#define FD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define FD_CLONES
#endif

#define FD_TILE_Y 16               /* y planes per tile */
#define FD_TILE_BYTES (384 * 1024) /* target working set of a tile (9 planes) */

/* Tile width in x columns: 9 y-planes of a tile fit in FD_TILE_BYTES. */
int64_t fd_cpu_tile_x(const struct fd_layout *L);

/* The passes of a time step that sweep the whole compute box. */
enum fd_cpu_pass { FD_PASS_A2, FD_PASS_A1_VEL, FD_PASS_A1_PRES };

/* Interior stencils over the whole compute box, with the z-axis CPML work
 * done column by column (fd_cpu_kern.c). */
void fd_cpu_a2_main(struct fd_cpu *s, const float *p, float *pn);
void fd_cpu_a1_vel(struct fd_cpu *s);
void fd_cpu_a1_pres(struct fd_cpu *s);

/* Boundaries (fd_cpu_bnd.c). The CPML functions handle the x and y slabs; the
 * z slabs of column (x, y) are done by fd_cpu_cpml_zcolumn right after the
 * interior pass on that column (same order as the CUDA back end, whose slab
 * list starts with the z slabs). */
void fd_cpu_cpml_zcolumn(struct fd_cpu *s, enum fd_cpu_pass what, int64_t x, int64_t y,
                         const float *p, float *pn);
void fd_cpu_a2_cpml(struct fd_cpu *s, const float *p, float *pn);
void fd_cpu_a1_cpml_vel(struct fd_cpu *s);
void fd_cpu_a1_cpml_pres(struct fd_cpu *s);
/* VTI velocity (stress = false) or stress pass (fd_cpu_aniso.c, omp for). */
void fd_cpu_vti_pass(struct fd_cpu *s, bool stress);
/* TTI pass 0..3: A (T = n D+(sV - sH)), B (velocities), C (U = N^T v), D
 * (stresses) (fd_cpu_aniso.c, omp for). */
void fd_cpu_tti_pass(struct fd_cpu *s, int pass);
/* vti/tti CPML corrections on every slab, in slab order (orphaned omp for):
 * stage FD_ANISO_T after TTI pass A (T_a += n_a psi2), FD_ANISO_VEL after the
 * velocity pass, FD_ANISO_STRESS after the stress pass (fd_cpu_bnd.c). */
enum fd_aniso_stage { FD_ANISO_T, FD_ANISO_VEL, FD_ANISO_STRESS };
void fd_cpu_aniso_cpml(struct fd_cpu *s, enum fd_aniso_stage stage);
void fd_cpu_sponge(struct fd_cpu *s, float *const *f, int nf);
void fd_cpu_image(struct fd_cpu *s, float *f, int staggered);

#endif /* FD_CPU_H */
