/* atomic_file: the one way shotq writes a whole file. A reader sees the old
 * file or the new one, never a part, and the new one survives a crash once a
 * writer has returned 0:
 *
 *   1. the data go to "PATH.tmp.PID" in the same directory, created with
 *      O_EXCL | O_NOFOLLOW (a planted symlink or file is never written
 *      through; a dead writer's leftover of the same name is unlinked first);
 *   2. the temp file is fsync'ed and closed;
 *   3. it is renamed over PATH and the directory is fsync'ed.
 *
 * On failure the temp file is removed, err holds one line "FILE: cannot
 * STEP: strerror(errno)" and PATH is unchanged, except when only the final
 * directory fsync failed: PATH then holds the whole new content, which may
 * not survive a crash (the caller must not count it as durable). All system calls go through the
 * sysio table (util/sysio.h), so tests can make any of them fail. */
#ifndef SHOTQ_ATOMIC_FILE_H
#define SHOTQ_ATOMIC_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* A file being written through stdio: fprintf into f, then atomic_close. The
 * text is collected in memory and written with sysio at close. */
struct atomic_file {
    FILE *f;         /* write here (a memory stream) */
    char *mem;       /* the memory stream's buffer */
    size_t memlen;   /* its length after a flush */
    int fd;          /* the created temp file */
    char tmp[4200];  /* temporary name */
    char path[4096]; /* final name */
};

/* One piece of a file written by atomic_write. */
struct atomic_chunk {
    const void *data; /* bytes */
    size_t len;       /* their count */
};

/* Creates PATH's temp file and the memory stream. Returns 0 or -errno (err
 * set; nothing is left on disk). */
int atomic_open(struct atomic_file *a, const char *path, char *err, size_t errlen);

/* With ok, writes the collected text, fsyncs and renames into place;
 * without, discards it. Frees everything either way. Returns 0 or -errno
 * (err set, PATH unchanged). */
int atomic_close(struct atomic_file *a, bool ok, char *err, size_t errlen);

/* Writes the chunks, in order, as the new content of path. Returns 0 or
 * -errno (err set, path unchanged). */
int atomic_write(const char *path, const struct atomic_chunk *chunks, size_t n,
                 char *err, size_t errlen);

/* Step 1 alone, for files another library fills by name (segyio): creates
 * PATH.tmp.PID into tmp (tmplen bytes) and returns its open descriptor, or
 * -errno with err set. The caller fills the file, then calls atomic_commit
 * with the descriptor (kept open so the commit can check the name still
 * holds the file created here). */
int atomic_create_tmp(const char *path, char *tmp, size_t tmplen, char *err, size_t errlen);

/* Steps 2 and 3 for a temp file from atomic_create_tmp whose descriptor is
 * fd: checks that tmp is still the file fd refers to (not replaced by a
 * symlink or another file), fsyncs, closes fd, renames tmp over path and
 * fsyncs the directory. Returns 0 or -errno (err set; tmp removed, fd
 * closed, path unchanged). */
int atomic_commit(int fd, const char *tmp, const char *path, char *err, size_t errlen);

/* Removes DIR's leftover temporary files of writers that died: entries named
 * NAME.tmp.PID whose PID is no live process of this host (a live writer's
 * file is left alone, so this is safe beside a running coordinator).
 * Returns the number removed, or -errno when DIR cannot be read (-ENOENT
 * when it does not exist). */
long atomic_clean_stale(const char *dir);

#endif
