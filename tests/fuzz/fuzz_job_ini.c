/* fuzz_job_ini: fd_job_load() over arbitrary job files (written to a temp
 * file, since the loader takes a path). */
#include "fd/fd_job.h"
#include "fuzz_common.h"
#include <stdio.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One fuzz input: load it as a job INI. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/shotq-fuzz-job-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) == (ssize_t)size) {
        struct fd_job job;
        char err[512];
        memset(&job, 0, sizeof job);
        if (fd_job_load(path, &job, err, sizeof err) == 0) {
            (void)fd_job_nsamples(&job);
            fd_job_free(&job);
        }
    }
    close(fd);
    unlink(path);
    return 0;
}
