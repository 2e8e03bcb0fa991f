/* fd_binout: atomic whole-file writes, whole-file reads, bin gathers. */
#include "fd/fd_binout.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* open(2) with the signature of struct fd_io_ops (open is variadic). */
static int real_open(const char *path, int flags, mode_t mode)
{
    return open(path, flags, mode);
}

static const struct fd_io_ops real_ops = {real_open, write, fsync, rename, close};
static const struct fd_io_ops *io = &real_ops; /* current table */

const struct fd_io_ops *fd_io_set_ops(const struct fd_io_ops *ops)
{
    const struct fd_io_ops *old = io;
    io = ops ? ops : &real_ops;
    return old;
}

/* Writes all of buf, retrying short writes and EINTR. Returns 0 or -errno. */
static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = io->write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The directory part of path ("." when none) into buf. */
static void dir_of(const char *path, char *buf, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(buf, len, ".");
    else if (slash == path)
        snprintf(buf, len, "/");
    else
        snprintf(buf, len, "%.*s", (int)(slash - path), path);
}

/* fsyncs a file or directory by path. Returns 0 or -errno. */
static int sync_one(const char *path, int flags)
{
    int fd = io->open(path, flags | O_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int rc = io->fsync(fd) ? -errno : 0;
    /* Some file systems refuse fsync on directories; the data are durable. */
    if (rc == -EINVAL && (flags & O_DIRECTORY))
        rc = 0;
    io->close(fd);
    return rc;
}

int fd_commit_rename(const char *from, const char *to, char *err, size_t errlen)
{
    if (io->rename(from, to) != 0) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot rename %s into place: %s", to, from,
                 strerror(e));
        return -e;
    }
    /* The rename is only durable once the directory entry is on disk. */
    char dir[4096];
    dir_of(to, dir, sizeof dir);
    int rc = sync_one(dir, O_RDONLY | O_DIRECTORY);
    if (rc)
        snprintf(err, errlen, "%s: cannot fsync directory: %s", dir, strerror(-rc));
    return rc;
}

int fd_sync_path(const char *path, char *err, size_t errlen)
{
    int rc = sync_one(path, O_RDONLY);
    if (rc)
        snprintf(err, errlen, "%s: cannot fsync: %s", path, strerror(-rc));
    return rc;
}

int fd_write_atomic(const char *path, const struct fd_chunk *chunks, size_t n, char *err,
                    size_t errlen)
{
    char tmp[4200];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >=
        sizeof tmp) {
        snprintf(err, errlen, "%.200s...: path too long", path);
        return -ENAMETOOLONG;
    }
    int fd = io->open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(e));
        return -e;
    }
    int rc = 0;
    const char *step = "write";
    for (size_t i = 0; i < n && !rc; i++)
        rc = write_all(fd, chunks[i].data, chunks[i].len);
    if (!rc) {
        step = "fsync";
        rc = io->fsync(fd) ? -errno : 0;
    }
    if (io->close(fd) != 0 && !rc) {
        step = "close";
        rc = -errno;
    }
    if (rc) {
        snprintf(err, errlen, "%s: cannot %s: %s", tmp, step, strerror(-rc));
        unlink(tmp);
        return rc;
    }
    rc = fd_commit_rename(tmp, path, err, errlen);
    if (rc)
        unlink(tmp);
    return rc;
}

int fd_read_file(const char *path, void **buf, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(e));
        return -e;
    }
    size_t size = (size_t)st.st_size;
    char *p = malloc(size ? size : 1);
    if (!p) {
        close(fd);
        snprintf(err, errlen, "%s: out of memory for %zu bytes", path, size);
        return -ENOMEM;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, p + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = r < 0 ? errno : EIO;
            close(fd);
            free(p);
            snprintf(err, errlen, "%s: read failed after %zu of %zu bytes: %s", path, got,
                     size, strerror(e));
            return -e;
        }
        got += (size_t)r;
    }
    close(fd);
    *buf = p;
    *len = size;
    return 0;
}

int fd_mkdirs(const char *dir, char *err, size_t errlen)
{
    char buf[4096];
    if ((size_t)snprintf(buf, sizeof buf, "%s", dir) >= sizeof buf) {
        snprintf(err, errlen, "%.200s...: path too long", dir);
        return -ENAMETOOLONG;
    }
    for (char *p = buf + 1;; p++) {
        bool last = *p == '\0';
        if (*p != '/' && !last)
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
            int e = errno;
            snprintf(err, errlen, "%s: cannot create directory: %s", buf, strerror(e));
            return -e;
        }
        if (last)
            break;
        *p = '/';
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: expected a directory", dir);
        return -ENOTDIR;
    }
    return 0;
}

/* Adds [x, y, z] to a JSON object or array. Returns false when out of memory. */
static bool add_point(cJSON *parent, const char *name, const struct fd_point *p)
{
    double v[3] = {p->x, p->y, p->z};
    cJSON *a = cJSON_CreateDoubleArray(v, 3);
    if (!a)
        return false;
    if (name)
        return cJSON_AddItemToObject(parent, name, a);
    return cJSON_AddItemToArray(parent, a);
}

int fd_binout_write_gather(const char *dir, const struct fd_gather *g, char *err,
                           size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/shot_%05lld.bin", dir, (long long)g->shot);
    struct fd_chunk data = {g->data, g->nrec * (size_t)g->nsamples * sizeof(float)};
    int rc = fd_write_atomic(path, &data, 1, err, errlen);
    if (rc)
        return rc;

    cJSON *o = cJSON_CreateObject();
    cJSON *recs = o ? cJSON_AddArrayToObject(o, "receivers") : NULL;
    bool ok = recs && cJSON_AddNumberToObject(o, "shot", (double)g->shot) &&
              cJSON_AddNumberToObject(o, "nrec", (double)g->nrec) &&
              cJSON_AddNumberToObject(o, "nsamples", g->nsamples) &&
              cJSON_AddNumberToObject(o, "dt", g->dt) &&
              cJSON_AddStringToObject(o, "layout", "trace-major, time fastest") &&
              cJSON_AddStringToObject(o, "dtype", "float32, host byte order") &&
              add_point(o, "source", &g->source);
    for (size_t r = 0; ok && r < g->nrec; r++)
        ok = add_point(recs, NULL, &g->receivers[r]);
    char *text = ok ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!text) {
        snprintf(err, errlen, "%s: out of memory building the JSON sidecar", path);
        return -ENOMEM;
    }
    snprintf(path, sizeof path, "%s/shot_%05lld.json", dir, (long long)g->shot);
    struct fd_chunk js[2] = {{text, strlen(text)}, {"\n", 1}};
    rc = fd_write_atomic(path, js, 2, err, errlen);
    cJSON_free(text);
    return rc;
}
