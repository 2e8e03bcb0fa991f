/* proto: messages between the coordinator and a worker, one per
 * SOCK_SEQPACKET datagram (boundaries kept by the socket). */
#ifndef SHOTQ_PROTO_H
#define SHOTQ_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROTO_MAX 65536 /* largest message, bytes */

enum proto_type {
    PROTO_RUN = 1,       /* coordinator -> worker: run a task (payload: args) */
    PROTO_READY = 10,    /* worker -> coordinator: init done, ready for tasks */
    PROTO_INITFAIL = 11, /* worker -> coordinator: init failed (payload: message) */
    PROTO_DONE = 12,     /* worker -> coordinator: a task ended */
    PROTO_PROGRESS = 13  /* worker -> coordinator: plugin progress */
};

/* Task ended statuses (proto_msg.status when not an exit code). */
#define PROTO_ST_SIGNAL 0x10000 /* status = PROTO_ST_SIGNAL | signal number */
#define PROTO_ST_EXECFAIL -2    /* the command could not be started (err = errno) */

/* RUN flag (command mode): the payload begins with NAME=VALUE words for the
 * task's environment, ended by an empty word, then the command words. A
 * multi-device task's CUDA_VISIBLE_DEVICES, SHOTQ_DEVICES_ASSIGNED,
 * OMP_NUM_THREADS and SHOTQ_CPU_AFFINITY (cores "0,1,5": the worker sets the
 * task's affinity to them) travel this way. */
#define PROTO_RUN_ENV 1u

struct proto_msg {
    int32_t type;    /* enum proto_type */
    int32_t attempt; /* attempt number */
    int64_t task;    /* task id */
    double weight;   /* RUN: weight; DONE: wall seconds; PROGRESS: fraction */
    int32_t status;  /* DONE: exit code, PROTO_ST_SIGNAL|sig or PROTO_ST_EXECFAIL */
    int32_t err;     /* DONE: errno of an exec failure */
    uint32_t len;    /* payload bytes that follow */
    uint32_t flags;  /* DONE: 1 = stdout log kept, 2 = stderr log kept;
                        RUN: PROTO_RUN_ENV */
    uint32_t token;  /* worker -> coordinator: the worker's random token */
    uint32_t seq;    /* worker -> coordinator: 1, 2, 3 ... per worker process */
};

/* A random token for a new worker (never 0). */
uint32_t proto_token(void);

/* Sends one message with its payload (len bytes). Retries EINTR.
 * Returns 0 or -errno (-EMSGSIZE if too large). */
int proto_send(int fd, const struct proto_msg *m, const void *payload);

/* Receives one message into buf (PROTO_MAX bytes): *m and a pointer to the
 * NUL-terminated payload. Returns 1 on a message, 0 on end of stream, -EAGAIN
 * when nothing is waiting (non-blocking fd), or -errno. */
int proto_recv(int fd, void *buf, struct proto_msg *m, char **payload);

#endif
