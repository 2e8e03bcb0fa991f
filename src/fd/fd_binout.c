/* fd_binout: whole-file reads, directories, bin gathers. */
#include "fd/fd_binout.h"

#include "util/atomic_file.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
    struct atomic_chunk data = {g->data, g->nrec * (size_t)g->nsamples * sizeof(float)};
    int rc = atomic_write(path, &data, 1, err, errlen);
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
    struct atomic_chunk js[2] = {{text, strlen(text)}, {"\n", 1}};
    rc = atomic_write(path, js, 2, err, errlen);
    cJSON_free(text);
    return rc;
}
