/* fd_job: the job file of `shotq model` (DESIGN.md, "job file").
 *
 * One table (fd_job.c) lists every key with its section, default and one-line
 * meaning; it drives both the parser's defaults and `shotq model --help-job`.
 * Sections [model] [survey] [modeling] [output]; unknown sections or keys and
 * duplicate keys are errors. Every error is one line
 *     JOBFILE:LINE: key 'K': expected ..., got '...'
 * Relative paths resolve against the job file's directory.
 */
#ifndef FD_JOB_H
#define FD_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fd/fd_engine.h"

enum fd_prop_kind {
    FD_PROP_CONST = 0,  /* one value everywhere */
    FD_PROP_LAYERS = 1, /* "V0,V1@Z1,V2@Z2": V0 from z = 0, V1 from z >= Z1 m, ... */
    FD_PROP_FILE = 2    /* raw float32 file */
};

struct fd_layer {
    double z;     /* top of the layer in metres (0 for the first) */
    double value; /* property value inside the layer */
};

/* A model property (vp or rho) as the job file states it. */
struct fd_prop {
    enum fd_prop_kind kind;
    double value;            /* FD_PROP_CONST */
    struct fd_layer *layers; /* FD_PROP_LAYERS, owned */
    size_t nlayers;          /* FD_PROP_LAYERS */
    char *path;              /* FD_PROP_FILE: resolved path, owned */
    int line;                /* line of the key in the job file, 0 = default */
};

enum fd_order { FD_ORDER_ZXY = 0, FD_ORDER_XYZ = 1 };
enum fd_wavelet_kind {
    FD_WAVELET_RICKER = 0,
    FD_WAVELET_GAUSSIAN = 1,
    FD_WAVELET_DGAUSSIAN = 2,
    FD_WAVELET_FILE = 3
};
enum fd_format { FD_FORMAT_SEGY = 0, FD_FORMAT_BIN = 1 };

/* Line numbers of the keys the checks name in their messages (0 = default). */
struct fd_job_lines {
    int nx, ny, nz, dx, dy, dz;
    int source_x, source_y, source_z, sources;
    int receiver_x, receiver_y, receiver_z, receivers;
    int nt, dt, record_dt, fpeak, wavelet, format;
};

struct fd_job {
    char *path;                 /* the job file as given, owned */
    char *dir;                  /* its directory, owned */
    struct fd_grid grid;        /* [model] nx ny nz dx dy dz */
    struct fd_prop vp;          /* [model] vp */
    struct fd_prop rho;         /* [model] rho */
    struct fd_prop eps, del;    /* [model] epsilon, delta (vti, tti) */
    struct fd_prop theta, phi;  /* [model] tilt, azimuth in degrees (tti) */
    enum fd_order order;        /* [model] order of model files */
    struct fd_point *sources;   /* expanded shot positions, owned */
    size_t nsrc;                /* number of shots */
    struct fd_point *receivers; /* expanded receiver positions, owned */
    size_t nrec;                /* receivers per shot */
    struct fd_params params;    /* [modeling]; threads = 0 */
    double record_dt;           /* seconds, = params.record_every * dt */
    enum fd_wavelet_kind wavelet;
    char *wavelet_path; /* FD_WAVELET_FILE: resolved path, owned */
    bool mute_direct;
    char *out_dir; /* [output] dir, resolved, owned */
    enum fd_format format;
    struct fd_job_lines lines; /* where keys were set, for messages */
};

/* Parses and validates a job file: syntax, every value, ranges, survey files,
 * record_dt a multiple of dt. Model files are not read here (fd_model_io).
 * Returns 0 and fills *job (release with fd_job_free), or -EINVAL (bad input)
 * or another -errno (cannot read) with one line in err; *job is then zeroed. */
int fd_job_load(const char *path, struct fd_job *job, char *err, size_t errlen);

/* Releases what a job owns and zeroes it. Safe on a zeroed job. */
void fd_job_free(struct fd_job *job);

/* Writes the key table (section, key, default, meaning) to f. */
void fd_job_help(FILE *f);

/* Number of samples per trace: ceil(nt / record_every). */
int fd_job_nsamples(const struct fd_job *job);

/* Resolves path against dir unless it is absolute. Returns a malloc'ed string
 * or NULL when out of memory. */
char *fd_job_resolve(const char *dir, const char *path);

/* Name of an equation, boundary, wavelet kind or format as the job file spells it. */
const char *fd_job_equation_name(enum fd_equation eq);
const char *fd_job_boundary_name(enum fd_boundary b);
const char *fd_job_wavelet_name(enum fd_wavelet_kind w);

#endif /* FD_JOB_H */
