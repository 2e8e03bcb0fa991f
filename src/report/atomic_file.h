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

#endif
