/* fd_shot: one shot end to end. fd_prepare loads and checks a job once (job
 * file, model, wavelet, output directory); fd_shot_run computes one shot on an
 * engine, keeps the gather (nrec x nsamples) on the host, applies the
 * direct-wave mute and writes the shot file and any snapshots. */
#ifndef FD_SHOT_H
#define FD_SHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fd/fd_engine.h"
#include "fd/fd_job.h"
#include "fd/fd_model_io.h"

/* A job ready to run: loaded, checked, wavelet built. */
struct fd_prepared {
    struct fd_job job;          /* parsed job */
    struct fd_model_data model; /* vp (and rho for acoustic1) in zxy */
    float *wavelet;             /* nt samples, owned */
    double vmin, vmax;          /* vp range */
};

/* Loads the job and its model, runs fd_check_all, builds the wavelet (warns
 * when a wavelet file is zero-padded) and creates the output directory.
 * Returns 0, or -errno (-EINVAL for bad input) with one line in err; *p is
 * zeroed on failure. */
int fd_prepare(const char *job_path, struct fd_prepared *p, char *err, size_t errlen);

/* fd_prepare, creating the output directory only with make_out_dir (without:
 * for `shotq model --dry-run`, which writes nothing). */
int fd_prepare_dirs(const char *job_path, struct fd_prepared *p, bool make_out_dir,
                    char *err, size_t errlen);

/* Releases everything fd_prepare made. Safe on a zeroed struct. */
void fd_prepared_free(struct fd_prepared *p);

/* Creates an engine for a prepared job on a device (threads: CPU threads, 0 =
 * OpenMP default). Returns NULL with err set on failure. */
struct fd_engine *fd_shot_engine(const struct fd_prepared *p, enum fd_device_kind kind,
                                 int ordinal, int threads, char *err, size_t errlen);

/* Arrival time after which mute_direct keeps samples: r / v_source + 2 / fpeak
 * (the delayed wavelet ends about 2/fpeak after t = 0), followed by a
 * half-cosine taper of 1/fpeak. v_source is vp at the cell nearest the source. */
double fd_shot_mute_time(const struct fd_prepared *p, const struct fd_point *src,
                         const struct fd_point *rec);

/* Applies the direct-wave mute to a trace-major gather in place. */
void fd_shot_mute(const struct fd_prepared *p, const struct fd_point *src, float *gather,
                  int nsamples);

/* What one shot did. */
struct fd_shot_result {
    double seconds;  /* engine time loop */
    double gpts;     /* engine throughput */
    char path[4200]; /* the shot file written */
};

/* Progress hook: fraction of the shot's samples received, in [0, 1]. */
typedef void (*fd_progress_fn)(void *ctx, double fraction);

/* Computes shot number `shot` (0 .. nsrc-1) and writes its file atomically.
 * progress may be NULL. Returns 0, or -EINVAL (bad shot number) / -EIO
 * (engine failure) / -errno (output) with one line in err. */
int fd_shot_run(struct fd_engine *e, const struct fd_prepared *p, int64_t shot,
                fd_progress_fn progress, void *progress_ctx, struct fd_shot_result *res,
                char *err, size_t errlen);

/* Path of shot k's output file (.sgy or .bin by the job's format) into buf. */
void fd_shot_path(const struct fd_job *job, int64_t shot, char *buf, size_t len);

#endif /* FD_SHOT_H */
