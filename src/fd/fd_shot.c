/* fd_shot: preparing a job and running one shot to its file. */
#include "fd/fd_shot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fd/fd_binout.h"
#include "util/atomic_file.h"
#include "fd/fd_check.h"
#include "fd/fd_segy.h"
#include "fd/fd_wavelet.h"
#include "util/log.h"

static const double pi = 3.14159265358979323846;

int fd_prepare(const char *job_path, struct fd_prepared *p, char *err, size_t errlen)
{
    return fd_prepare_dirs(job_path, p, true, err, errlen);
}

int fd_prepare_dirs(const char *job_path, struct fd_prepared *p, bool make_out_dir,
                    char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    int rc = fd_job_load(job_path, &p->job, err, errlen);
    if (rc)
        return rc;
    /* Cheap checks first: a bad survey should not wait for a large model. */
    rc = fd_check_geometry(&p->job, err, errlen);
    if (!rc)
        rc = fd_check_output(&p->job, err, errlen);
    if (!rc)
        rc = fd_model_load(&p->job, &p->model, err, errlen);
    if (!rc)
        rc = fd_check_model(&p->job, &p->model, &p->vmin, &p->vmax, err, errlen);
    if (!rc)
        rc = fd_check_stability(&p->job, p->vmin, p->vmax, err, errlen);
    if (!rc) {
        size_t padded = 0;
        p->wavelet = fd_wavelet_make(&p->job, &padded, err, errlen);
        if (!p->wavelet)
            rc = -EINVAL;
        else if (padded)
            log_msg(LOG_WARN, "%s:%d: wavelet %s has %zu samples, nt = %d: zero-padded",
                    p->job.path, p->job.lines.wavelet, p->job.wavelet_path,
                    (size_t)p->job.params.nt - padded, p->job.params.nt);
    }
    if (!rc && make_out_dir)
        rc = fd_mkdirs(p->job.out_dir, err, errlen);
    if (rc)
        fd_prepared_free(p);
    return rc;
}

void fd_prepared_free(struct fd_prepared *p)
{
    fd_job_free(&p->job);
    fd_model_free(&p->model);
    free(p->wavelet);
    memset(p, 0, sizeof *p);
}

struct fd_engine *fd_shot_engine(const struct fd_prepared *p, enum fd_device_kind kind,
                                 int ordinal, int threads, char *err, size_t errlen)
{
    struct fd_params params = p->job.params;
    params.threads = threads;
    struct fd_model m = {.vp = p->model.vp,
                         .rho = p->model.rho,
                         .epsilon = p->model.eps,
                         .delta = p->model.del,
                         .theta = p->model.theta,
                         .phi = p->model.phi};
    return fd_engine_create(kind, ordinal, &p->job.grid, &m, &params, err, errlen);
}

void fd_shot_path(const struct fd_job *job, int64_t shot, char *buf, size_t len)
{
    snprintf(buf, len, "%s/shot_%05lld.%s", job->out_dir, (long long)shot,
             job->format == FD_FORMAT_SEGY ? "sgy" : "bin");
}

double fd_shot_mute_time(const struct fd_prepared *p, const struct fd_point *src,
                         const struct fd_point *rec)
{
    double v = p->model.vp[fd_model_cell(&p->job.grid, src)];
    double r = sqrt((rec->x - src->x) * (rec->x - src->x) +
                    (rec->y - src->y) * (rec->y - src->y) +
                    (rec->z - src->z) * (rec->z - src->z));
    return r / v + 2.0 / p->job.params.fpeak;
}

void fd_shot_mute(const struct fd_prepared *p, const struct fd_point *src, float *gather,
                  int nsamples)
{
    double taper = 1.0 / p->job.params.fpeak;
    for (size_t r = 0; r < p->job.nrec; r++) {
        double t0 = fd_shot_mute_time(p, src, &p->job.receivers[r]);
        float *tr = gather + r * (size_t)nsamples;
        for (int s = 0; s < nsamples; s++) {
            double t = s * p->job.record_dt;
            if (t >= t0 + taper)
                break;
            tr[s] *= t < t0 ? 0.0f : (float)(0.5 * (1.0 - cos(pi * (t - t0) / taper)));
        }
    }
}

/* State of one running shot, seen by the engine callbacks. */
struct shot_ctx {
    const struct fd_prepared *p;
    int64_t shot;
    float *gather; /* nrec x nsamples, trace-major */
    int nsamples;
    int received;            /* samples delivered so far (end of the last block) */
    fd_progress_fn progress; /* may be NULL */
    void *progress_ctx;
    char *err; /* caller's buffer, for callback failures */
    size_t errlen;
    int rc; /* callback failure, 0 = none */
};

/* Engine callback: copies a time-major block into the trace-major gather.
 * Returns 0, or -1 (aborting the shot) for a block outside the gather. */
static int on_samples(void *ctx, int first, int count, const float *data)
{
    struct shot_ctx *c = ctx;
    size_t nrec = c->p->job.nrec;
    if (first < 0 || count < 0 || first + count > c->nsamples) {
        snprintf(c->err, c->errlen, "engine delivered samples %d..%d of %d", first,
                 first + count - 1, c->nsamples);
        c->rc = -EIO;
        return -1;
    }
    for (int s = 0; s < count; s++)
        for (size_t r = 0; r < nrec; r++)
            c->gather[r * (size_t)c->nsamples + (size_t)(first + s)] =
                data[(size_t)s * nrec + r];
    if (first + count > c->received)
        c->received = first + count;
    if (c->progress)
        c->progress(c->progress_ctx, (double)c->received / c->nsamples);
    return 0;
}

