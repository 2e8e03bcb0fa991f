/* fd_png: a picture of a shot gather. Receivers run left to right, time top to
 * bottom; red-white-blue (positive red, negative blue), clipped at a
 * percentile of |amplitude|. Each trace is drawn xscale pixels wide and each
 * sample yscale pixels high, chosen so the picture is at least ~600 pixels
 * wide and ~400 high (at most 8x). */
#ifndef FD_PNG_H
#define FD_PNG_H

#include <stddef.h>

/* Writes an RGB PNG of data (trace-major: data[r * nsamples + s]) to path,
 * atomically. percentile in (0, 100]: amplitudes above that percentile of
 * |data| saturate. Returns 0 or -errno with err set. */
int fd_png_write_gather(const char *path, const float *data, size_t nrec, int nsamples,
                        double percentile, char *err, size_t errlen);

/* The value at percentile (0..100] of |data| (nearest rank); 0 for n = 0. */
float fd_png_clip(const float *data, size_t n, double percentile);

#endif /* FD_PNG_H */
