#ifndef FD_BUILD_H
#define FD_BUILD_H
/* Comma-separated FD back ends compiled into this binary ("cpu" or "cpu,cuda"). */
const char *fd_build_backends(void);
#endif
