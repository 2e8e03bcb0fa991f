/* atomic_file: write a file under a temporary name, fsync, rename. */
#ifndef SHOTQ_ATOMIC_FILE_H
#define SHOTQ_ATOMIC_FILE_H

#include <stdio.h>

struct atomic_file {
    FILE *f;         /* write here */
    char tmp[4200];  /* temporary name */
    char path[4096]; /* final name */
};

/* Opens PATH.tmp.PID for writing. Returns 0 or -errno. */
int atomic_open(struct atomic_file *a, const char *path);

/* Flushes, fsyncs and renames into place (ok) or removes the temp file
 * (!ok). Returns 0 or -errno. */
int atomic_close(struct atomic_file *a, int ok);

/* Removes DIR's leftover temporary files of writers that died: entries named
 * NAME.tmp.PID whose PID is no live process of this host (a live writer's
 * file is left alone, so this is safe beside a running coordinator).
 * Returns the number removed, or -errno when DIR cannot be read (-ENOENT
 * when it does not exist). */
long atomic_clean_stale(const char *dir);

#endif
