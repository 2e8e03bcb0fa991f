/* fd_cuda_stub: the CUDA back end of a build without CUDA. Every entry point
 * fails cleanly so that callers need no #ifdef. */
#include <stdio.h>

#include "fd/fd_backend.h"

/* No CUDA back end compiled in: never available. */
bool fd_cuda_probe(void)
{
    /* No CUDA back end compiled in: never available. */
    return false;
}

/* No CUDA back end: always fails with a message. */
int fd_cuda_copy_bandwidth(int ordinal, size_t bytes, double *gbs, char *err,
                           size_t errlen)
{
    /* No CUDA back end: always fails. */
    (void)bytes;
    *gbs = 0.0;
    if (err && errlen)
        snprintf(err, errlen, "fd: CUDA device %d: this build has no CUDA back end",
                 ordinal);
    return -1;
}

/* Refuses to create a CUDA engine. Returns -1 with the reason in err. */
static int stub_create(void **state, const struct fd_layout *L,
                       const float *const model[FD_MAX_MODEL], int ordinal, char *err,
                       size_t errlen)
{
    (void)L;
    (void)model;
    *state = NULL;
    if (err && errlen)
        snprintf(err, errlen,
                 "fd: CUDA device %d requested but this build has no CUDA back end "
                 "(nvcc not found or SHOTQ_CUDA=OFF)",
                 ordinal);
    return -1;
}

/* Never reached: no state can exist. Returns -1. */
static int stub_begin_shot(void *state, const struct fd_interp *src,
                           const struct fd_interp *rec, size_t nrec, int chunk, char *err,
                           size_t errlen)
{
    (void)state;
    (void)src;
    (void)rec;
    (void)nrec;
    (void)chunk;
    if (err && errlen)
        snprintf(err, errlen, "fd: no CUDA back end in this build");
    return -1;
}

/* Never reached. Returns -1. */
static int stub_step(void *state, float amp, char *err, size_t errlen)
{
    (void)amp;
    return stub_begin_shot(state, NULL, NULL, 0, 0, err, errlen);
}

/* Never reached. Returns -1. */
static int stub_record(void *state, int slot, char *err, size_t errlen)
{
    (void)slot;
    return stub_begin_shot(state, NULL, NULL, 0, 0, err, errlen);
}

/* Never reached. Returns -1. */
static int stub_fetch(void *state, int count, float *host, char *err, size_t errlen)
{
    (void)count;
    (void)host;
    return stub_begin_shot(state, NULL, NULL, 0, 0, err, errlen);
}

/* Never reached. Returns -1. */
static int stub_snapshot(void *state, float *host, char *err, size_t errlen)
{
    (void)host;
    return stub_begin_shot(state, NULL, NULL, 0, 0, err, errlen);
}

/* Never reached. Returns -1. */
static int stub_set_model(void *state, int which, const float *host, char *err,
                          size_t errlen)
{
    (void)which;
    (void)host;
    return stub_begin_shot(state, NULL, NULL, 0, 0, err, errlen);
}

/* Nothing to free. */
static void stub_destroy(void *state)
{
    (void)state;
}

const struct fd_backend_ops fd_cuda_ops = {
    .name = "cuda",
    .create = stub_create,
    .begin_shot = stub_begin_shot,
    .step = stub_step,
    .record = stub_record,
    .fetch = stub_fetch,
    .snapshot = stub_snapshot,
    .set_model = stub_set_model,
    .destroy = stub_destroy,
};
