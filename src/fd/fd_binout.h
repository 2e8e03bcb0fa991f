/* fd_binout: whole-file I/O for the FD workload: reads, output directories
 * and the raw binary gather format. Writers go through util/atomic_file.h
 * (temp name, fsync, rename, directory fsync; sysio fault injection).
 * Every descriptor is opened with O_CLOEXEC.
 */
#ifndef FD_BINOUT_H
#define FD_BINOUT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fd/fd_engine.h"

/* Reads a whole file into a malloc'ed buffer (caller frees). Returns 0, or
 * -errno with err naming the file. */
int fd_read_file(const char *path, void **buf, size_t *len, char *err, size_t errlen);

/* Creates dir and its missing parents (mode 0777 & ~umask). Returns 0 or -errno. */
int fd_mkdirs(const char *dir, char *err, size_t errlen);

/* Shot gather metadata for the bin sidecar and the SEG-Y writer. data is
 * trace-major: data[r * nsamples + s]. */
struct fd_gather {
    int64_t shot;                     /* shot number */
    struct fd_point source;           /* metres */
    const struct fd_point *receivers; /* nrec positions */
    size_t nrec;
    int nsamples;      /* samples per trace */
    double dt;         /* sample interval (s) */
    const float *data; /* nrec * nsamples */
};

/* Writes DIR/shot_%05d.bin (float32, trace-major, host byte order) and the
 * JSON sidecar DIR/shot_%05d.json {"shot", "nrec", "nsamples", "dt", "source":
 * [x,y,z], "receivers": [[x,y,z],...], "layout", "dtype"}, each atomically.
 * Returns 0 or -errno with err set. */
int fd_binout_write_gather(const char *dir, const struct fd_gather *g, char *err,
                           size_t errlen);

#endif /* FD_BINOUT_H */
