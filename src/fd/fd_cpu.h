/* fd_cpu: internals shared by the CPU back end's files (fd_cpu.c, fd_cpu_kern.c,
 * fd_cpu_bnd.c). Not part of the engine API. */
#ifndef FD_CPU_H
#define FD_CPU_H

#include <stddef.h>
#include <stdint.h>

#include "fd/fd_backend.h"

struct fd_cpu {
    const struct fd_layout *L; /* layout, owned by the engine */
    int nth;                   /* OpenMP threads */
    int nf, nm;                /* wavefields, model arrays in use */
    float *f[4];               /* a2: p, p-; a1: p, vx, vy, vz */
    float *m[FD_MAX_MODEL];    /* a2: v^2 dt^2; a1: dt kappa, dt/rho */
    float *psi[FD_MAXSLAB];    /* CPML memory: a2 psi, a1 psi of grad p */
    float *zeta[FD_MAXSLAB];   /* CPML memory: a2 zeta, a1 psi of div v */
    struct fd_interp src;      /* source spreading */
    float coef[8];             /* source coefficients (fd_source_coef) */
    struct fd_interp *rec;     /* receiver gathering, nrec */
    size_t nrec;               /* receivers */
    float *recbuf;             /* chunk x nrec samples, time-major */
    int chunk;                 /* slots in recbuf */
};

/* Field index of compute point (x, y, z) (layout in fd_backend.h). */
static inline int64_t fd_cpu_idx(const struct fd_layout *L, int64_t x, int64_t y,
                                 int64_t z)
{
    return (y + FD_HALO) * L->sy + (x + FD_HALO) * L->sx + (z + FD_HALO);
}

/* Interior stencils over the whole compute box (fd_cpu_kern.c). */
void fd_cpu_a2_main(const struct fd_cpu *s, const float *p, float *pn);
void fd_cpu_a1_vel(struct fd_cpu *s);
void fd_cpu_a1_pres(struct fd_cpu *s);

/* Boundaries (fd_cpu_bnd.c). */
void fd_cpu_a2_cpml(struct fd_cpu *s, const float *p, float *pn);
void fd_cpu_a1_cpml_vel(struct fd_cpu *s);
void fd_cpu_a1_cpml_pres(struct fd_cpu *s);
void fd_cpu_sponge(struct fd_cpu *s, float *const *f, int nf);
void fd_cpu_image(struct fd_cpu *s, float *f, int staggered);

#endif /* FD_CPU_H */
