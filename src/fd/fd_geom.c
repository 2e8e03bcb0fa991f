/* fd_geom: survey positions from axis specs or points files. */
#include "fd/fd_geom.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses a finite double filling the whole of [s, end). Returns true on success. */
static bool parse_double_span(const char *s, const char *end, double *out)
{
    char buf[64];
    size_t len = (size_t)(end - s);
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *stop;
    errno = 0;
    double v = strtod(buf, &stop);
    if (stop == buf || *stop != '\0' || errno == ERANGE || !isfinite(v))
        return false;
    *out = v;
    return true;
}

int fd_geom_parse_axis(const char *spec, double **vals, size_t *n, char *err,
                       size_t errlen)
{
    const char *c1 = strchr(spec, ':');
    const char *end = spec + strlen(spec);
    double begin, stop, step;
    size_t count;
    if (!c1) {
        if (!parse_double_span(spec, end, &begin)) {
            snprintf(err, errlen, "expected a number (metres) or BEGIN:END:STEP");
            return -EINVAL;
        }
        stop = begin;
        step = 1.0;
        count = 1;
    } else {
        const char *c2 = strchr(c1 + 1, ':');
        if (!c2 || strchr(c2 + 1, ':') || !parse_double_span(spec, c1, &begin) ||
            !parse_double_span(c1 + 1, c2, &stop) ||
            !parse_double_span(c2 + 1, end, &step)) {
            snprintf(err, errlen, "expected a number (metres) or BEGIN:END:STEP");
            return -EINVAL;
        }
        if (!(step > 0.0) || stop < begin) {
            snprintf(err, errlen,
                     "expected BEGIN:END:STEP with STEP > 0 and END >= BEGIN");
            return -EINVAL;
        }
        /* END counts when it lies on the step grid up to rounding. */
        double k = floor((stop - begin) / step + 1e-9);
        if (k >= FD_GEOM_MAX_POINTS) {
            snprintf(err, errlen, "expected at most %d positions per axis",
                     FD_GEOM_MAX_POINTS);
            return -EINVAL;
        }
        count = (size_t)k + 1;
    }
    double *v = malloc(count * sizeof *v);
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < count; i++)
        v[i] = begin + (double)i * step;
    *vals = v;
    *n = count;
    return 0;
}

int fd_geom_expand(const double *xs, size_t nx, const double *ys, size_t ny,
                   const double *zs, size_t nz, struct fd_point **pts, size_t *n)
{
    if (nx == 0 || ny == 0 || nz == 0 || nx > FD_GEOM_MAX_POINTS / ny ||
        nx * ny > FD_GEOM_MAX_POINTS / nz)
        return -E2BIG;
    size_t total = nx * ny * nz;
    struct fd_point *p = malloc(total * sizeof *p);
    if (!p)
        return -ENOMEM;
    size_t k = 0;
    for (size_t iz = 0; iz < nz; iz++)
        for (size_t iy = 0; iy < ny; iy++)
            for (size_t ix = 0; ix < nx; ix++)
                p[k++] = (struct fd_point){xs[ix], ys[iy], zs[iz]};
    *pts = p;
    *n = total;
    return 0;
}

/* Drops a trailing newline and a '#' comment; returns the first non-blank char. */
static char *strip_line(char *line)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    size_t len = strlen(line);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' ||
                       line[len - 1] == ' ' || line[len - 1] == '\t'))
        line[--len] = '\0';
    while (*line == ' ' || *line == '\t')
        line++;
    return line;
}

int fd_geom_read_points(const char *path, struct fd_point **pts, size_t *n, char *err,
                        size_t errlen)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
        return -e;
    }
    struct fd_point *p = NULL;
    size_t count = 0, cap = 0;
    char *line = NULL;
    size_t linecap = 0;
    int lineno = 0, rc = 0;
    while (getline(&line, &linecap, f) >= 0) {
        lineno++;
        char *s = strip_line(line);
        if (!*s)
            continue;
        double x, y, z;
        int used = 0;
        if (sscanf(s, "%lf %lf %lf %n", &x, &y, &z, &used) != 3 || s[used] != '\0' ||
            !isfinite(x) || !isfinite(y) || !isfinite(z)) {
            snprintf(err, errlen,
                     "%s:%d: expected 'x y z' (three numbers in metres), got '%.60s'",
                     path, lineno, s);
            rc = -EINVAL;
            goto out;
        }
        if (count == cap) {
            if (cap >= FD_GEOM_MAX_POINTS) {
                snprintf(err, errlen, "%s:%d: expected at most %d positions", path,
                         lineno, FD_GEOM_MAX_POINTS);
                rc = -EINVAL;
                goto out;
            }
            size_t ncap = cap ? 2 * cap : 64;
            struct fd_point *np = realloc(p, ncap * sizeof *np);
            if (!np) {
                rc = -ENOMEM;
                snprintf(err, errlen, "%s: out of memory", path);
                goto out;
            }
            p = np;
            cap = ncap;
        }
        p[count++] = (struct fd_point){x, y, z};
    }
    if (ferror(f)) {
        int e = errno;
        snprintf(err, errlen, "%s: read error: %s", path, strerror(e));
        rc = -e;
        goto out;
    }
    if (count == 0) {
        snprintf(err, errlen, "%s: expected at least one 'x y z' line, got none", path);
        rc = -EINVAL;
    }
out:
    free(line);
    fclose(f);
    if (rc) {
        free(p);
        return rc;
    }
    *pts = p;
    *n = count;
    return 0;
}
