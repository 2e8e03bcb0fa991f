/* fd_model_io: builds the model arrays (vp, rho) of a job on the host, in the
 * engine's layout: float32, z fastest, then x, then y. */
#ifndef FD_MODEL_IO_H
#define FD_MODEL_IO_H

#include <stddef.h>

#include "fd/fd_job.h"

struct fd_model_data {
    float *vp;          /* ncells, owned */
    float *rho;         /* ncells, owned; NULL for acoustic2 (constant density) */
    float *eps, *del;   /* ncells, owned; vti and tti only, else NULL */
    float *theta, *phi; /* ncells, owned, degrees; tti only, else NULL */
    size_t ncells;      /* nx * ny * nz */
};

/* Fills one property: a constant, layers by depth (cell iz at z = iz*dz takes
 * the last layer whose top is <= z), or a raw float32 file whose size must be
 * exactly nx*ny*nz*4 bytes, transposed from xyz to zxy when order = xyz.
 * Values are not checked here (fd_check_model does). Returns a malloc'ed
 * array (caller frees) or NULL with one line in err naming the key, its line
 * and the file. */
float *fd_model_load_prop(const struct fd_job *job, const struct fd_prop *p,
                          const char *key, char *err, size_t errlen);

/* Loads vp and, for acoustic1, rho. Returns 0 or -errno (-EINVAL for a file
 * of the wrong size) with err set; *m is zeroed on failure. */
int fd_model_load(const struct fd_job *job, struct fd_model_data *m, char *err,
                  size_t errlen);

/* Frees the arrays and zeroes *m. Safe on a zeroed struct. */
void fd_model_free(struct fd_model_data *m);

/* Cell index (z fastest) of the grid cell nearest to point p. */
size_t fd_model_cell(const struct fd_grid *g, const struct fd_point *p);

#endif /* FD_MODEL_IO_H */
