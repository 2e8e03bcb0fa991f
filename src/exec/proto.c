/* proto: framing of coordinator <-> worker messages (see proto.h). */
#include "exec/proto.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <sys/uio.h>

int proto_send(int fd, const struct proto_msg *m, const void *payload)
{
    if (sizeof *m + m->len + 1 > PROTO_MAX)
        return -EMSGSIZE;
    struct iovec iov[2] = {{(void *)m, sizeof *m}, {(void *)payload, m->len}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = m->len ? 2 : 1};
    for (;;) {
        ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);
        if (n >= 0)
            return 0;
        if (errno != EINTR)
            return -errno;
    }
}

uint32_t proto_token(void)
{
    uint32_t t = 0;
    if (getrandom(&t, sizeof t, GRND_NONBLOCK) != (ssize_t)sizeof t) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        t = (uint32_t)ts.tv_nsec * 2654435761u ^ (uint32_t)getpid();
    }
    return t ? t : 1;
}

int proto_recv(int fd, void *buf, struct proto_msg *m, char **payload)
{
    ssize_t n;
    do {
        n = recv(fd, buf, PROTO_MAX - 1, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    if (n == 0)
        return 0;
    if ((size_t)n < sizeof *m)
        return -EPROTO;
    memcpy(m, buf, sizeof *m);
    if (sizeof *m + m->len != (size_t)n)
        return -EPROTO;
    char *p = (char *)buf + sizeof *m;
    p[m->len] = '\0';
    *payload = p;
    return 1;
}
