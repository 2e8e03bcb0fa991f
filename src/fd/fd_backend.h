/* fd_backend: the small interface between the FD engine front end (fd_engine.c)
 * and the back ends that own the wavefields (fd_cpu.c, fd_cuda.cu).
 *
 * The front end validates the job, pads the model, builds the 1-D CPML and
 * sponge profiles, the source and receiver interpolation tables and drives the
 * time loop; a back end only allocates, steps, gathers and copies. Both back
 * ends perform the same floating-point operations in the same order so their
 * seismograms agree to rounding.
 *
 * Grid layout shared by every back end: the "compute box" is the model plus the
 * absorbing padding, n[0] x n[1] x n[2] points (x, y, z); it is stored with a
 * halo of FD_HALO zero cells on every side, z fastest:
 *     index(x, y, z) = (y + H) * sy + (x + H) * sx + (z + H),  H = FD_HALO,
 * with sx = m[2] (a multiple of 16 floats, so columns are 64-byte aligned) and
 * sy = m[0] * m[2].
 */
#ifndef FD_BACKEND_H
#define FD_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fd/fd_engine.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FD_HALO 4 /* stencil half-width of every 8th-order operator */
#define FD_MAXSLAB 6

/* A box of compute-grid points, half-open per axis (0 = x, 1 = y, 2 = z). */
struct fd_box {
    int64_t lo[3]; /* first point per axis */
    int64_t hi[3]; /* one past the last point per axis */
};

/* A CPML slab: the points where one axis' stretching is active. Its memory
 * variables are stored as a small z-fastest array over the box grown by FD_HALO
 * on every side (halo cells stay zero, which is what the derivative of a memory
 * variable at the slab edge needs):
 *     slab_index(x, y, z) = ((y - lo1 + H) * m[0] + (x - lo0 + H)) * m[2] + (z - lo2 + H)
 */
struct fd_slab {
    int axis;          /* stretched axis: 0 = x, 1 = y, 2 = z */
    struct fd_box box; /* points updated */
    int64_t m[3];      /* stored extent per axis: hi - lo + 2 H */
    size_t cells;      /* m[0] * m[1] * m[2] */
};

/* Everything a back end needs to allocate and step the grid. Built and owned by
 * the front end; back ends may keep a pointer for the engine's lifetime. */
struct fd_layout {
    enum fd_equation eq;             /* which kernels */
    enum fd_boundary boundary;       /* cpml or sponge */
    bool free_surface;               /* p = 0 at model z = 0 via an odd image */
    int64_t n[3];                    /* compute box extent per axis */
    int64_t m[3];                    /* stored extent per axis, halo included */
    int64_t sx, sy;                  /* strides of x and y in floats (z stride is 1) */
    size_t cells;                    /* stored floats per field */
    int64_t off[3];                  /* compute coordinates of model cell (0, 0, 0) */
    int64_t mn[3];                   /* model cells per axis */
    float w2[3][5];                  /* 2nd-derivative weights / d^2 (0 = centre) */
    float w1[3][5];                  /* centred 1st-derivative weights / d (1..4) */
    float ws[3][5];                  /* staggered 1st-derivative weights / d (1..4) */
    int nslab;                       /* CPML slabs in use */
    struct fd_slab slab[FD_MAXSLAB]; /* CPML slabs: z lo/hi, x lo/hi, y lo/hi */
    float *pa[3], *pb[3];            /* CPML a, b at integer points, n[axis] each */
    float *pah[3], *pbh[3];          /* CPML a, b at half points i + 1/2 */
    int nshell;                      /* sponge boxes in use */
    struct fd_box shell[FD_MAXSLAB]; /* disjoint boxes covering the sponge */
    float *g[3];                     /* sponge taper per axis, n[axis] each (1 inside) */
    int threads;                     /* CPU threads, 0 = OpenMP default */
};

/* Trilinear spreading/gathering weights of one point: 8 grid indices. */
struct fd_interp {
    int64_t idx[8]; /* field indices (layout above) */
    float w[8];     /* weights; for a source, trilinear / dV (see fd_source_coef) */
};

/* Number of model arrays per equation: acoustic2 {v^2 dt^2}; acoustic1
 * {dt rho v^2, dt / rho}; vti {dt rho v^2, dt / rho, 1 + 2 eps, sqrt(1 + 2 delta)};
 * tti: vti's and the symmetry axis {sin t cos f, sin t sin f, cos t}.
 * Each has layout->cells floats, halo filled. */
#define FD_MAX_MODEL 7

struct fd_backend_ops {
    const char *name; /* "cpu" or "cuda" */
    /* Allocates the wavefields and uploads the model arrays (copied). Returns 0
     * with *state set, or -1 with a reason in err and nothing allocated. */
    int (*create)(void **state, const struct fd_layout *L,
                  const float *const model[FD_MAX_MODEL], int ordinal, char *err,
                  size_t errlen);
    /* Zeroes wavefields and memory variables and installs the source spreading
     * and receiver gathering tables; the back end records into a buffer of
     * chunk x nrec samples. Returns 0 or -1 with err. */
    int (*begin_shot)(void *state, const struct fd_interp *src,
                      const struct fd_interp *rec, size_t nrec, int chunk, char *err,
                      size_t errlen);
    /* Advances the wavefields by one time step, adding amp * fd_source_coef(src.w[j])
     * to the pressure at src.idx[j]. Returns 0 or -1 with err. */
    int (*step)(void *state, float amp, char *err, size_t errlen);
    /* Gathers the current pressure at every receiver into slot (< chunk) of the
     * record buffer. Returns 0 or -1 with err. */
    int (*record)(void *state, int slot, char *err, size_t errlen);
    /* Copies the first count slots of the record buffer (count * nrec floats,
     * time-major) to host. Returns 0 or -1 with err. */
    int (*fetch)(void *state, int count, float *host, char *err, size_t errlen);
    /* Copies the pressure on the model grid (model layout) to host. */
    int (*snapshot)(void *state, float *host, char *err, size_t errlen);
    /* Replaces model array which (< the equation's count) with host (cells
     * floats, layout as create's); between shots. Returns 0 or -1 with err. */
    int (*set_model)(void *state, int which, const float *host, char *err, size_t errlen);
    /* Frees everything; NULL is ok. */
    void (*destroy)(void *state);
};

/* Source coefficient of one spreading weight w at a cell whose model values are
 * m0, m1: w * v^2 dt^2, computed identically by every back end. */
static inline float fd_source_coef(enum fd_equation eq, float w, float m0, float m1)
{
    return eq == FD_ACOUSTIC2 ? w * m0 : w * (m0 * m1); /* vti, tti as acoustic1 */
}

extern const struct fd_backend_ops fd_cpu_ops;
extern const struct fd_backend_ops fd_cuda_ops; /* a stub when CUDA is not built */

/* True when the CUDA back end is compiled in and cudaGetDeviceCount reports a
 * device (defined by fd_cuda.cu or nocuda/fd_cuda_stub.c). */
bool fd_cuda_probe(void);

#ifdef __cplusplus
}
#endif

#endif /* FD_BACKEND_H */
