/* fd_model_io: model arrays from constants, layers or raw float32 files. */
#include "fd/fd_model_io.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fd/fd_binout.h"

/* Fills a property from a file; dst has n cells. Returns 0 or -errno. */
static int load_file(const struct fd_job *job, const struct fd_prop *p, const char *key,
                     float *dst, size_t n, char *err, size_t errlen)
{
    void *buf;
    size_t len;
    char why[600];
    int rc = fd_read_file(p->path, &buf, &len, why, sizeof why);
    if (rc) {
        snprintf(err, errlen, "%s:%d: key '%s': %s", job->path, p->line, key, why);
        return rc;
    }
    const struct fd_grid *g = &job->grid;
    if (len != n * sizeof(float)) {
        snprintf(err, errlen,
                 "%s:%d: key '%s': expected %zu bytes in %s (nx*ny*nz*4 = %d*%d*%d*4), "
                 "got %zu",
                 job->path, p->line, key, n * sizeof(float), p->path, g->nx, g->ny, g->nz,
                 len);
        free(buf);
        return -EINVAL;
    }
    const float *src = buf;
    if (job->order == FD_ORDER_ZXY) {
        memcpy(dst, src, len);
    } else {
        /* xyz: x fastest, then y, then z in the file. */
        size_t nx = (size_t)g->nx, ny = (size_t)g->ny, nz = (size_t)g->nz;
        for (size_t iz = 0; iz < nz; iz++)
            for (size_t iy = 0; iy < ny; iy++)
                for (size_t ix = 0; ix < nx; ix++)
                    dst[(iy * nx + ix) * nz + iz] = src[(iz * ny + iy) * nx + ix];
    }
    free(buf);
    return 0;
}

float *fd_model_load_prop(const struct fd_job *job, const struct fd_prop *p,
                          const char *key, char *err, size_t errlen)
{
    const struct fd_grid *g = &job->grid;
    size_t nz = (size_t)g->nz, ncol = (size_t)g->nx * (size_t)g->ny, n = ncol * nz;
    float *a = malloc(n * sizeof *a);
    if (!a) {
        snprintf(err, errlen, "%s: key '%s': out of memory for %zu cells", job->path, key,
                 n);
        return NULL;
    }
    switch (p->kind) {
    case FD_PROP_CONST:
        for (size_t i = 0; i < n; i++)
            a[i] = (float)p->value;
        break;
    case FD_PROP_LAYERS: {
        /* One column, then copied to every (x, y). */
        size_t l = 0;
        for (size_t iz = 0; iz < nz; iz++) {
            double z = (double)iz * g->dz;
            while (l + 1 < p->nlayers && p->layers[l + 1].z <= z + 1e-9 * g->dz)
                l++;
            a[iz] = (float)p->layers[l].value;
        }
        for (size_t c = 1; c < ncol; c++)
            memcpy(a + c * nz, a, nz * sizeof *a);
        break;
    }
    case FD_PROP_FILE:
        if (load_file(job, p, key, a, n, err, errlen)) {
            free(a);
            return NULL;
        }
        break;
    }
    return a;
}

int fd_model_load(const struct fd_job *job, struct fd_model_data *m, char *err,
                  size_t errlen)
{
    memset(m, 0, sizeof *m);
    m->ncells = (size_t)job->grid.nx * (size_t)job->grid.ny * (size_t)job->grid.nz;
    m->vp = fd_model_load_prop(job, &job->vp, "vp", err, errlen);
    if (!m->vp)
        goto out_fail;
    if (job->params.equation != FD_ACOUSTIC2) {
        m->rho = fd_model_load_prop(job, &job->rho, "rho", err, errlen);
        if (!m->rho)
            goto out_fail;
    }
    if (job->params.equation == FD_VTI || job->params.equation == FD_TTI) {
        m->eps = fd_model_load_prop(job, &job->eps, "epsilon", err, errlen);
        m->del = m->eps ? fd_model_load_prop(job, &job->del, "delta", err, errlen) : NULL;
        if (!m->del)
            goto out_fail;
    }
    if (job->params.equation == FD_TTI) {
        m->theta = fd_model_load_prop(job, &job->theta, "theta", err, errlen);
        m->phi = m->theta ? fd_model_load_prop(job, &job->phi, "phi", err, errlen) : NULL;
        if (!m->phi)
            goto out_fail;
    }
    return 0;
out_fail:
    fd_model_free(m);
    return strstr(err, "expected") ? -EINVAL : -EIO;
}

void fd_model_free(struct fd_model_data *m)
{
    free(m->vp);
    free(m->rho);
    free(m->eps);
    free(m->del);
    free(m->theta);
    free(m->phi);
    memset(m, 0, sizeof *m);
}

/* Nearest index in [0, n-1] of coordinate v on spacing d. */
static size_t nearest(double v, double d, int n)
{
    double k = floor(v / d + 0.5);
    if (k < 0)
        k = 0;
    if (k > n - 1)
        k = n - 1;
    return (size_t)k;
}

size_t fd_model_cell(const struct fd_grid *g, const struct fd_point *p)
{
    size_t ix = nearest(p->x, g->dx, g->nx), iy = nearest(p->y, g->dy, g->ny),
           iz = nearest(p->z, g->dz, g->nz);
    return (iy * (size_t)g->nx + ix) * (size_t)g->nz + iz;
}
