/* simrun: discrete-event simulation around the policy core (see simrun.h). */
#include "sched/simrun.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ev {
    double t;      /* completion time */
    double start;  /* start of the attempt */
    uint32_t task; /* task index */
    uint32_t dev;  /* device of the attempt */
};

/* Min-heap of completion events, ties broken by task index so that the
 * simulation is deterministic. */
struct evheap {
    struct ev *v;
    size_t n, alloc;
};

static bool ev_before(const struct ev *a, const struct ev *b)
{
    return a->t < b->t || (a->t == b->t && a->task < b->task);
}

/* Pushes e, growing the heap when full. Returns 0 or -ENOMEM. */
static int ev_push(struct evheap *h, struct ev e)
{
    if (h->n == h->alloc) {
        size_t na = h->alloc ? 2 * h->alloc : 64;
        struct ev *v = realloc(h->v, na * sizeof *v);
        if (!v)
            return -ENOMEM;
        h->v = v;
        h->alloc = na;
    }
    size_t i = h->n++;
    h->v[i] = e;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!ev_before(&h->v[i], &h->v[p]))
            break;
        struct ev tmp = h->v[i];
        h->v[i] = h->v[p];
        h->v[p] = tmp;
        i = p;
    }
    return 0;
}

static struct ev ev_pop(struct evheap *h)
{
    struct ev top = h->v[0];
    h->v[0] = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && ev_before(&h->v[l], &h->v[m]))
            m = l;
        if (r < h->n && ev_before(&h->v[r], &h->v[m]))
            m = r;
        if (m == i)
            break;
        struct ev tmp = h->v[i];
        h->v[i] = h->v[m];
        h->v[m] = tmp;
        i = m;
    }
    return top;
}

/* Seconds device d needs for work units started at t0 with base speed sp,
 * following the model's slowdowns of d. */
static double work_time(const struct simrun_model *m, size_t d, double sp, double t0,
                        double work)
{
    if (!m || m->nslow == 0)
        return work / sp;
    double t = t0, f = 1;
    for (size_t k = 0; k < m->nslow; k++)
        if (m->slow[k].dev == d && m->slow[k].at_s <= t0)
            f *= m->slow[k].factor;
    for (;;) {
        double next = -1; /* next change of d after t */
        for (size_t k = 0; k < m->nslow; k++)
            if (m->slow[k].dev == d && m->slow[k].at_s > t &&
                (next < 0 || m->slow[k].at_s < next))
                next = m->slow[k].at_s;
        double rate = sp * f;
        if (next < 0 || t + work / rate <= next)
            return t + work / rate - t0;
        work -= (next - t) * rate;
        t = next;
        for (size_t k = 0; k < m->nslow; k++)
            if (m->slow[k].dev == d && m->slow[k].at_s == next)
                f *= m->slow[k].factor;
    }
}

/* Counts a started task on its devices (load: tasks running per device).
 * Returns their summed speed; *k = the most tasks now on one of them. */
static double take_devices(const struct simrun_dev *devs, int *load,
                           const struct sched_assign *a, int *k)
{
    double sp = 0;
    *k = 0;
    for (size_t j = 0; j < a->ndevs; j++) {
        int kj = ++load[a->devs[j]];
        *k = kj > *k ? kj : *k;
        sp += devs[a->devs[j]].speed;
    }
    return sp;
}

/* The attempt of event e ended at now (backup: a backup copy, never wide):
 * frees its devices, adds their busy time and counts, records the task. */
static void release_devices(const struct sched *s, const struct ev *e, bool backup,
                            double now, int *load, struct simrun_result *out)
{
    size_t g[SCHED_MAX_WIDTH];
    size_t ng = 1;
    if (backup)
        g[0] = e->dev;
    else
        ng = sched_task_devices(s, e->task, g, SCHED_MAX_WIDTH);
    for (size_t j = 0; j < ng; j++) {
        load[g[j]]--;
        out->busy_s[g[j]] += now - e->start;
        out->tasks_per_dev[g[j]]++;
    }
    if (out->tasks) {
        struct simrun_task *rt = &out->tasks[e->task];
        *rt = (struct simrun_task){e->start, now, ng, {0}};
        memcpy(rt->devs, g, ng * sizeof g[0]);
    }
}

void simrun_result_free(struct simrun_result *r)
{
    free(r->busy_s);
    free(r->tasks_per_dev);
    free(r->tasks);
    r->busy_s = NULL;
    r->tasks_per_dev = NULL;
    r->tasks = NULL;
}

