/* A plugin that misbehaves on purpose (tests of the worker protocol): with
 * task args "junk" it writes junk bytes to every socket it can find, with
 * "forge" a well-formed DONE (status 0) for its own task and attempt, then
 * fails; "fork" leaves a forked child behind that reports whether it can
 * still reach a socket; "sleep" sleeps 30 s; "fd3" prints whether fd 3 is a socket.
 * Anything else succeeds. */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/proto.h"
#include "shotq/plugin.h"

static int h_init(const struct shotq_device_info *dev, const char *config, void **out)
{
    (void)dev;
    (void)config;
    *out = NULL;
    return 0;
}

static bool is_socket(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* Sends buf to every socket among fds 0..2047; returns how many took it. */
static int send_all(const void *buf, size_t len)
{
    int n = 0;
    for (int fd = 0; fd < 2048; fd++)
        if (is_socket(fd) && send(fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len)
            n++;
    return n;
}

static int h_run(void *state, const struct shotq_task_info *t)
{
    (void)state;
    if (!strcmp(t->args, "junk")) {
        static const char junk[] = "\x01garbage that is not a message";
        fprintf(stderr, "junk sent to %d socket(s)\n", send_all(junk, sizeof junk));
        sleep(30); /* a coordinator waiting on us would hang */
        return 0;
    }
    if (!strcmp(t->args, "forge")) {
        struct proto_msg m = {.type = PROTO_DONE,
                              .task = t->id,
                              .attempt = t->attempt,
                              .status = 0,
                              .seq = 2};
        fprintf(stderr, "forged DONE sent to %d socket(s)\n", send_all(&m, sizeof m));
        sleep(1);
        return 1;
    }
    if (!strcmp(t->args, "fork")) {
        pid_t p = fork();
        if (p == 0) {
            int n = 0;
            for (int fd = 0; fd < 2048; fd++)
                n += is_socket(fd);
            printf("child sockets: %d\n", n);
            fflush(stdout);
            _exit(0);
        }
        sleep(1);
        return 0;
    }
    if (!strcmp(t->args, "sleep"))
        sleep(30);
    if (!strcmp(t->args, "fd3"))
        printf("fd3 socket: %d\n", is_socket(3));
    return 0;
}

static const struct shotq_plugin hostile = {
    .abi_version = SHOTQ_PLUGIN_ABI_VERSION,
    .name = "hostile",
    .init = h_init,
    .run = h_run,
};

const struct shotq_plugin *shotq_plugin_entry(void)
{
    return &hostile;
}
