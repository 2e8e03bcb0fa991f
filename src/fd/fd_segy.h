/* fd_segy: SEG-Y rev 1 shot gathers through segyio 1.8.
 *
 * Binary header: interval (us), samples, format 5 (IEEE float), revision 1
 * (0x0100), fixed-length traces, measurement system 1 (metres), traces per
 * ensemble. Trace headers: TRACE_SEQUENCE_LINE = TRACE_SEQUENCE_FILE = trace
 * number (1-based), FieldRecord = EnergySourcePoint = shot number,
 * TraceNumber (1-based), TraceIdentificationCode 1, offset = horizontal
 * source-receiver distance rounded to whole metres (unsigned; rev 1 has no
 * scalar for it), ReceiverGroupElevation = -z and SourceDepth = +z of the
 * source, both in cm with ElevationScalar = -100, SourceX/Y and GroupX/Y in
 * cm with SourceGroupScalar = -100, CoordinateUnits 1 (length), sample count
 * and interval (us).
 */
#ifndef FD_SEGY_H
#define FD_SEGY_H

#include <stddef.h>

#include "fd/fd_binout.h"

/* Scalar written to bytes 69 and 71: coordinates and depths are in 1/100 m. */
#define FD_SEGY_SCALAR (-100)

/* Writes the gather to path atomically (temp file in the same directory,
 * fsync'ed, renamed). text: up to 40 lines of the textual header (each cut to
 * 76 characters and prefixed "Cnn "), may be NULL. Returns 0, or -errno /
 * -EINVAL (a value that does not fit a header field) with err set. */
int fd_segy_write(const char *path, const struct fd_gather *g, const char *const *text,
                  size_t ntext, char *err, size_t errlen);

/* Reads a gather written by fd_segy_write (or any IEEE/IBM SEG-Y with fixed
 * trace length) into a malloc'ed trace-major array (*data, caller frees).
 * Returns 0 or -errno / -EINVAL with err set. */
int fd_segy_read(const char *path, float **data, size_t *ntraces, int *nsamples,
                 double *dt, char *err, size_t errlen);

#endif /* FD_SEGY_H */
