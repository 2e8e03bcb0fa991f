/* Build facts of the FD engine, for logs and `shotq model --version`. */
#include "fd/fd_build.h"

const char *fd_build_backends(void)
{
#ifdef SHOTQ_HAVE_CUDA
    return "cpu,cuda";
#else
    return "cpu";
#endif
}
