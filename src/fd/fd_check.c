/* fd_check: pre-flight checks. */
#include "fd/fd_check.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util/log.h"

/* Checks one coordinate of position k against [0, (n-1) d]. */
static int check_axis(const struct fd_job *job, const char *what, size_t k, char axis,
                      double v, int n, double d, const char *key, int line, char *err,
                      size_t errlen)
{
    double hi = (n - 1) * d;
    /* A position given as (n-1)*d in decimal may exceed it by rounding. */
    double eps = 1e-9 * (d > 1.0 ? d : 1.0) * n;
    if (v >= -eps && v <= hi + eps)
        return 0;
    snprintf(err, errlen,
             "%s:%d: key '%s': expected %s %zu inside [0, %g] m on %c (n%c-1)*d%c, got "
             "%c = %g m",
             job->path, line, key, what, k, hi, axis, axis, axis, axis, v);
    return -EINVAL;
}

/* Checks a list of positions; keys[3] are the axis keys, file_key the file key. */
static int check_points(const struct fd_job *job, const struct fd_point *p, size_t n,
                        const char *what, const char *const keys[3], const int lines[3],
                        const char *file_key, int file_line, char *err, size_t errlen)
{
    const struct fd_grid *g = &job->grid;
    for (size_t k = 0; k < n; k++) {
        double v[3] = {p[k].x, p[k].y, p[k].z};
        int nn[3] = {g->nx, g->ny, g->nz};
        double d[3] = {g->dx, g->dy, g->dz};
        for (int a = 0; a < 3; a++) {
            const char *key = file_line ? file_key : keys[a];
            int line = file_line ? file_line : lines[a];
            if (check_axis(job, what, k, "xyz"[a], v[a], nn[a], d[a], key, line, err,
                           errlen))
                return -EINVAL;
        }
    }
    return 0;
}

/* With a free surface p = 0 in the top cell row: sources there inject nothing and
 * receivers there record zeros. Warns once per kind. */
static void warn_free_surface(const struct fd_job *job, const struct fd_point *p,
                              size_t n, const char *what)
{
    if (!job->params.free_surface)
        return;
    size_t top = 0;
    for (size_t k = 0; k < n; k++)
        top += p[k].z < 0.5 * job->grid.dz;
    if (top)
        log_msg(
            LOG_WARN,
            "%s: %zu of %zu %s lie in the top cell row (z < dz/2 = %g m), where the free "
            "surface holds p = 0",
            job->path, top, n, what, 0.5 * job->grid.dz);
}

int fd_check_geometry(const struct fd_job *job, char *err, size_t errlen)
{
    const struct fd_job_lines *l = &job->lines;
    static const char *const skeys[3] = {"source_x", "source_y", "source_z"};
    static const char *const rkeys[3] = {"receiver_x", "receiver_y", "receiver_z"};
    int slines[3] = {l->source_x, l->source_y, l->source_z};
    int rlines[3] = {l->receiver_x, l->receiver_y, l->receiver_z};
    if (check_points(job, job->sources, job->nsrc, "shot", skeys, slines, "sources",
                     l->sources, err, errlen))
        return -EINVAL;
    if (check_points(job, job->receivers, job->nrec, "receiver", rkeys, rlines,
                     "receivers", l->receivers, err, errlen))
        return -EINVAL;
    warn_free_surface(job, job->sources, job->nsrc, "shots");
    warn_free_surface(job, job->receivers, job->nrec, "receivers");
    return 0;
}

int fd_check_output(const struct fd_job *job, char *err, size_t errlen)
{
    if (job->format != FD_FORMAT_SEGY)
        return 0;
    double us = job->record_dt * 1e6;
    int key_line = job->lines.record_dt ? job->lines.record_dt : job->lines.dt;
    const char *key = job->lines.record_dt ? "record_dt" : "dt";
    if (fabs(us - nearbyint(us)) > 1e-6 * us || nearbyint(us) < 1 ||
        nearbyint(us) > 65535) {
        snprintf(
            err, errlen,
            "%s:%d: key '%s': expected a whole number of microseconds in [1, 65535] for "
            "SEG-Y (or format = bin), got a sample interval of %g us",
            job->path, key_line, key, us);
        return -EINVAL;
    }
    int ns = fd_job_nsamples(job);
    if (ns > 32767) {
        snprintf(err, errlen,
                 "%s:%d: key 'nt': expected at most 32767 samples per SEG-Y trace (or a "
                 "larger "
                 "record_dt, or format = bin), got %d",
                 job->path, job->lines.nt, ns);
        return -EINVAL;
    }
    if (job->nrec > 2147483647u) {
        snprintf(err, errlen, "%s: expected fewer than 2^31 receivers, got %zu",
                 job->path, job->nrec);
        return -EINVAL;
    }
    return 0;
}

