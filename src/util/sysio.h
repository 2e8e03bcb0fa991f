/* sysio: the one table of system calls behind every durable file shotq writes
 * (journal, report.json, Gantt charts, atomic writes, SEG-Y and other FD
 * output). Production code calls sysio.open(...) etc. instead of the libc
 * names; tests make the Nth call of a kind fail with a chosen errno, in the
 * spirit of SQLite's test_syscall.c, and check that nothing recorded done is
 * lost and that the error names the file and the errno.
 *
 * The table is process-global and not thread-safe to change: tests change it
 * before the code under test runs. */
#ifndef SHOTQ_SYSIO_H
#define SHOTQ_SYSIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The calls that can be made to fail, one per table entry. */
enum sysio_call {
    SYSIO_OPEN,
    SYSIO_WRITE,
    SYSIO_FSYNC,
    SYSIO_FDATASYNC,
    SYSIO_RENAME,
    SYSIO_LINK,
    SYSIO_CLOSE,
    SYSIO_NCALLS
};

struct sysio {
    int (*open)(const char *path, int flags, mode_t mode); /* open(2) */
    ssize_t (*write)(int fd, const void *buf, size_t n);   /* write(2) */
    int (*fsync)(int fd);                                  /* fsync(2) */
    int (*fdatasync)(int fd);                              /* fdatasync(2) */
    int (*rename)(const char *from, const char *to);       /* rename(2) */
    int (*link)(const char *from, const char *to);         /* link(2) */
    int (*close)(int fd);                                  /* close(2) */
};

/* The table in use: the real calls, each first consulting the fault plan. */
extern const struct sysio sysio;

/* Plans a fault: counting from now, the nth (1-based) call of kind `call`
 * fails with errno err without reaching the kernel; with persist, every later
 * call of that kind fails too. One plan per kind; a new plan replaces it. */
void sysio_fail(enum sysio_call call, unsigned nth, int err, bool persist);

/* Clears every plan and counter. */
void sysio_reset(void);

/* How many calls of kind `call` were made (real or failed) since the last
 * sysio_fail/sysio_reset of that kind. */
unsigned sysio_calls(enum sysio_call call);

/* Writes all of buf, retrying short writes and EINTR. Returns 0 or -errno
 * (-EIO when write returns 0). */
int sysio_write_all(int fd, const void *buf, size_t len);

/* fsyncs directory dir so entries created or renamed in it survive a crash.
 * A file system that refuses fsync on directories (EINVAL) counts as done.
 * Returns 0 or -errno. */
int sysio_sync_dir(const char *dir);

/* The directory part of path ("." when none, "/" for the root) into buf. */
void sysio_dir_of(const char *path, char *buf, size_t len);

#endif
