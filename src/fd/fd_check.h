/* fd_check: pre-flight checks of a job, run before any work starts.
 *
 * fd_job_load already refuses malformed values (types, ranges, record_dt not a
 * multiple of dt). The checks here need the whole job, the model values or
 * the devices. Each error is one line naming the job file, the key's line and
 * what was expected; warnings go to log_msg(LOG_WARN).
 */
#ifndef FD_CHECK_H
#define FD_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fd/fd_job.h"
#include "fd/fd_model_io.h"

/* Points per minimum wavelength below which fd_check_stability warns / fails. */
#define FD_CHECK_PPW_WARN 6.0
#define FD_CHECK_PPW_ERROR 3.0

/* Every source and receiver lies inside [0, (n-1) d] on each axis. Returns 0
 * or -EINVAL naming the first position outside (shot or receiver number).
 * With free_surface, warns about positions in the top cell row (p = 0 there). */
int fd_check_geometry(const struct fd_job *job, char *err, size_t errlen);

/* Output limits: for SEG-Y, record_dt a whole number of microseconds in
 * [1, 65535] and at most 32767 samples per trace. Returns 0 or -EINVAL. */
int fd_check_output(const struct fd_job *job, char *err, size_t errlen);

/* Model values: every vp (and rho when loaded) finite and > 0; names the
 * first bad cell (ix, iy, iz). Sets *vmin and *vmax of vp. Returns 0 or -EINVAL. */
int fd_check_model(const struct fd_job *job, const struct fd_model_data *m, double *vmin,
                   double *vmax, char *err, size_t errlen);

/* CFL (dt <= fd_max_stable_dt for vmax) and dispersion (vmin / (2.5 fpeak) /
 * max(dx, dy, dz) points per wavelength: warning below FD_CHECK_PPW_WARN,
 * error below FD_CHECK_PPW_ERROR). Returns 0 or -EINVAL. */
int fd_check_stability(const struct fd_job *job, double vmin, double vmax, char *err,
                       size_t errlen);

/* Memory (bytes) one shot of this job needs on a device. */
uint64_t fd_check_shot_mem(const struct fd_job *job);

/* A device a shot might run on, for fd_check_devices. */
struct fd_check_device {
    const char *name;   /* for messages */
    uint64_t mem_total; /* bytes */
};

/* Marks usable[i] for the devices that can hold a shot; warns about each
 * device left out. Returns 0 when at least one can, else -ENOMEM with the
 * numbers (what a shot needs, what each device has) in err. */
int fd_check_devices(const struct fd_job *job, const struct fd_check_device *devs,
                     size_t n, bool *usable, char *err, size_t errlen);

/* Runs fd_check_geometry, fd_check_output, fd_check_model and
 * fd_check_stability in that order. Returns 0 or the first error. */
int fd_check_all(const struct fd_job *job, const struct fd_model_data *m, char *err,
                 size_t errlen);

#endif /* FD_CHECK_H */
