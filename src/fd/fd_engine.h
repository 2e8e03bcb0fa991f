/* fd_engine: the numerical core of shotq's 3D acoustic finite-difference
 * modelling. One engine holds one model resident on one device (CPU or CUDA)
 * and computes shots on it, one after another.
 *
 * Conventions (see ../shared/DESIGN.md, "job file"):
 *  - model arrays are float32, z fastest, then x, then y: v[(iy*nx + ix)*nz + iz];
 *  - cell (ix, iy, iz) is at (ix*dx, iy*dy, iz*dz) metres;
 *  - a source is a unit monopole: in a homogeneous medium the recorded pressure at
 *    distance r is w(t - r/c) / (4 pi r) for every equation;
 *  - sample n of a wavelet or a trace is at time n*dt (n = 0 .. nt-1).
 *
 * Back ends (cpu, cuda) implement struct fd_backend_ops (fd_backend.h); nothing
 * outside src/fd/ sees which one runs.
 */
#ifndef FD_ENGINE_H
#define FD_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum fd_equation {
    FD_ACOUSTIC2 = 0, /* constant density, 2nd order in time, 8th-order Laplacian */
    FD_ACOUSTIC1 = 1, /* variable density, p-v staggered grid, 8th order */
    FD_VTI = 2,       /* pseudo-acoustic qP VTI, variable density (fd_cpu_aniso.c) */
    FD_TTI = 3        /* pseudo-acoustic qP TTI (tilted VTI), variable density */
};

enum fd_boundary { FD_BOUNDARY_CPML = 0, FD_BOUNDARY_SPONGE = 1 };

enum fd_device_kind { FD_DEVICE_CPU = 0, FD_DEVICE_CUDA = 1 };

struct fd_grid {
    int nx, ny, nz;    /* model cells per axis */
    double dx, dy, dz; /* spacing in metres */
};

struct fd_params {
    enum fd_equation equation;
    enum fd_boundary boundary;
    int boundary_width; /* absorbing cells padded outside the model on each side */
    bool free_surface;  /* p = 0 at the top (z = 0) instead of an absorbing layer */
    int nt;             /* time steps; samples t = 0, dt, ..., (nt-1) dt */
    double dt;          /* seconds */
    int record_every;   /* record every k-th step (record_dt = k dt), >= 1 */
    double fpeak;       /* dominant frequency of the wavelet (Hz), for CPML tuning */
    int snapshot_every; /* 0 = no snapshots */
    int threads;        /* CPU threads (0 = OpenMP default) */
    double aniso_taper; /* vti, tti: eps, delta -> 0 within this radius (m) of the
                           source, sin^2 taper; 0 = none */
};

struct fd_model {
    const float *vp;              /* nx*ny*nz, m/s, required */
    const float *rho;             /* nx*ny*nz, kg/m^3, NULL = constant density */
    const float *epsilon, *delta; /* vti, tti: nx*ny*nz Thomsen parameters, NULL = 0 */
    const float *theta, *phi;     /* tti: tilt from vertical, azimuth from x (degrees),
                                     NULL = 0 */
};

struct fd_point {
    double x, y, z; /* metres, inside [0, (n-1) d] on each axis */
};

/* Receives recorded samples as they are produced, in blocks of consecutive
 * output samples. data is time-major: data[s * nrec + r] is receiver r at output
 * sample (first + s). Returns 0, or non-zero to abort the shot. */
typedef int (*fd_samples_fn)(void *ctx, int first, int count, const float *data);

/* Receives a pressure snapshot on the model grid (layout as the model): the
 * pressure at t = step * dt for step = k * snapshot_every, 0 < step < nt (the
 * all-zero field at step 0 is not delivered). Returns 0, or non-zero to abort. */
typedef int (*fd_snapshot_fn)(void *ctx, int step, const float *p);

struct fd_shot {
    struct fd_point source;
    const float *wavelet; /* nt samples */
    const struct fd_point *receivers;
    size_t nrec;
    fd_samples_fn on_samples;   /* required */
    fd_snapshot_fn on_snapshot; /* may be NULL */
    void *ctx;
};

struct fd_stats {
    double seconds; /* wall time of the time loop */
    double gpts;    /* grid points (padded grid) * steps / seconds / 1e9 */
};

struct fd_engine;

/* Creates an engine on a device (ordinal ignored for CPU) and uploads the model.
 * The model arrays are copied; the caller keeps ownership of its arrays.
 * Returns NULL on failure with a one-line reason in err. */
struct fd_engine *fd_engine_create(enum fd_device_kind kind, int ordinal,
                                   const struct fd_grid *grid,
                                   const struct fd_model *model,
                                   const struct fd_params *params, char *err,
                                   size_t errlen);

/* Computes one shot: zeroes the wavefields, injects the wavelet at the source
 * (trilinear spreading) and records the pressure at the receivers (trilinear
 * gathering) at steps n = 0, k, 2k, ... (k = record_every), delivered through
 * on_samples in blocks as they fill. stats may be NULL. Returns 0, or -1 with a
 * one-line reason in err (bad shot, device error, or a callback's abort). */
int fd_engine_run(struct fd_engine *e, const struct fd_shot *shot, struct fd_stats *stats,
                  char *err, size_t errlen);

/* Frees everything the engine holds, on the host and on the device. NULL is ok. */
void fd_engine_destroy(struct fd_engine *e);

/* Device memory (bytes) one engine needs for this grid, parameters and number
 * of receivers: padded wavefields, model, CPML arrays, receiver buffers. */
uint64_t fd_engine_mem_estimate(const struct fd_grid *grid,
                                const struct fd_params *params, size_t nrec);

/* Largest stable dt (s) for this equation, grid spacing and maximum velocity. */
double fd_max_stable_dt(enum fd_equation eq, const struct fd_grid *grid, double vmax);

/* True when this build has the CUDA back end and a usable device is present. */
bool fd_cuda_available(void);

/* Measures the device-to-device copy bandwidth of CUDA device ordinal with a
 * buffer of bytes (read + write counted, best of a few copies). Returns 0 with
 * *gbs in GB/s, or -1 with a reason in err (also in builds without CUDA). */
int fd_cuda_copy_bandwidth(int ordinal, size_t bytes, double *gbs, char *err,
                           size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* FD_ENGINE_H */
