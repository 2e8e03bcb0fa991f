/* fd_wavelet: source time functions, sampled at t = n*dt, n = 0 .. nt-1.
 *
 *   ricker     (1 - 2 pi^2 f^2 tau^2) exp(-pi^2 f^2 tau^2), tau = t - 1/f;
 *              peak 1 at t = 1/f
 *   gaussian   exp(-pi^2 f^2 tau^2), peak 1 at t = 1/f
 *   dgaussian  the time derivative of gaussian, scaled so its largest value
 *              is 1 (at tau = -1/(pi f sqrt 2)); -sqrt(2e) pi f tau exp(-pi^2 f^2 tau^2)
 *   file       text, one value per line ('#' comments), or raw float32 when
 *              the name ends in ".bin"; fewer than nt values are zero-padded
 *              (reported as a warning), values beyond nt are ignored.
 */
#ifndef FD_WAVELET_H
#define FD_WAVELET_H

#include <stddef.h>

#include "fd/fd_job.h"

/* Value of a built-in wavelet (not FD_WAVELET_FILE) at time t. */
double fd_wavelet_value(enum fd_wavelet_kind kind, double fpeak, double t);

/* Builds the nt samples of the job's wavelet. Returns a malloc'ed array (caller
 * frees) or NULL with one line in err. *padded (may be NULL) receives how many
 * zero samples were appended to a short wavelet file (0 otherwise). */
float *fd_wavelet_make(const struct fd_job *job, size_t *padded, char *err,
                       size_t errlen);

#endif /* FD_WAVELET_H */