int simrun(const struct sched_params *p, const struct simrun_dev *devs, size_t ndev,
           const double *weights, const uint64_t *mem, size_t ntasks,
           double remote_latency_s, const struct simrun_model *model,
           struct simrun_result *out)
{
    memset(out, 0, sizeof *out);
    if (ndev == 0)
        return -EINVAL;
    int rc = -ENOMEM;
    struct sched *s = sched_create(p);
    struct evheap h = {.v = malloc((ntasks ? ntasks : 1) * sizeof *h.v),
                       .alloc = ntasks ? ntasks : 1};
    out->busy_s = calloc(ndev, sizeof *out->busy_s);
    out->tasks_per_dev = calloc(ndev, sizeof *out->tasks_per_dev);
    if (model && model->record)
        out->tasks = calloc(ntasks ? ntasks : 1, sizeof *out->tasks);
    if (!s || !h.v || !out->busy_s || !out->tasks_per_dev ||
        (model && model->record && !out->tasks))
        goto out_free;
    double sumw = 0, maxw = 0, sums = 0, maxs = 0;
    for (size_t d = 0; d < ndev; d++) {
        long r = sched_add_device(s, devs[d].speed, devs[d].mem_total, devs[d].node);
        if (r < 0) {
            rc = (int)r;
            goto out_free;
        }
        sums += devs[d].speed * (p->policy == SCHED_MEMFREE ? 1 : p->slots);
        if (devs[d].speed > maxs)
            maxs = devs[d].speed;
    }
    for (size_t i = 0; i < ntasks; i++) {
        double w = weights ? weights[i] : 1.0;
        long r = sched_add_task(s, w, mem ? mem[i] : 0);
        if (r < 0) {
            rc = (int)r;
            goto out_free;
        }
        double c = model && model->cost ? model->cost[i] : w;
        if (model && model->width &&
            (rc = sched_set_task_width(s, (size_t)r, model->width[i])))
            goto out_free;
        if (!(c > 0)) {
            rc = -EINVAL;
            goto out_free;
        }
        sumw += c;
        /* A group of k runs at most k x the fastest speed. */
        double cw = model && model->width ? c / model->width[i] : c;
        if (cw > maxw)
            maxw = cw;
    }
    rc = sched_start(s);
    if (rc == -E2BIG) {
        /* Tasks no device can hold never run; the rest is still simulated. */
        rc = 0;
    } else if (rc) {
        goto out_free;
    }
    int *load = calloc(ndev, sizeof *load); /* tasks running per device */
    if (!load || ntasks > UINT32_MAX || ndev > UINT32_MAX) {
        free(load);
        rc = load ? -EINVAL : -ENOMEM;
        goto out_free;
    }
    double now = 0;
    bool waking = false; /* a wake-up is queued */
    for (;;) {
        struct sched_assign a;
        while (sched_pick(s, now, &a)) {
            const struct simrun_dev *v = &devs[a.dev];
            int k;
            double sp = take_devices(devs, load, &a, &k);
            double c = model && model->cost ? model->cost[a.task]
                       : weights            ? weights[a.task]
                                            : 1.0;
            double lat = v->node != 0 ? remote_latency_s : 0;
            double dur = lat + work_time(model, a.dev, sp, now + lat, c) * k;
            if (ev_push(&h,
                        (struct ev){now + dur, now, (uint32_t)a.task, (uint32_t)a.dev})) {
                free(load);
                rc = -ENOMEM;
                goto out_free;
            }
        }
        if (h.n == 0)
            break;
        double look = waking ? INFINITY : sched_next_look(s, now);
        if (isfinite(look)) {
            /* The live loop looks again between events too (its poll
             * period): a straggler may become worth a copy meanwhile. */
            if (ev_push(&h, (struct ev){look, now, UINT32_MAX, 0})) {
                free(load);
                rc = -ENOMEM;
                goto out_free;
            }
            waking = true;
        }
        struct ev e = ev_pop(&h);
        if (e.task == UINT32_MAX) {
            now = e.t;
            waking = false;
            continue;
        }
        struct sched_task_stats ts;
        sched_task_stats(s, e.task, &ts);
        if (ts.state != SCHED_RUNNING ||
            (ts.dev != (long)e.dev && ts.backup_dev != (long)e.dev))
            continue; /* a killed attempt: its device was freed already */
        now = e.t;
        release_devices(s, &e, ts.backup_dev == (long)e.dev, now, load, out);
        out->tasks_done++;
        if (now > out->makespan_s)
            out->makespan_s = now;
        long kill;
        double other_start =
            ts.backup_dev == (long)e.dev ? ts.start_s : ts.backup_start_s;
        sched_finish_on(s, e.task, e.dev, now, true, &kill);
        if (kill >= 0) {
            /* The loser was busy from its start until now. */
            load[kill]--;
            out->busy_s[kill] += now - other_start;
        }
    }
    free(load);
    out->tasks_unrun = ntasks - out->tasks_done;
    out->sched_lower_bound_s = sched_lower_bound(s);
    out->lower_bound_s = sums > 0 ? sumw / sums : 0;
    if (maxs > 0 && maxw / maxs > out->lower_bound_s)
        out->lower_bound_s = maxw / maxs;
    rc = 0;
out_free:
    if (rc)
        simrun_result_free(out);
    free(h.v);
    sched_destroy(s);
    return rc;
}
