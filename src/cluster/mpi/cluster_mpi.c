/* cluster_mpi: MPI start-up, message transport, and rank 0's side of the
 * protocol (device gathering, the event loop's remote transport, shutdown).
 * See cluster.h and cluster_int.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster/mpi/cluster_int.h"

/* Writes a one-line MPI error (with MPI's text for code) into err. */
static void mpi_error(char *err, size_t errlen, const char *what, int code)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(code, msg, &len) != MPI_SUCCESS)
        snprintf(msg, sizeof msg, "error %d", code);
    snprintf(err, errlen, "MPI: %s failed: %s", what, msg);
}

bool cluster_has_mpi(void)
{
    return true;
}

int cluster_init(struct cluster **out, char *err, size_t errlen)
{
    *out = NULL;
    int n = cluster_env_size();
    if (n == 1)
        return 0; /* a plain run: MPI stays out of it */
    int inited = 0;
    if (MPI_Initialized(&inited) != MPI_SUCCESS || inited) {
        snprintf(err, errlen, "MPI: already initialised (internal error)");
        return -EIO;
    }
    int rc = MPI_Init(NULL, NULL);
    if (rc != MPI_SUCCESS) {
        mpi_error(err, errlen, "MPI_Init", rc);
        return -EIO;
    }
    struct cluster *cl = calloc(1, sizeof *cl);
    if (cl)
        cl->rbuf = malloc(cl->rbuf_cap = PROTO_MAX + 256);
    if (!cl || !cl->rbuf) {
        free(cl);
        snprintf(err, errlen, "out of memory");
        MPI_Abort(MPI_COMM_WORLD, 1);
        return -ENOMEM;
    }
    if ((rc = MPI_Comm_rank(MPI_COMM_WORLD, &cl->rank)) != MPI_SUCCESS ||
        (rc = MPI_Comm_size(MPI_COMM_WORLD, &cl->size)) != MPI_SUCCESS) {
        mpi_error(err, errlen, "MPI_Comm_rank/size", rc);
        free(cl->rbuf);
        free(cl);
        return -EIO;
    }
    *out = cl;
    return 0;
}

int cluster_rank(const struct cluster *cl)
{
    return cl ? cl->rank : 0;
}

int cluster_size(const struct cluster *cl)
{
    return cl ? cl->size : 1;
}

/* ---- transport ---- */

int cl_send(struct cluster *cl, int dest, const struct cl_hdr *h, const void *body,
            size_t blen, const void *extra, size_t elen)
{
    size_t len = sizeof *h + blen + elen;
    if (len > CL_MSG_MAX)
        return -EMSGSIZE;
    struct cl_sendq *q = &cl->sq;
    if (q->n == q->alloc) {
        size_t na = q->alloc ? 2 * q->alloc : 64;
        MPI_Request *nr = realloc(q->req, na * sizeof *nr);
        if (!nr)
            return -ENOMEM;
        q->req = nr;
        void **nb = realloc(q->buf, na * sizeof *nb);
        if (!nb)
            return -ENOMEM;
        q->buf = nb;
        q->alloc = na;
    }
    char *buf = malloc(len);
    if (!buf)
        return -ENOMEM;
    struct cl_hdr hh = *h;
    hh.version = CL_VERSION;
    memcpy(buf, &hh, sizeof hh);
    if (blen)
        memcpy(buf + sizeof hh, body, blen);
    if (elen)
        memcpy(buf + sizeof hh + blen, extra, elen);
    if (MPI_Isend(buf, (int)len, MPI_BYTE, dest, CL_TAG, MPI_COMM_WORLD, &q->req[q->n]) !=
        MPI_SUCCESS) {
        free(buf);
        return -EIO;
    }
    q->buf[q->n++] = buf;
    return 0;
}

int cl_progress(struct cluster *cl)
{
    struct cl_sendq *q = &cl->sq;
    for (size_t i = 0; i < q->n;) {
        int done = 0;
        if (MPI_Test(&q->req[i], &done, MPI_STATUS_IGNORE) != MPI_SUCCESS)
            return -EIO;
        if (!done) {
            i++;
            continue;
        }
        /* Swap-remove: completion order does not matter, delivery order is
         * MPI's. */
        free(q->buf[i]);
        q->n--;
        q->req[i] = q->req[q->n];
        q->buf[i] = q->buf[q->n];
    }
    return 0;
}

