/* atomic_file: temp + fsync + rename (see atomic_file.h). */
#include "report/atomic_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
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