/* Engine callback: writes one snapshot file atomically. Returns 0 or -errno. */
static int on_snapshot(void *ctx, int step, const float *p)
{
    struct shot_ctx *c = ctx;
    char path[4200];
    snprintf(path, sizeof path, "%s/snap_%05lld_%06d.bin", c->p->job.out_dir,
             (long long)c->shot, step);
    struct atomic_chunk ch = {p, c->p->model.ncells * sizeof(float)};
    int rc = atomic_write(path, &ch, 1, c->err, c->errlen);
    if (rc)
        c->rc = rc;
    return rc;
}

/* Writes the textual header lines describing the job and shot into lines. */
static size_t text_lines(const struct fd_prepared *p, int64_t shot, char lines[][80])
{
    const struct fd_job *j = &p->job;
    const struct fd_params *q = &j->params;
    const struct fd_point *s = &j->sources[shot];
    size_t n = 0;
    snprintf(lines[n++], 80, "shotq FD modelling, shot %lld of %zu", (long long)shot,
             j->nsrc);
    snprintf(lines[n++], 80, "job %.70s", j->path);
    snprintf(lines[n++], 80, "model %dx%dx%d cells, d = %g/%g/%g m (x/y/z)", j->grid.nx,
             j->grid.ny, j->grid.nz, j->grid.dx, j->grid.dy, j->grid.dz);
    snprintf(lines[n++], 80, "vp %g..%g m/s", p->vmin, p->vmax);
    snprintf(lines[n++], 80, "%s, %s boundary %d cells, free surface %s",
             fd_job_equation_name(q->equation), fd_job_boundary_name(q->boundary),
             q->boundary_width, q->free_surface ? "yes" : "no");
    snprintf(lines[n++], 80, "nt %d, dt %g s, record_dt %g s, %d samples", q->nt, q->dt,
             j->record_dt, fd_job_nsamples(j));
    snprintf(lines[n++], 80, "wavelet %s, fpeak %g Hz, mute_direct %s",
             fd_job_wavelet_name(j->wavelet), q->fpeak, j->mute_direct ? "yes" : "no");
    snprintf(lines[n++], 80, "source x y z = %g %g %g m", s->x, s->y, s->z);
    snprintf(lines[n++], 80, "%zu receivers; coordinates and depths in cm (scalar -100)",
             j->nrec);
    snprintf(lines[n++], 80, "elevation = -depth; offset = horizontal distance, m");
    snprintf(lines[n++], 80, "samples float32 IEEE (format 5), pressure");
    return n;
}

int fd_shot_run(struct fd_engine *e, const struct fd_prepared *p, int64_t shot,
                fd_progress_fn progress, void *progress_ctx, struct fd_shot_result *res,
                char *err, size_t errlen)
{
    const struct fd_job *j = &p->job;
    if (shot < 0 || (uint64_t)shot >= j->nsrc) {
        snprintf(err, errlen, "%s: shot %lld: expected a shot number in [0, %zu]",
                 j->path, (long long)shot, j->nsrc - 1);
        return -EINVAL;
    }
    int ns = fd_job_nsamples(j);
    struct shot_ctx c = {.p = p,
                         .shot = shot,
                         .nsamples = ns,
                         .progress = progress,
                         .progress_ctx = progress_ctx,
                         .err = err,
                         .errlen = errlen};
    c.gather = calloc(j->nrec * (size_t)ns, sizeof *c.gather);
    if (!c.gather) {
        snprintf(err, errlen, "shot %lld: out of memory for a gather of %zu x %d",
                 (long long)shot, j->nrec, ns);
        return -ENOMEM;
    }
    struct fd_shot s = {j->sources[shot],
                        p->wavelet,
                        j->receivers,
                        j->nrec,
                        on_samples,
                        j->params.snapshot_every > 0 ? on_snapshot : NULL,
                        &c};
    struct fd_stats stats = {0, 0};
    int rc = 0;
    if (fd_engine_run(e, &s, &stats, err, errlen) != 0) {
        rc = c.rc ? c.rc : -EIO;
        goto out_free;
    }
    if (c.received != ns) {
        snprintf(err, errlen, "shot %lld: engine delivered %d of %d samples",
                 (long long)shot, c.received, ns);
        rc = -EIO;
        goto out_free;
    }
    if (j->mute_direct)
        fd_shot_mute(p, &s.source, c.gather, ns);
    struct fd_gather g = {shot, s.source,     j->receivers, j->nrec,
                          ns,   j->record_dt, c.gather};
    fd_shot_path(j, shot, res->path, sizeof res->path);
    if (j->format == FD_FORMAT_SEGY) {
        char lines[16][80];
        const char *text[16];
        size_t n = text_lines(p, shot, lines);
        for (size_t i = 0; i < n; i++)
            text[i] = lines[i];
        rc = fd_segy_write(res->path, &g, text, n, err, errlen);
    } else {
        rc = fd_binout_write_gather(j->out_dir, &g, err, errlen);
    }
    res->seconds = stats.seconds;
    res->gpts = stats.gpts;
out_free:
    free(c.gather);
    return rc;
}