int cl_flush(struct cluster *cl)
{
    struct cl_sendq *q = &cl->sq;
    int rc = 0;
    if (q->n && MPI_Waitall((int)q->n, q->req, MPI_STATUSES_IGNORE) != MPI_SUCCESS)
        rc = -EIO;
    for (size_t i = 0; i < q->n; i++)
        free(q->buf[i]);
    q->n = 0;
    return rc;
}

int cl_recv(struct cluster *cl, int src, bool wait, struct cl_hdr *h, const char **body,
            size_t *blen, int *from)
{
    MPI_Status st;
    int flag = 0;
    if (wait) {
        if (MPI_Probe(src, CL_TAG, MPI_COMM_WORLD, &st) != MPI_SUCCESS)
            return -EIO;
    } else {
        if (MPI_Iprobe(src, CL_TAG, MPI_COMM_WORLD, &flag, &st) != MPI_SUCCESS)
            return -EIO;
        if (!flag)
            return 0;
    }
    int count = 0;
    if (MPI_Get_count(&st, MPI_BYTE, &count) != MPI_SUCCESS)
        return -EIO;
    if (count < 0 || (size_t)count > CL_MSG_MAX - 1)
        return -EPROTO;
    if ((size_t)count + 1 > cl->rbuf_cap) {
        /* Task messages fit the first buffer; a HELLO may not. */
        char *nb = realloc(cl->rbuf, (size_t)count + 1);
        if (!nb)
            return -ENOMEM;
        cl->rbuf = nb;
        cl->rbuf_cap = (size_t)count + 1;
    }
    if (MPI_Recv(cl->rbuf, count, MPI_BYTE, st.MPI_SOURCE, CL_TAG, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE) != MPI_SUCCESS)
        return -EIO;
    if ((size_t)count < sizeof *h)
        return -EPROTO;
    memcpy(h, cl->rbuf, sizeof *h);
    if (h->version != CL_VERSION)
        return -EPROTO;
    cl->rbuf[count] = '\0'; /* text bodies end with a NUL */
    *body = cl->rbuf + sizeof *h;
    *blen = (size_t)count - sizeof *h;
    *from = st.MPI_SOURCE;
    return 1;
}

/* ---- rank 0: devices ---- */

/* This host's name, truncated to CL_HOST_MAX - 1 bytes. */
static void host_name(char host[CL_HOST_MAX])
{
    if (gethostname(host, CL_HOST_MAX) < 0)
        snprintf(host, CL_HOST_MAX, "localhost");
    host[CL_HOST_MAX - 1] = '\0';
}