/* First cell of a not finite or not positive; returns ncells when none. */
static size_t first_bad(const float *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(isfinite(a[i]) && a[i] > 0.0f))
            return i;
    return n;
}

/* Reports a bad value at cell i of property key. */
static int bad_cell_x(const struct fd_job *job, const struct fd_prop *p, const char *key,
                      const float *a, size_t i, const char *expected, char *err,
                      size_t errlen)
{
    size_t nz = (size_t)job->grid.nz, nx = (size_t)job->grid.nx;
    size_t iz = i % nz, ix = (i / nz) % nx, iy = i / nz / nx;
    snprintf(err, errlen,
             "%s:%d: key '%s': expected %s, got %g at cell (ix, iy, iz) = "
             "(%zu, %zu, %zu)%s%s",
             job->path, p->line, key, expected, (double)a[i], ix, iy, iz,
             p->path ? " of " : "", p->path ? p->path : "");
    return -EINVAL;
}

/* Reports a non-positive or non-finite value at cell i of property key. */
static int bad_cell(const struct fd_job *job, const struct fd_prop *p, const char *key,
                    const float *a, size_t i, char *err, size_t errlen)
{
    return bad_cell_x(job, p, key, a, i, "finite values > 0", err, errlen);
}

/* vti: epsilon in [0, 1], delta in (-0.5, epsilon] (the first-order system is
 * stable for epsilon >= delta), all finite. Returns 0 or -EINVAL with err. */
static int check_thomsen(const struct fd_job *job, const struct fd_model_data *m,
                         char *err, size_t errlen)
{
    for (size_t i = 0; i < m->ncells; i++) {
        float e = m->eps[i], d = m->del[i];
        if (!(isfinite(e) && e >= 0.0f && e <= 1.0f))
            return bad_cell_x(job, &job->eps, "epsilon", m->eps, i,
                              "finite values in [0, 1]", err, errlen);
        if (!(isfinite(d) && d > -0.5f && d <= 1.0f))
            return bad_cell_x(job, &job->del, "delta", m->del, i,
                              "finite values in (-0.5, 1]", err, errlen);
        if (e < d)
            return bad_cell_x(job, &job->del, "delta", m->del, i,
                              "delta <= epsilon (stability of vti)", err, errlen);
    }
    return 0;
}

/* tti: theta in [-90, 90], phi in [-360, 360] degrees, finite. Returns 0 or
 * -EINVAL with err. */
static int check_angles(const struct fd_job *job, const struct fd_model_data *m,
                        char *err, size_t errlen)
{
    for (size_t i = 0; i < m->ncells; i++) {
        if (!(fabsf(m->theta[i]) <= 90.0f))
            return bad_cell_x(job, &job->theta, "theta", m->theta, i,
                              "finite tilts in [-90, 90] degrees", err, errlen);
        if (!(fabsf(m->phi[i]) <= 360.0f))
            return bad_cell_x(job, &job->phi, "phi", m->phi, i,
                              "finite azimuths in [-360, 360] degrees", err, errlen);
    }
    return 0;
}

int fd_check_model(const struct fd_job *job, const struct fd_model_data *m, double *vmin,
                   double *vmax, char *err, size_t errlen)
{
    size_t i = first_bad(m->vp, m->ncells);
    if (i < m->ncells)
        return bad_cell(job, &job->vp, "vp", m->vp, i, err, errlen);
    if (m->rho) {
        i = first_bad(m->rho, m->ncells);
        if (i < m->ncells)
            return bad_cell(job, &job->rho, "rho", m->rho, i, err, errlen);
    }
    if (m->eps && m->del && check_thomsen(job, m, err, errlen) != 0)
        return -EINVAL;
    if (m->theta && m->phi && check_angles(job, m, err, errlen) != 0)
        return -EINVAL;
    float lo = m->vp[0], hi = 0.0f;
    for (size_t k = 0; k < m->ncells; k++) {
        /* fastest qP: vp sqrt(1 + 2 eps) (CFL); slowest: vp (dispersion). */
        float vq = m->eps ? m->vp[k] * sqrtf(1.0f + 2.0f * m->eps[k]) : m->vp[k];
        lo = m->vp[k] < lo ? m->vp[k] : lo;
        hi = vq > hi ? vq : hi;
    }
    *vmin = lo;
    *vmax = hi;
    return 0;
}

