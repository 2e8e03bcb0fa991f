/* atomic_file: temp + fsync + rename (see atomic_file.h). */
#include "report/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int atomic_open(struct atomic_file *a, const char *path)
{
    snprintf(a->path, sizeof a->path, "%s", path);
    snprintf(a->tmp, sizeof a->tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(a->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    a->f = fdopen(fd, "w");
    if (!a->f) {
        int e = errno;
        close(fd);
        unlink(a->tmp);
        return -e;
    }
    return 0;
}

int atomic_close(struct atomic_file *a, int ok)
{
    int rc = 0;
    if (fflush(a->f) || ferror(a->f) || fsync(fileno(a->f)))
        rc = -(errno ? errno : EIO);
    if (fclose(a->f) && !rc)
        rc = -errno;
    a->f = NULL;
    if (!ok || rc) {
        unlink(a->tmp);
        return rc ? rc : 0;
    }
    if (rename(a->tmp, a->path)) {
        rc = -errno;
        unlink(a->tmp);
    }
    return rc;
}