int cluster_gather(struct cluster *cl, struct dev_list *devs, char *err, size_t errlen)
{
    int nr = cl->size;
    char(*hosts)[CL_HOST_MAX] = calloc((size_t)nr, sizeof *hosts);
    cl->dev_base = calloc((size_t)nr + 1, sizeof *cl->dev_base);
    if (!hosts || !cl->dev_base) {
        free(hosts);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    host_name(hosts[0]);
    /* Rank order, whatever order the HELLOs come in: keep each until its turn
     * by receiving from one rank at a time. */
    int rc = 0;
    err[0] = '\0';
    for (int k = 1; k < nr; k++) {
        struct cl_hdr h;
        const char *body;
        size_t blen;
        int from;
        int got = cl_recv(cl, k, true, &h, &body, &blen, &from);
        cl->dev_base[k] = devs->n;
        if (got < 0 || h.kind != CL_HELLO || blen < CL_HOST_MAX) {
            snprintf(err, errlen, "rank %d: no or malformed device report (%s)", k,
                     got < 0 ? strerror(-got) : "unexpected message");
            rc = -EIO;
            break;
        }
        memcpy(hosts[k], body, CL_HOST_MAX);
        hosts[k][CL_HOST_MAX - 1] = '\0';
        body += CL_HOST_MAX;
        blen -= CL_HOST_MAX;
        if (h.arg == 1) {
            /* Keep the first error; still collect the others' HELLOs. */
            if (!rc)
                snprintf(err, errlen, "rank %d (%s): %.*s", k, hosts[k], (int)blen, body);
            rc = -EINVAL;
            continue;
        }
        if (h.size != sizeof(struct dev_info) || h.dev < 0 ||
            blen != (size_t)h.dev * sizeof(struct dev_info)) {
            if (!rc)
                snprintf(
                    err, errlen,
                    "rank %d (%s): device report of another shotq build (expected the "
                    "same shotq binary on every node)",
                    k, hosts[k]);
            rc = -EINVAL;
            continue;
        }
        if (rc || h.dev == 0)
            continue;
        struct dev_info *nv = realloc(devs->v, (devs->n + (size_t)h.dev) * sizeof *nv);
        if (!nv) {
            snprintf(err, errlen, "out of memory");
            rc = -ENOMEM;
            continue;
        }
        devs->v = nv;
        memcpy(devs->v + devs->n, body, blen);
        devs->n += (size_t)h.dev;
    }
    cl->dev_base[nr] = devs->n;
    if (!rc) {
        cl->devs = devs;
        cl->dev_rank = calloc(devs->n ? devs->n : 1, sizeof *cl->dev_rank);
        if (!cl->dev_rank) {
            snprintf(err, errlen, "out of memory");
            rc = -ENOMEM;
        }
    }
    for (int k = 0; k < nr && !rc; k++) {
        /* The host name when it is this rank's alone, else HOST:RANK. */
        bool shared = false;
        for (int j = 0; j < nr && !shared; j++)
            shared = j != k && !strcmp(hosts[j], hosts[k]);
        char node[sizeof devs->v[0].node];
        if (shared)
            snprintf(node, sizeof node, "%.50s:%d", hosts[k], k);
        else
            snprintf(node, sizeof node, "%s", hosts[k]);
        for (size_t d = cl->dev_base[k]; d < cl->dev_base[k + 1]; d++) {
            snprintf(devs->v[d].node, sizeof devs->v[d].node, "%s", node);
            cl->dev_rank[d] = k;
        }
    }
    free(hosts);
    return rc;
}

/* ---- rank 0: the event loop's transport ---- */

/* The event loop's transport (struct runner_remote in runner.h states the
 * contracts): START, RUN and KILL messages to agents; next() receives what
 * they send. */
static int remote_start(void *ctx, int rank, size_t worker, size_t dev, int slot);
static int remote_send(void *ctx, int rank, size_t worker, const struct proto_msg *m,
                       const void *payload);
static int remote_kill(void *ctx, int rank, size_t worker);
static int remote_next(void *ctx, struct runner_event *ev);

int cluster_begin(struct cluster *cl, const struct cluster_job *job,
                  struct runner_remote *out)
{
    char abs[PATH_MAX + 256];
    if (job->run_dir[0] == '/') {
        snprintf(abs, sizeof abs, "%s", job->run_dir);
    } else {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd))
            return -errno;
        if ((size_t)snprintf(abs, sizeof abs, "%s/%s", cwd, job->run_dir) >= sizeof abs)
            return -ENAMETOOLONG;
    }
    const char *plugin = job->plugin ? job->plugin : "";
    const char *config = job->config ? job->config : "";
    size_t lp = strlen(plugin) + 1, lc = strlen(config) + 1, lr = strlen(abs) + 1;
    char *body = malloc(1 + lp + lc + lr);
    if (!body)
        return -ENOMEM;
    body[0] = job->plugin_mode ? 'p' : 'c';
    memcpy(body + 1, plugin, lp);
    memcpy(body + 1 + lp, config, lc);
    memcpy(body + 1 + lp + lc, abs, lr);
    int rc = 0;
    for (int k = 1; k < cl->size && !rc; k++) {
        struct cl_hdr h = {.kind = CL_CONFIG, .worker = -1};
        rc = cl_send(cl, k, &h, body, 1 + lp + lc + lr, NULL, 0);
    }
    free(body);
    if (rc)
        return rc;
    *out = (struct runner_remote){.ctx = cl,
                                  .dev_rank = cl->dev_rank,
                                  .start = remote_start,
                                  .send = remote_send,
                                  .kill = remote_kill,
                                  .next = remote_next};
    return 0;
}

static int remote_start(void *ctx, int rank, size_t worker, size_t dev, int slot)
{
    struct cluster *cl = ctx;
    if (!cl->devs || dev >= cl->devs->n)
        return -EINVAL;
    struct cl_hdr h = {
        .kind = CL_START, .worker = (int64_t)worker, .dev = (int32_t)dev, .arg = slot};
    return cl_send(cl, rank, &h, &cl->devs->v[dev], sizeof(struct dev_info), NULL, 0);
}