int fd_check_stability(const struct fd_job *job, double vmin, double vmax, char *err,
                       size_t errlen)
{
    const struct fd_grid *g = &job->grid;
    const struct fd_params *p = &job->params;
    double dtmax = fd_max_stable_dt(p->equation, g, vmax);
    if (p->dt > dtmax) {
        snprintf(err, errlen,
                 "%s:%d: key 'dt': expected at most %.6g s (largest stable dt of %s for "
                 "vmax = "
                 "%g m/s, dx/dy/dz = %g/%g/%g m), got %g",
                 job->path, job->lines.dt, dtmax, fd_job_equation_name(p->equation), vmax,
                 g->dx, g->dy, g->dz, p->dt);
        return -EINVAL;
    }
    double h = fmax(g->dx, fmax(g->dy, g->dz));
    double ppw = vmin / (2.5 * p->fpeak) / h;
    if (ppw < FD_CHECK_PPW_ERROR) {
        snprintf(err, errlen,
                 "%s:%d: key 'fpeak': expected at most %.4g Hz (%g points per minimum "
                 "wavelength at vmin = %g m/s, h = %g m, fmax = 2.5 fpeak), got %g Hz "
                 "(%.2f points)",
                 job->path, job->lines.fpeak, vmin / (2.5 * FD_CHECK_PPW_ERROR * h),
                 FD_CHECK_PPW_ERROR, vmin, h, p->fpeak, ppw);
        return -EINVAL;
    }
    if (ppw < FD_CHECK_PPW_WARN)
        log_msg(
            LOG_WARN,
            "%s:%d: fpeak = %g Hz gives %.2f points per minimum wavelength (vmin = %g "
            "m/s, "
            "h = %g m); below %g the result is dispersive (fpeak <= %.4g Hz avoids it)",
            job->path, job->lines.fpeak, p->fpeak, ppw, vmin, h, FD_CHECK_PPW_WARN,
            vmin / (2.5 * FD_CHECK_PPW_WARN * h));
    return 0;
}

uint64_t fd_check_shot_mem(const struct fd_job *job)
{
    return fd_engine_mem_estimate(&job->grid, &job->params, job->nrec);
}

int fd_check_devices(const struct fd_job *job, const struct fd_check_device *devs,
                     size_t n, bool *usable, char *err, size_t errlen)
{
    uint64_t need = fd_check_shot_mem(job);
    const double mib = 1024.0 * 1024.0;
    size_t nok = 0;
    for (size_t i = 0; i < n; i++) {
        usable[i] = devs[i].mem_total >= need;
        nok += usable[i];
    }
    /* When none can, the error alone lists them all. */
    for (size_t i = 0; i < n && nok; i++) {
        if (!usable[i])
            log_msg(
                LOG_WARN,
                "device %zu (%s, %.0f MiB) cannot hold a shot of %s (%.0f MiB): left out",
                i, devs[i].name, (double)devs[i].mem_total / mib, job->path,
                (double)need / mib);
    }
    if (nok)
        return 0;
    size_t used =
        (size_t)snprintf(err, errlen,
                         "%s: expected a device with at least %.0f MiB for one shot "
                         "(grid %dx%dx%d + boundary %d), got",
                         job->path, (double)need / mib, job->grid.nx, job->grid.ny,
                         job->grid.nz, job->params.boundary_width);
    for (size_t i = 0; i < n && used < errlen; i++)
        used +=
            (size_t)snprintf(err + used, errlen - used, "%s %s (%.0f MiB)", i ? "," : "",
                             devs[i].name, (double)devs[i].mem_total / mib);
    if (n == 0 && used < errlen)
        snprintf(err + used, errlen - used, " no devices");
    return -ENOMEM;
}

int fd_check_all(const struct fd_job *job, const struct fd_model_data *m, char *err,
                 size_t errlen)
{
    double vmin, vmax;
    int rc = fd_check_geometry(job, err, errlen);
    if (!rc)
        rc = fd_check_output(job, err, errlen);
    if (!rc)
        rc = fd_check_model(job, m, &vmin, &vmax, err, errlen);
    if (!rc)
        rc = fd_check_stability(job, vmin, vmax, err, errlen);
    return rc;
}
