/* atomic_file: temp + fsync + rename + directory fsync (see atomic_file.h). */
#include "util/atomic_file.h"

#include "util/sysio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Fills err with "file: cannot step: strerror(-rc)" and returns rc. */
static int fail(char *err, size_t errlen, const char *file, const char *step, int rc)
{
    snprintf(err, errlen, "%s: cannot %s: %s", file, step, strerror(-rc));
    return rc;
}

int atomic_create_tmp(const char *path, char *tmp, size_t tmplen, char *err, size_t errlen)
{
    if ((size_t)snprintf(tmp, tmplen, "%s.tmp.%ld", path, (long)getpid()) >= tmplen) {
        snprintf(err, errlen, "%.200s...: path too long", path);
        return -ENAMETOOLONG;
    }
    const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    int fd = sysio.open(tmp, flags, 0666);
    /* Our pid's name already there: a dead writer's leftover (the pid was
     * reused) or something planted. unlink removes the entry itself, never
     * what a symlink points to. */
    if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)
        fd = sysio.open(tmp, flags, 0666);
    if (fd < 0)
        return fail(err, errlen, tmp, "create", -errno);
    return fd;
}

/* True when name is still the file open as fd (same device and inode). */
static bool still_ours(int fd, const char *name)
{
    struct stat a, b;
    return fstat(fd, &a) == 0 && lstat(name, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

int atomic_commit(int fd, const char *tmp, const char *path, char *err, size_t errlen)
{
    int rc = 0;
    if (!still_ours(fd, tmp))
        rc = fail(err, errlen, tmp, "commit (it was replaced while being written)",
                  -EEXIST);
    else if (sysio.fsync(fd))
        rc = fail(err, errlen, tmp, "fsync", -errno);
    if (sysio.close(fd) && !rc)
        rc = fail(err, errlen, tmp, "close", -errno);
    if (!rc && sysio.rename(tmp, path))
        rc = fail(err, errlen, path, "rename the temp file into place", -errno);
    if (rc) {
        if (rc != -EEXIST) /* a replaced name is not ours to remove */
            unlink(tmp);
        return rc;
    }
    /* The rename is durable only once the directory entry is on disk. */
    char dir[4096];
    sysio_dir_of(path, dir, sizeof dir);
    rc = sysio_sync_dir(dir);
    return rc ? fail(err, errlen, dir, "fsync directory", rc) : 0;
}

int atomic_write(const char *path, const struct atomic_chunk *chunks, size_t n,
                 char *err, size_t errlen)
{
    char tmp[4200];
    int fd = atomic_create_tmp(path, tmp, sizeof tmp, err, errlen);
    if (fd < 0)
        return fd;
    for (size_t i = 0; i < n; i++) {
        int rc = sysio_write_all(fd, chunks[i].data, chunks[i].len);
        if (rc) {
            sysio.close(fd);
            unlink(tmp);
            return fail(err, errlen, tmp, "write", rc);
        }
    }
    return atomic_commit(fd, tmp, path, err, errlen);
}

int atomic_open(struct atomic_file *a, const char *path, char *err, size_t errlen)
{
    snprintf(a->path, sizeof a->path, "%s", path);
    a->mem = NULL;
    a->memlen = 0;
    a->f = NULL;
    a->fd = atomic_create_tmp(path, a->tmp, sizeof a->tmp, err, errlen);
    if (a->fd < 0)
        return a->fd;
    a->f = open_memstream(&a->mem, &a->memlen);
    if (!a->f) {
        int rc = fail(err, errlen, path, "allocate a buffer", -errno);
        sysio.close(a->fd);
        unlink(a->tmp);
        return rc;
    }
    return 0;
}

int atomic_close(struct atomic_file *a, bool ok, char *err, size_t errlen)
{
    /* A memory stream fails only for lack of memory. */
    bool bad = ferror(a->f) != 0;
    bad |= fclose(a->f) != 0;
    a->f = NULL;
    int rc = bad ? fail(err, errlen, a->path, "format", -ENOMEM) : 0;
    if (ok && !rc && (rc = sysio_write_all(a->fd, a->mem, a->memlen)))
        fail(err, errlen, a->tmp, "write", rc);
    free(a->mem);
    a->mem = NULL;
    if (ok && !rc)
        return atomic_commit(a->fd, a->tmp, a->path, err, errlen);
    sysio.close(a->fd);
    unlink(a->tmp);
    return rc;
}

/* The writer's pid if name is NAME.tmp.PID, else 0. */
static pid_t tmp_owner(const char *name)
{
    const char *t = strstr(name, ".tmp.");
    if (!t || t == name)
        return 0;
    for (const char *q; (q = strstr(t + 1, ".tmp.")); t = q)
        ;
    const char *digits = t + 5;
    if (!*digits || strspn(digits, "0123456789") != strlen(digits) || strlen(digits) > 9)
        return 0;
    return (pid_t)atol(digits);
}

long atomic_clean_stale(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        pid_t pid = tmp_owner(e->d_name);
        if (pid <= 0 || !(kill(pid, 0) < 0 && errno == ESRCH))
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) == 0)
            n++;
    }
    closedir(d);
    return n;
}