static int remote_send(void *ctx, int rank, size_t worker, const struct proto_msg *m,
                       const void *payload)
{
    struct cluster *cl = ctx;
    struct cl_hdr h = {.kind = CL_RUN, .worker = (int64_t)worker};
    return cl_send(cl, rank, &h, m, sizeof *m, payload, m->len);
}

static int remote_kill(void *ctx, int rank, size_t worker)
{
    struct cluster *cl = ctx;
    struct cl_hdr h = {.kind = CL_KILL, .worker = (int64_t)worker};
    return cl_send(cl, rank, &h, NULL, 0, NULL, 0);
}

/* Monotonic seconds. */
static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int remote_next(void *ctx, struct runner_event *ev)
{
    struct cluster *cl = ctx;
    int rc = cl_progress(cl);
    if (rc)
        return rc;
    double t = mono_s();
    if (t - cl->last_ping >= CL_PING_S) {
        /* Agents give us up after CL_LOST_S of silence: tasks may run for
         * hours without a message, so say we are alive. */
        cl->last_ping = t;
        for (int k = 1; k < cl->size && !rc; k++) {
            struct cl_hdr h = {.kind = CL_PING, .worker = -1};
            rc = cl_send(cl, k, &h, NULL, 0, NULL, 0);
        }
        if (rc)
            return rc;
    }
    for (;;) {
        struct cl_hdr h;
        const char *body;
        size_t blen;
        int from;
        rc = cl_recv(cl, MPI_ANY_SOURCE, false, &h, &body, &blen, &from);
        if (rc <= 0)
            return rc;
        memset(ev, 0, sizeof *ev);
        ev->worker = h.worker < 0 ? (size_t)-1 : (size_t)h.worker;
        switch (h.kind) {
        case CL_WMSG:
            if (blen < sizeof ev->m)
                return -EPROTO;
            memcpy(&ev->m, body, sizeof ev->m);
            if (ev->m.len != blen - sizeof ev->m)
                return -EPROTO;
            ev->kind = RUNNER_EV_MSG;
            ev->payload = body + sizeof ev->m;
            return 1;
        case CL_LOST:
            ev->kind = RUNNER_EV_LOST;
            ev->wstatus = h.arg;
            return 1;
        case CL_MEM:
            if (blen != sizeof ev->mem_free || h.dev < 0 ||
                cl->dev_base[from] + (size_t)h.dev >= cl->dev_base[from + 1])
                return -EPROTO;
            ev->kind = RUNNER_EV_MEM;
            ev->dev = cl->dev_base[from] + (size_t)h.dev;
            memcpy(&ev->mem_free, body, sizeof ev->mem_free);
            return 1;
        default:
            continue; /* nothing else is expected now: skip it */
        }
    }
}

/* ---- the end ---- */

/* Rank 0: tells every agent to stop, then receives (and drops) whatever they
 * still send until each has said BYE. Returns 0 or -EIO. */
static int stop_agents(struct cluster *cl)
{
    int rc = 0;
    for (int k = 1; k < cl->size && !rc; k++) {
        struct cl_hdr h = {.kind = CL_STOP, .worker = -1};
        rc = cl_send(cl, k, &h, NULL, 0, NULL, 0);
    }
    cl->stopped = true;
    for (int byes = 0; byes < cl->size - 1 && !rc;) {
        struct cl_hdr h;
        const char *body;
        size_t blen;
        int from;
        int got = cl_recv(cl, MPI_ANY_SOURCE, true, &h, &body, &blen, &from);
        if (got < 0 && got != -EPROTO)
            rc = got;
        else if (got == 1 && h.kind == CL_BYE)
            byes++;
    }
    return rc;
}

int cluster_fini(struct cluster *cl)
{
    if (!cl)
        return 0;
    int rc = 0;
    if (cl->rank == 0 && !cl->stopped)
        rc = stop_agents(cl);
    int rc2 = cl_flush(cl);
    if (!rc)
        rc = rc2;
    if (MPI_Finalize() != MPI_SUCCESS && !rc)
        rc = -EIO;
    free(cl->sq.req);
    free(cl->sq.buf);
    free(cl->rbuf);
    free(cl->dev_rank);
    free(cl->dev_base);
    free(cl);
    return rc;
}
