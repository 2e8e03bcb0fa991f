/* sysio: the system-call table with a fault plan (see sysio.h). */
#include "util/sysio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* One kind's fault plan. */
struct plan {
    unsigned calls;   /* calls made since the plan was set */
    unsigned nth;     /* the call that fails (1-based), 0: none */
    int err;          /* errno it fails with */
    bool persist;     /* calls after the nth fail too */
};

static struct plan plans[SYSIO_NCALLS];

/* Counts a call of kind k; true (errno set) when the plan says it fails. */
static bool faulted(enum sysio_call k)
{
    struct plan *p = &plans[k];
    unsigned n = ++p->calls;
    if (!p->nth || n < p->nth || (n > p->nth && !p->persist))
        return false;
    errno = p->err;
    return true;
}

static int io_open(const char *path, int flags, mode_t mode)
{
    return faulted(SYSIO_OPEN) ? -1 : open(path, flags, mode);
}

static ssize_t io_write(int fd, const void *buf, size_t n)
{
    return faulted(SYSIO_WRITE) ? -1 : write(fd, buf, n);
}

static int io_fsync(int fd)
{
    return faulted(SYSIO_FSYNC) ? -1 : fsync(fd);
}

static int io_fdatasync(int fd)
{
    return faulted(SYSIO_FDATASYNC) ? -1 : fdatasync(fd);
}

static int io_rename(const char *from, const char *to)
{
    return faulted(SYSIO_RENAME) ? -1 : rename(from, to);
}

static int io_link(const char *from, const char *to)
{
    return faulted(SYSIO_LINK) ? -1 : link(from, to);
}

/* A failed close still releases the descriptor, as close(2) does on Linux. */
static int io_close(int fd)
{
    if (faulted(SYSIO_CLOSE)) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return close(fd);
}

const struct sysio sysio = {io_open,   io_write, io_fsync, io_fdatasync,
                            io_rename, io_link,  io_close};

void sysio_fail(enum sysio_call call, unsigned nth, int err, bool persist)
{
    plans[call] = (struct plan){0, nth, err, persist};
}

void sysio_reset(void)
{
    memset(plans, 0, sizeof plans);
}

unsigned sysio_calls(enum sysio_call call)
{
    return plans[call].calls;
}

int sysio_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = sysio.write(fd, p, len);
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

int sysio_sync_dir(const char *dir)
{
    int fd = sysio.open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int rc = sysio.fsync(fd) ? -errno : 0;
    if (rc == -EINVAL)
        rc = 0;
    if (sysio.close(fd) && !rc)
        rc = -errno;
    return rc;
}

void sysio_dir_of(const char *path, char *buf, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(buf, len, ".");
    else if (slash == path)
        snprintf(buf, len, "/");
    else
        snprintf(buf, len, "%.*s", (int)(slash - path), path);
}
