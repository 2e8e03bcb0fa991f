/* fd_binout: whole-file I/O for the FD workload.
 *
 * Writers are atomic: the data go to "PATH.tmp.PID" in the same directory,
 * which is fsync'ed, renamed over PATH, and the directory is fsync'ed so the
 * rename survives a crash. A reader sees the old file or the new one, never a
 * part. All system calls go through a table tests can replace (fault injection).
 * Every descriptor is opened with O_CLOEXEC.
 */
#ifndef FD_BINOUT_H
#define FD_BINOUT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fd/fd_engine.h"

/* The system calls the writers use; tests swap in failing versions. */
struct fd_io_ops {
    int (*open)(const char *path, int flags, mode_t mode);
    ssize_t (*write)(int fd, const void *buf, size_t n);
    int (*fsync)(int fd);
    int (*rename)(const char *from, const char *to);
    int (*close)(int fd);
};

/* Replaces the table (NULL restores the real calls). Returns the previous one. */
const struct fd_io_ops *fd_io_set_ops(const struct fd_io_ops *ops);

/* One piece of a file written by fd_write_atomic. */
struct fd_chunk {
    const void *data;
    size_t len;
};

/* Writes the chunks, in order, as the new content of path (atomically, see
 * above). Returns 0, or -errno with one line naming the file and the step in
 * err; on failure path is unchanged and the temp file removed. */
int fd_write_atomic(const char *path, const struct fd_chunk *chunks, size_t n, char *err,
                    size_t errlen);

/* fsyncs an existing file and its directory, through the ops table (for files
 * written by other libraries, e.g. segyio). Returns 0 or -errno, err set. */
int fd_sync_path(const char *path, char *err, size_t errlen);

/* Renames from over to and fsyncs the directory of to. Returns 0 or -errno. */
int fd_commit_rename(const char *from, const char *to, char *err, size_t errlen);

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
