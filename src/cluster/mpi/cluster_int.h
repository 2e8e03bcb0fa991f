/* cluster_int: messages between rank 0 and the node agents, and what both
 * sides of the MPI back end share. Not part of the cluster interface.
 *
 * Every message is one MPI message of bytes with tag CL_TAG: a struct cl_hdr,
 * then a body that depends on the kind. Messages between two ranks arrive in
 * the order they were sent (MPI's non-overtaking rule, one tag). */
#ifndef SHOTQ_CLUSTER_INT_H
#define SHOTQ_CLUSTER_INT_H

#include <mpi.h>
#include <stdbool.h>
#include <stdint.h>

#include "cluster/cluster.h"
#include "exec/proto.h"

#define CL_TAG 7031           /* the one tag of shotq's messages */
#define CL_VERSION 1          /* bumped when messages change */
#define CL_HOST_MAX 64        /* host name bytes in HELLO */
#define CL_MSG_MAX (64 << 20) /* largest message (a HELLO of many devices) */
#define CL_PING_S 2.0         /* rank 0 says it is alive this often, at least */
#define CL_LOST_S 60.0        /* an agent gives rank 0 up after this long in silence */

enum cl_kind {
    /* agent -> rank 0 */
    CL_HELLO = 1, /* body: host[CL_HOST_MAX], then n x struct dev_info or an error text */
    CL_WMSG = 2,  /* worker's message: struct proto_msg + payload */
    CL_LOST = 3,  /* worker gone: arg = waitpid status, -1 if it never started */
    CL_MEM = 4,   /* GPU memory: dev = local index, body: uint64_t bytes free */
    CL_BYE = 5,   /* stopped: workers reaped, nothing more will come */
    /* rank 0 -> agent */
    CL_CONFIG = 10, /* body: mode byte, then plugin, config, run dir (NUL-terminated) */
    CL_START =
        11,      /* start worker: dev = device index, arg = slot; body: struct dev_info */
    CL_RUN = 12, /* body: struct proto_msg + payload, for the worker */
    CL_KILL = 13, /* kill the worker's process group */
    CL_STOP = 14, /* stop every worker, answer BYE */
    CL_PING = 15  /* nothing to do: rank 0 is alive (every CL_PING_S) */
};

struct cl_hdr {
    int32_t kind;    /* enum cl_kind */
    int32_t version; /* CL_VERSION */
    int64_t worker;  /* worker index (rank 0's numbering), -1 if none */
    int32_t dev;     /* HELLO: device count; START: device index; MEM: local index */
    int32_t arg;     /* START: slot; LOST: wait status; HELLO: 1 = error text follows */
    uint32_t size;   /* HELLO: sizeof(struct dev_info), to catch mixed builds */
    uint32_t pad;
};

/* Sends still in flight (MPI_Isend): their buffers live until completion. */
struct cl_sendq {
    MPI_Request *req; /* requests */
    void **buf;       /* their buffers (owned) */
    size_t n, alloc;
};

struct cluster {
    int rank, size;
    bool stopped;       /* rank 0: STOP sent to the agents */
    struct cl_sendq sq; /* sends in flight */
    char *rbuf;         /* receive buffer, rbuf_cap bytes */
    size_t rbuf_cap;
    /* rank 0 */
    int *dev_rank;               /* per device: rank of its node */
    size_t *dev_base;            /* per rank: index of its first device */
    const struct dev_list *devs; /* every device (the caller's, from cluster_gather) */
    double last_ping;            /* when rank 0 last sent CL_PING (monotonic seconds) */
};

/* Sends hdr + body (blen bytes) + extra (elen bytes) to rank dest without
 * blocking: the bytes are copied and the request kept until done. Returns 0
 * or -ENOMEM / -EMSGSIZE / -EIO. */
int cl_send(struct cluster *cl, int dest, const struct cl_hdr *h, const void *body,
            size_t blen, const void *extra, size_t elen);

/* Completes what sends it can (frees their buffers). Returns 0 or -EIO. */
int cl_progress(struct cluster *cl);

/* Waits until every send is complete. Returns 0 or -EIO. */
int cl_flush(struct cluster *cl);

/* Receives the next message from src (MPI_ANY_SOURCE for any) into cl->rbuf
 * if one is waiting (or, with wait, when one comes). Returns 1 with the
 * header in *h, the body at *body (*blen bytes) and the sender in *from; 0
 * when none is waiting; -EPROTO for a malformed message; -EIO. */
int cl_recv(struct cluster *cl, int src, bool wait, struct cl_hdr *h, const char **body,
            size_t *blen, int *from);

#endif
