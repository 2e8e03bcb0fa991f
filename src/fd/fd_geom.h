/* fd_geom: survey geometry. Positions come either as one VALUE or a
 * BEGIN:END:STEP range per axis (metres, END included when it falls on the
 * grid of steps within 1e-9 of a step), expanded x fastest, then y, then z;
 * or from a points file with "x y z" per line ('#' starts a comment).
 */
#ifndef FD_GEOM_H
#define FD_GEOM_H

#include <stddef.h>

#include "fd/fd_engine.h"

/* Most positions one axis spec, one file or one expanded survey may give. */
#define FD_GEOM_MAX_POINTS 10000000

/* Parses "VALUE" or "BEGIN:END:STEP" into a malloc'ed array of values.
 * Returns 0 with *vals (caller frees) and *n >= 1, or -EINVAL with what was
 * expected in err (no position prefix: the caller adds file:line and key),
 * or -ENOMEM. */
int fd_geom_parse_axis(const char *spec, double **vals, size_t *n, char *err,
                       size_t errlen);

/* Expands three axes into points, x fastest, then y, then z. Returns 0 with
 * *pts (caller frees) and *n = nx*ny*nz, -E2BIG when more than
 * FD_GEOM_MAX_POINTS, or -ENOMEM. */
int fd_geom_expand(const double *xs, size_t nx, const double *ys, size_t ny,
                   const double *zs, size_t nz, struct fd_point **pts, size_t *n);

/* Reads a points file ("x y z" per line, blank lines and '#' comments
 * allowed). Returns 0 with *pts (caller frees) and *n >= 1; -EINVAL with
 * "PATH:LINE: expected ..., got '...'" in err; or -errno when the file cannot
 * be read (err names the file). */
int fd_geom_read_points(const char *path, struct fd_point **pts, size_t *n, char *err,
                        size_t errlen);

#endif /* FD_GEOM_H */
