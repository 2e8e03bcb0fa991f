/* cuda_emu: a CPU stand-in for the parts of the CUDA runtime fd_cuda.cu uses,
 * so that the CUDA back end's kernels can be run and compared with the CPU
 * back end on a machine without a GPU (tests/physics/cuda_emu/run).
 *
 * Each block runs alone; its threads are ucontext coroutines scheduled round
 * robin, and __syncthreads() switches to the next thread, so shared memory and
 * barriers behave as on a GPU for kernels whose threads all reach the same
 * barriers. Memory calls are malloc/memcpy/memset. Slow: small grids only. */
#ifndef CUDA_EMU_RUNTIME_H
#define CUDA_EMU_RUNTIME_H

#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include <functional>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __shared__ static
#define __forceinline__ inline
#define __restrict__ __restrict

struct dim3 {
    unsigned x, y, z;
    dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_)
    {
    }
};

typedef int cudaError_t;
typedef void *cudaEvent_t;
enum { cudaSuccess = 0, cudaErrorMemoryAllocation = 2, cudaErrorInvalidValue = 1 };
enum cudaMemcpyKind {
    cudaMemcpyHostToDevice,
    cudaMemcpyDeviceToHost,
    cudaMemcpyDeviceToDevice
};

static dim3 threadIdx, blockIdx, blockDim, gridDim;

namespace emu
{
static ucontext_t sched;                  /* the scheduler's context */
static std::vector<ucontext_t> ctx;       /* one per thread of the block */
static std::vector<char> stacks;          /* their stacks */
static std::vector<int> done;             /* finished threads */
static const std::function<void()> *body; /* the kernel call */
static int current;                       /* running thread */
static const size_t stack_bytes = 64 * 1024;

static void entry()
{
    (*body)();
    done[(size_t)current] = 1;
}

/* Runs the kernel call f on a grid of blocks, one block at a time. */
static void launch(dim3 grid, dim3 block, const std::function<void()> &f)
{
    const int n = (int)(block.x * block.y * block.z);
    /* Stacks for the largest block (1024 threads) once: never moved. */
    if (stacks.empty()) {
        stacks.resize((size_t)1024 * stack_bytes);
        ctx.resize(1024);
    }
    done.assign((size_t)n, 0);
    body = &f;
    gridDim = grid;
    blockDim = block;
    for (unsigned bz = 0; bz < grid.z; bz++)
        for (unsigned by = 0; by < grid.y; by++)
            for (unsigned bx = 0; bx < grid.x; bx++) {
                blockIdx = dim3(bx, by, bz);
                for (int t = 0; t < n; t++) {
                    done[(size_t)t] = 0;
                    getcontext(&ctx[(size_t)t]);
                    ctx[(size_t)t].uc_stack.ss_sp = &stacks[(size_t)t * stack_bytes];
                    ctx[(size_t)t].uc_stack.ss_size = stack_bytes;
                    ctx[(size_t)t].uc_link = &sched;
                    makecontext(&ctx[(size_t)t], entry, 0);
                }
                for (int live = n; live > 0;) {
                    live = 0;
                    for (int t = 0; t < n; t++) {
                        if (done[(size_t)t])
                            continue;
                        current = t;
                        threadIdx =
                            dim3((unsigned)t % block.x, (unsigned)t / block.x % block.y,
                                 (unsigned)t / (block.x * block.y));
                        swapcontext(&sched, &ctx[(size_t)t]);
                        live += !done[(size_t)t];
                    }
                }
            }
}
} /* namespace emu */

static inline void __syncthreads()
{
    swapcontext(&emu::ctx[(size_t)emu::current], &emu::sched);
}

static inline cudaError_t cudaGetDeviceCount(int *n)
{
    *n = 1;
    return cudaSuccess;
}
static inline cudaError_t cudaSetDevice(int d)
{
    return d == 0 ? cudaSuccess : cudaErrorInvalidValue;
}
static inline cudaError_t cudaGetLastError()
{
    return cudaSuccess;
}
static inline const char *cudaGetErrorString(cudaError_t e)
{
    return e == cudaSuccess
               ? "no error"
               : (e == cudaErrorMemoryAllocation ? "out of memory" : "emulated error");
}
/* EMU_FAIL_MALLOC=N makes the N-th cudaMalloc fail (error-path checks). */
static inline cudaError_t cudaMalloc(void **p, size_t n)
{
    static long calls = 0;
    const char *fail = getenv("EMU_FAIL_MALLOC");
    if (fail && ++calls == atol(fail)) {
        *p = NULL;
        return cudaErrorMemoryAllocation;
    }
    *p = malloc(n ? n : 1);
    if (*p && !getenv("EMU_NOFILL")) /* EMU_NOFILL: leave it for valgrind */
        memset(*p, 0xff, n);         /* garbage, as on a device */
    return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}
static inline cudaError_t cudaFree(void *p)
{
    free(p);
    return cudaSuccess;
}
static inline cudaError_t cudaMemset(void *p, int v, size_t n)
{
    memset(p, v, n);
    return cudaSuccess;
}
static inline cudaError_t cudaMemcpy(void *d, const void *s, size_t n, cudaMemcpyKind)
{
    memcpy(d, s, n);
    return cudaSuccess;
}
static inline cudaError_t cudaMemcpy2D(void *d, size_t dp, const void *s, size_t sp,
                                       size_t w, size_t h, cudaMemcpyKind)
{
    for (size_t r = 0; r < h; r++)
        memcpy((char *)d + r * dp, (const char *)s + r * sp, w);
    return cudaSuccess;
}
static inline cudaError_t cudaEventCreate(cudaEvent_t *e)
{
    *e = (cudaEvent_t)1;
    return cudaSuccess;
}
static inline cudaError_t cudaEventDestroy(cudaEvent_t)
{
    return cudaSuccess;
}
static inline cudaError_t cudaEventRecord(cudaEvent_t)
{
    return cudaSuccess;
}
static inline cudaError_t cudaEventSynchronize(cudaEvent_t)
{
    return cudaSuccess;
}
static inline cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t, cudaEvent_t)
{
    *ms = 1.0f;
    return cudaSuccess;
}

#endif /* CUDA_EMU_RUNTIME_H */
