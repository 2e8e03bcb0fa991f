/* sched: the policy core (see sched.h).
 *
 * Data structures, chosen so that `shotq simulate` handles 10^4 devices and
 * 10^6 tasks in seconds:
 *  - order[]: pending tasks in dispatch order (LPT when weights differ, else
 *    input order); a head index skips entries that are no longer pending.
 *  - retry[]: FIFO of failed tasks waiting for another attempt.
 *  - a max-heap of devices with free capacity, keyed by speed estimate, so a
 *    pick takes the fastest free device in O(log n).
 *  - running[]: tasks running now (for the tail guard), swap-removed.
 */
#include "sched/sched.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SCAN_WINDOW 256 /* pending entries searched for one that fits memory */
#define RCOST_RING 1024 /* measured cost ratios kept for speculation */

#define SPEED_RING 16 /* observations per device kept for its robust speed */

struct sdev {
    double prior;          /* speed prior */
    double est;            /* learned speed (weight per second) */
    double sw, sdur;       /* decayed sums of observed weights and durations */
    double med;            /* median of w/dur over its done tasks (0 = unset) */
    int nobs;              /* successful observations so far */
    double last[SPEED_RING]; /* its latest observations of w/dur (ring) */
    int cap;               /* tasks it may hold now */
    int running;           /* tasks it holds now */
    uint64_t mem_total;    /* bytes, 0 = unlimited */
    uint64_t mem_foreign;  /* bytes used by others */
    uint64_t mem_reserved; /* bytes reserved by running tasks */
    int consec_fail;       /* consecutive failed attempts */
    bool quarantined;      /* resting after too many failures (back-off) */
    bool probing;          /* released from quarantine, not yet proven well */
    bool retired;          /* failed again after the longest back-off: for good */
    int quarantines;       /* quarantines since its last success */
    double probe_at;       /* quarantined: when it may take a task again */
    double rest;           /* length of its latest quarantine, seconds */
    size_t recent[8];      /* tasks of its failures since its last quarantine or */
    int nrecent;           /* success (ring), and how many */
    bool blocked;          /* no pending task fits its memory right now */
    bool busy;             /* used by others (--gpu-busy): no new task */
    bool reserved;         /* held for the waiting wide head task (backfill only) */
    int node;              /* node index */
    double busy_s;         /* summed task time */
    int64_t done;          /* successful tasks */
    int64_t failed;        /* failed attempts */
    size_t cursor;         /* static policy: next order position (d, d+n, ...) */
    long heap_pos;         /* position in the free heap, -1 if absent */
};

struct stask {
    double weight;           /* relative cost */
    uint64_t mem;            /* bytes needed, 0 = none */
    uint64_t rmem, brmem;    /* bytes reserved by the attempt and its backup */
    double start;            /* start of the last attempt */
    double end;              /* end of the last attempt, -1 while running */
    double bstart;           /* start of the backup attempt */
    size_t run_pos;          /* index in running[] while running */
    int32_t dev;             /* device of the last attempt, -1 if none */
    int32_t failed_dev;      /* device of the last failed attempt, -1 if none */
    int32_t bdev;            /* device of a running backup attempt, -1 if none */
    unsigned char state;     /* enum sched_task_state */
    unsigned short attempts; /* attempts started */
    unsigned short charged;  /* failures counted against its retries */
    unsigned short width;    /* devices it runs on at once (gpus=N), >= 1 */
    uint32_t goff;           /* width > 1: its group in gdev[goff .. goff + width) */
};

struct sched {
    struct sched_params p; /* parameters */
    bool started;          /* tables frozen */
    bool draining;         /* no more dispatch */
    struct sdev *dev;      /* devices */
    size_t ndev, dev_alloc;
    struct stask *task; /* tasks */
    size_t ntask, task_alloc;
    size_t *order; /* dispatch order */
    size_t norder; /* entries in order[] */
    size_t head;   /* first maybe-pending position in order */
    size_t *retry; /* retry FIFO (ring buffer) */
    size_t retry_head, retry_len, retry_alloc;
    size_t *running; /* running task indices */
    size_t nrunning;
    size_t *heap; /* free devices, max-heap by speed */
    size_t nheap;
    size_t npending; /* tasks in state PENDING (order + retry) */
    size_t ndone, nfailed;
    size_t alive;           /* devices not quarantined */
    size_t retired;         /* devices quarantined for good */
    double next_probe;      /* earliest probe_at of a quarantined device */
    size_t failed_attempts; /* for --halt */
    bool halted;            /* a --halt rule stopped dispatch */
    size_t nblocked;        /* devices parked because nothing fits */
    double pending_weight;  /* summed weight of pending tasks */
    double max_speed;       /* fastest estimate among alive devices */
    double prior_scale;     /* learned speed / prior of the first observation */
    double mean_weight;     /* mean task weight */
    double *rcost;          /* ring of recent measured cost / weight ratios */
    size_t nrcost, rcost_next;
    double *rsorted;        /* the ring sorted (cost_summary) ... */
    double *rsuffix;        /* ... its suffix sums (nrcost + 1) ... */
    double rmax, rcv;       /* ... largest and coefficient of variation */
    bool rdirty;            /* the ring changed since */
    double spec_next;       /* no look for stragglers before (one found none) */
    bool weighted;          /* weights differ: LPT order */
    bool multi_node;        /* devices on more than one node */
    uint64_t default_mem;   /* bytes assumed for tasks without mem (--task-mem auto) */
    size_t *gdev;           /* groups of wide tasks (gdev[goff] = the task's dev) */
    size_t ngdev;           /* entries in gdev */
    bool wide;              /* some task has width > 1 */
    size_t *bynode;         /* device indices ordered by node, then index */
    size_t *node_end;       /* per node (in bynode order): end of its run in bynode */
    size_t nnodes;          /* distinct nodes */
    double *free_at;        /* scratch: when each device can take a task (groups) */
    size_t *scratch;        /* scratch: device indices (groups) */
    size_t *resv;           /* devices reserved for the wide head task */
    size_t nresv;           /* their number */
    double resv_until;      /* when the wide head task is expected to start */
};

/* Wide tasks (see the section at the end). */
static size_t task_dev(const struct sched *s, const struct stask *t, size_t k);
static double task_speed(const struct sched *s, const struct stask *t);
static void learn_group(struct sched *s, const struct stask *t, double dur);
static bool pick_wide(struct sched *s, double now, struct sched_assign *a);

struct sched_params sched_params_default(void)
{
    struct sched_params p = {
        .policy = SCHED_DYNAMIC,
        .slots = 1,
        .max_retries = 2,
        .quarantine_after = 3,
        .ewma_alpha = 0.3,
        .tail_guard = true,
        .speculate = false,
        .speculate_margin = 1.25,
        .memfree_default_mem = 1ull << 30,
        .backoff_base_s = SCHED_BACKOFF_BASE_S,
        .backoff_cap_s = SCHED_BACKOFF_CAP_S,
    };
    return p;
}

struct sched *sched_create(const struct sched_params *p)
{
    if (!p || p->slots < 1 || p->max_retries < 0 || p->quarantine_after < 1 ||
        !(p->ewma_alpha > 0 && p->ewma_alpha <= 1) || !(p->backoff_base_s >= 0) ||
        !(p->backoff_cap_s >= p->backoff_base_s) || p->halt_fail_count < 0 ||
        !(p->halt_fail_pct >= 0 && p->halt_fail_pct <= 100) || !(p->speculate_margin >= 1))
        return NULL;
    struct sched *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->p = *p;
    return s;
}

void sched_destroy(struct sched *s)
{
    if (!s)
        return;
    free(s->dev);
    free(s->task);
    free(s->order);
    free(s->retry);
    free(s->running);
    free(s->heap);
    free(s->rcost);
    free(s->rsorted);
    free(s->rsuffix);
    free(s->gdev);
    free(s->bynode);
    free(s->node_end);
    free(s->free_at);
    free(s->scratch);
    free(s->resv);
    free(s);
}

/* Grows an array to hold at least n elements. Returns 0 or -ENOMEM. */
static int grow(void **arr, size_t *alloc, size_t n, size_t elem)
{
    if (n <= *alloc)
        return 0;
    size_t na = *alloc ? *alloc * 2 : 64;
    while (na < n)
        na *= 2;
    void *p = realloc(*arr, na * elem);
    if (!p)
        return -ENOMEM;
    *arr = p;
    *alloc = na;
    return 0;
}

long sched_add_device(struct sched *s, double speed_prior, uint64_t mem_total, int node)
{
    if (s->started)
        return -EBUSY;
    if (!(speed_prior > 0) || !isfinite(speed_prior))
        return -EINVAL;
    if (grow((void **)&s->dev, &s->dev_alloc, s->ndev + 1, sizeof *s->dev))
        return -ENOMEM;
    struct sdev *d = &s->dev[s->ndev];
    memset(d, 0, sizeof *d);
    d->prior = d->est = speed_prior;
    d->cap = s->p.slots;
    d->mem_total = mem_total;
    d->node = node;
    d->heap_pos = -1;
    return (long)s->ndev++;
}

long sched_add_task(struct sched *s, double weight, uint64_t mem)
{
    if (s->started)
        return -EBUSY;
    if (!(weight > 0) || !isfinite(weight))
        return -EINVAL;
    if (grow((void **)&s->task, &s->task_alloc, s->ntask + 1, sizeof *s->task))
        return -ENOMEM;
    struct stask *t = &s->task[s->ntask];
    memset(t, 0, sizeof *t);
    t->weight = weight;
    t->mem = mem;
    t->dev = t->failed_dev = t->bdev = -1;
    t->end = -1;
    t->state = SCHED_PENDING;
    t->width = 1;
    return (long)s->ntask++;
}

int sched_set_task_width(struct sched *s, size_t task, int width)
{
    if (s->started)
        return -EBUSY;
    if (task >= s->ntask || width < 1 || width > SCHED_MAX_WIDTH)
        return -EINVAL;
    s->task[task].width = (unsigned short)width;
    s->wide |= width > 1;
    return 0;
}

int sched_restore_done(struct sched *s, size_t task)
{
    if (s->started || task >= s->ntask)
        return -EINVAL;
    s->task[task].state = SCHED_DONE;
    return 0;
}

/* ---- device heap (max by speed estimate, ties by lower index) ---- */

static bool dev_before(const struct sched *s, size_t a, size_t b)
{
    if (s->dev[a].est != s->dev[b].est)
        return s->dev[a].est > s->dev[b].est;
    return a < b;
}

static void heap_swap(struct sched *s, size_t i, size_t j)
{
    size_t t = s->heap[i];
    s->heap[i] = s->heap[j];
    s->heap[j] = t;
    s->dev[s->heap[i]].heap_pos = (long)i;
    s->dev[s->heap[j]].heap_pos = (long)j;
}

static void heap_up(struct sched *s, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!dev_before(s, s->heap[i], s->heap[parent]))
            break;
        heap_swap(s, i, parent);
        i = parent;
    }
}

static void heap_down(struct sched *s, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, best = i;
        if (l < s->nheap && dev_before(s, s->heap[l], s->heap[best]))
            best = l;
        if (r < s->nheap && dev_before(s, s->heap[r], s->heap[best]))
            best = r;
        if (best == i)
            break;
        heap_swap(s, i, best);
        i = best;
    }
}

static void heap_remove(struct sched *s, size_t d)
{
    long pos = s->dev[d].heap_pos;
    if (pos < 0)
        return;
    size_t i = (size_t)pos, last = s->nheap - 1;
    if (i != last)
        heap_swap(s, i, last);
    s->nheap--;
    s->dev[d].heap_pos = -1;
    if (i < s->nheap) {
        heap_up(s, i);
        heap_down(s, i);
    }
}

/* Puts a device in the free heap if it can take work, removes it otherwise. */
static void heap_sync(struct sched *s, size_t d)
{
    struct sdev *v = &s->dev[d];
    bool want = !v->quarantined && !v->blocked && !v->busy && v->running < v->cap;
    if (want && v->heap_pos < 0) {
        s->heap[s->nheap] = d;
        v->heap_pos = (long)s->nheap++;
        heap_up(s, s->nheap - 1);
    } else if (!want && v->heap_pos >= 0) {
        heap_remove(s, d);
    }
}

/* Re-keys a device whose speed estimate changed. */
static void heap_rekey(struct sched *s, size_t d)
{
    long pos = s->dev[d].heap_pos;
    if (pos >= 0) {
        heap_up(s, (size_t)pos);
        heap_down(s, (size_t)s->dev[d].heap_pos);
    }
}

/* ---- start ---- */

static void update_max_speed(struct sched *s);
static int start_groups(struct sched *s);

static const struct sched *sort_ctx; /* qsort has no context argument */

static int cmp_lpt(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    /* Longest first: a wide task's length is its weight over its width. */
    const struct stask *ti = &sort_ctx->task[i], *tj = &sort_ctx->task[j];
    double wi = ti->weight / ti->width, wj = tj->weight / tj->width;
    if (wi != wj)
        return wi > wj ? -1 : 1;
    if (ti->width != tj->width)
        return ti->width > tj->width ? -1 : 1;
    return i < j ? -1 : (i > j);
}

/* Bytes a device can ever give shotq: total minus what others use. */
static uint64_t dev_capacity_mem(const struct sdev *d)
{
    return d->mem_foreign >= d->mem_total ? 0 : d->mem_total - d->mem_foreign;
}

static bool task_fits_ever(const struct sched *s, const struct stask *t, size_t d)
{
    const struct sdev *v = &s->dev[d];
    return t->mem == 0 || v->mem_total == 0 || dev_capacity_mem(v) >= t->mem;
}

static bool group_fits_ever(const struct sched *s, const struct stask *t);

long sched_first_unfit(const struct sched *s)
{
    for (size_t i = 0; i < s->ntask; i++) {
        const struct stask *t = &s->task[i];
        if (t->state == SCHED_PENDING && t->width > 1) {
            if (!group_fits_ever(s, t))
                return (long)i;
            continue;
        }
        if (t->state != SCHED_PENDING || t->mem == 0)
            continue;
        bool ok = false;
        for (size_t d = 0; d < s->ndev && !ok; d++)
            ok = !s->dev[d].quarantined && task_fits_ever(s, t, d);
        if (!ok)
            return (long)i;
    }
    return -1;
}

int sched_start(struct sched *s)
{
    if (s->started)
        return 0;
    size_t n = s->ntask;
    s->order = malloc((n ? n : 1) * sizeof *s->order);
    s->running = malloc((n ? n : 1) * sizeof *s->running);
    s->heap = malloc((s->ndev ? s->ndev : 1) * sizeof *s->heap);
    s->rcost = malloc(RCOST_RING * sizeof *s->rcost);
    s->rsorted = malloc(RCOST_RING * sizeof *s->rsorted);
    s->rsuffix = malloc((RCOST_RING + 1) * sizeof *s->rsuffix);
    if (!s->order || !s->running || !s->heap || !s->rcost || !s->rsorted || !s->rsuffix)
        return -ENOMEM;
    s->rmax = 1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s->task[i].weight != s->task[0].weight)
            s->weighted = true;
        if (s->task[i].state == SCHED_PENDING) {
            s->order[k++] = i;
            s->pending_weight += s->task[i].weight;
        } else {
            s->ndone++;
        }
    }
    s->npending = k;
    s->norder = k;
    double sumw = 0;
    for (size_t i = 0; i < n; i++)
        sumw += s->task[i].weight;
    s->mean_weight = n ? sumw / (double)n : 1.0;
    /* LPT only for the dynamic policy: static and memfree keep input order,
     * like the recipes they stand for. */
    if (s->weighted && s->p.policy == SCHED_DYNAMIC) {
        sort_ctx = s;
        qsort(s->order, k, sizeof *s->order, cmp_lpt);
        sort_ctx = NULL;
    }
    /* Static: order position i belongs to device i mod n. */
    s->alive = s->ndev;
    s->next_probe = INFINITY;
    for (size_t d = 0; d < s->ndev; d++) {
        s->dev[d].cursor = d;
        if (s->dev[d].est > s->max_speed)
            s->max_speed = s->dev[d].est;
        s->multi_node |= s->dev[d].node != s->dev[0].node;
        if (s->p.policy == SCHED_MEMFREE)
            s->dev[d].cap = (int)s->ndev * s->p.slots;
    }
    if (s->wide && start_groups(s) < 0)
        return s->p.policy == SCHED_DYNAMIC ? -ENOMEM : -EINVAL;
    s->started = true;
    for (size_t d = 0; d < s->ndev; d++)
        heap_sync(s, d);
    return sched_first_unfit(s) >= 0 ? -E2BIG : 0;
}

int sched_set_capacity(struct sched *s, size_t dev, int capacity)
{
    if (dev >= s->ndev || capacity < 0)
        return -EINVAL;
    s->dev[dev].cap = capacity;
    if (s->started)
        heap_sync(s, dev);
    return 0;
}

/* Returns every parked device to the free heap. */
static void unblock_all(struct sched *s)
{
    for (size_t e = 0; e < s->ndev && s->nblocked; e++) {
        if (s->dev[e].blocked) {
            s->dev[e].blocked = false;
            s->nblocked--;
            heap_sync(s, e);
        }
    }
}

int sched_set_foreign_mem(struct sched *s, size_t dev, uint64_t bytes)
{
    if (dev >= s->ndev)
        return -EINVAL;
    s->dev[dev].mem_foreign = bytes;
    if (s->started && s->nblocked)
        unblock_all(s);
    return 0;
}

/* ---- shared GPUs ---- */

bool sched_gpu_busy(const struct sched_gpu_sample *g, double pct)
{
    if (!(pct > 0))
        return false;
    if (g->mem_total > 0 && (double)g->mem_foreign * 100.0 > pct * (double)g->mem_total)
        return true;
    return g->util_foreign >= 0 && (double)g->util_foreign > pct;
}

int sched_set_busy(struct sched *s, size_t dev, bool busy)
{
    if (dev >= s->ndev)
        return -EINVAL;
    s->dev[dev].busy = busy;
    if (s->started)
        heap_sync(s, dev);
    return 0;
}

int sched_set_default_mem(struct sched *s, uint64_t bytes)
{
    s->default_mem = bytes;
    if (s->started && s->nblocked && bytes == 0)
        unblock_all(s);
    return 0;
}

uint64_t sched_auto_mem(uint64_t peak)
{
    if (peak == 0)
        return 0;
    double m = (double)peak * SCHED_AUTO_MEM_MARGIN;
    uint64_t mib = (uint64_t)ceil(m / 1048576.0);
    return mib << 20;
}

/* ---- picking ---- */

static uint64_t task_mem(const struct sched *s, const struct stask *t)
{
    if (t->mem == 0 && s->default_mem)
        return s->default_mem;
    if (s->p.policy == SCHED_MEMFREE && t->mem == 0)
        return s->p.memfree_default_mem;
    return t->mem;
}

/* True when the device has the memory to start the task now. */
static bool fits_now(const struct sched *s, size_t d, const struct stask *t)
{
    const struct sdev *v = &s->dev[d];
    uint64_t need = task_mem(s, t);
    if (need == 0 || v->mem_total == 0)
        return true;
    uint64_t used = v->mem_foreign + v->mem_reserved;
    return used < v->mem_total && v->mem_total - used >= need;
}

/* True when order[] still owns the task: pending and never attempted (a
 * failed attempt moves a task to the retry queue). */
static bool in_order(const struct sched *s, size_t ti)
{
    return s->task[ti].state == SCHED_PENDING && s->task[ti].attempts == 0;
}

/* Advances the head of order[] past entries that are no longer pending. */
static void skip_taken(struct sched *s)
{
    while (s->head < s->norder && !in_order(s, s->order[s->head]))
        s->head++;
}

/* Looks for a retry the device should take. Returns its ring offset or -1.
 * With devices on several nodes, a retry that failed on d's node is returned
 * only when no retry from another node fits, and *near says so: d should
 * then prefer a fresh task, leaving the retry to another node. */
static long find_retry(const struct sched *s, size_t d, bool *near)
{
    size_t lim = s->retry_len < SCAN_WINDOW ? s->retry_len : SCAN_WINDOW;
    long same_node = -1;
    *near = false;
    for (size_t k = 0; k < lim; k++) {
        size_t ti = s->retry[(s->retry_head + k) % s->retry_alloc];
        const struct stask *t = &s->task[ti];
        /* Prefer another device than the one that failed it, unless this is
         * the only device left. */
        if ((t->failed_dev == (long)d && s->alive > 1) || t->width > 1)
            continue; /* a wide retry waits to be the head (pick_wide) */
        if (!fits_now(s, d, t))
            continue;
        if (s->multi_node && t->failed_dev >= 0 &&
            s->dev[t->failed_dev].node == s->dev[d].node) {
            if (same_node < 0)
                same_node = (long)k;
            continue;
        }
        return (long)k;
    }
    *near = same_node >= 0;
    return same_node;
}

/* Removes the retry at ring offset k, keeping FIFO order of the others. */
static size_t take_retry(struct sched *s, size_t k)
{
    size_t a = s->retry_alloc;
    size_t ti = s->retry[(s->retry_head + k) % a];
    for (size_t j = k; j > 0; j--)
        s->retry[(s->retry_head + j) % a] = s->retry[(s->retry_head + j - 1) % a];
    s->retry_head = (s->retry_head + 1) % a;
    s->retry_len--;
    return ti;
}

/* Looks for a pending task in order[] that fits the device now. Returns its
 * position in order[] or -1. */
static long find_pending(struct sched *s, size_t d)
{
    if (s->p.policy == SCHED_STATIC) {
        size_t n = s->ndev;
        struct sdev *v = &s->dev[d];
        while (v->cursor < s->norder && !in_order(s, s->order[v->cursor]))
            v->cursor += n;
        if (v->cursor >= s->norder)
            return -1;
        return fits_now(s, d, &s->task[s->order[v->cursor]]) ? (long)v->cursor : -1;
    }
    skip_taken(s);
    size_t seen = 0;
    for (size_t k = s->head; k < s->norder && seen < SCAN_WINDOW; k++) {
        const struct stask *t = &s->task[s->order[k]];
        if (!in_order(s, s->order[k]))
            continue;
        seen++;
        if (t->width == 1 && fits_now(s, d, t))
            return (long)k;
    }
    return -1;
}

/* Observations a device needs before the tail guard trusts its speed. */
#define GUARD_MIN_OBS 3

/* The speed the tail guard uses for v: the learned one once it rests on
 * GUARD_MIN_OBS observations, before that the prior (in learned units), so
 * that one long task does not make a fast device look slow to the guard. */
static double guard_speed(const struct sched *s, const struct sdev *v)
{
    if (v->nobs >= GUARD_MIN_OBS || s->prior_scale <= 0)
        return v->est;
    return v->prior * s->prior_scale;
}

/* When a running task r on device v is expected to end. A task past its
 * expected end is probably a long one (costs are not always known): it is
 * expected to run on for as long again as it has overrun, instead of ending
 * right now, so that one long task is not counted as free capacity. */
static double expected_end(const struct sched *s, const struct stask *r, double now)
{
    double end = r->start + r->weight / task_speed(s, r);
    return end >= now ? end : now + (now - end);
}

/* Tail guard: true when devices other than d, all busy, are expected to
 * finish every pending task strictly before d would finish one of weight w
 * started now; then d should stay idle. Busy devices' queued work is
 * projected at their learned speeds. Uses w for every pending task, which is
 * exact for equal weights and, with LPT order (w is the largest), lets d
 * start work a little more often than a full projection would. Acts only on
 * evidence it can trust (guard_speed), and a task past its expected end is
 * expected to run on as long as it has overrun. */
static bool guard_says_wait(const struct sched *s, size_t d, double w, double now)
{
    double sd = guard_speed(s, &s->dev[d]);
    double horizon = w / sd; /* d would finish at now + horizon */
    size_t pending = s->npending;
    /* Cheap bound: even at the fastest speed, the running tasks' devices
     * cannot finish more than this many tasks by then. */
    double bound = (double)s->nrunning * (1.0 + horizon * s->max_speed / w);
    if ((double)pending > bound)
        return false;
    double T = now + horizon;
    double count = 0;
    for (size_t k = 0; k < s->nrunning; k++) {
        const struct stask *r = &s->task[s->running[k]];
        size_t e = (size_t)r->dev;
        const struct sdev *v = &s->dev[e];
        if (e == d || v->quarantined)
            continue;
        double ve = guard_speed(s, v) * r->width; /* a group: about width x */
        double end = r->start + r->weight / ve;
        if (end < now)
            end = now + (now - end);
        double x = (T - end) * ve / w;
        if (x <= 0)
            continue;
        double c = ceil(x - 1e-9) - 1.0;
        if (c > 0)
            count += c;
        if (count >= (double)pending)
            return true;
    }
    return false;
}

/* Memfree policy: the alive device with the largest free memory ratio that
 * can hold the task. Returns the device or -1. */
static long memfree_device(const struct sched *s, const struct stask *t)
{
    long best = -1;
    double best_ratio = -1;
    for (size_t d = 0; d < s->ndev; d++) {
        const struct sdev *v = &s->dev[d];
        if (v->quarantined || v->busy || v->running >= v->cap || !fits_now(s, d, t))
            continue;
        double ratio = 1.0;
        if (v->mem_total) {
            uint64_t used = v->mem_foreign + v->mem_reserved;
            ratio = used >= v->mem_total
                        ? 0
                        : (double)(v->mem_total - used) / (double)v->mem_total;
        }
        if (ratio > best_ratio) {
            best_ratio = ratio;
            best = (long)d;
        }
    }
    return best;
}

/* Starts task ti on device d at time now. */
static void start_task(struct sched *s, size_t ti, size_t d, double now,
                       struct sched_assign *a)
{
    struct stask *t = &s->task[ti];
    struct sdev *v = &s->dev[d];
    t->state = SCHED_RUNNING;
    t->attempts++;
    t->dev = (int32_t)d;
    t->start = now;
    t->end = -1;
    t->run_pos = s->nrunning;
    s->running[s->nrunning++] = ti;
    s->npending--;
    s->pending_weight -= t->weight;
    v->running++;
    t->rmem = task_mem(s, t);
    v->mem_reserved += t->rmem;
    heap_sync(s, d);
    a->task = ti;
    a->dev = d;
    a->attempt = t->attempts;
    a->ndevs = 1;
    a->devs[0] = d;
}

static bool pick_memfree(struct sched *s, double now, struct sched_assign *a)
{
    size_t pool = s->ndev * (size_t)s->p.slots;
    if (s->nrunning >= pool)
        return false;
    size_t ti;
    if (s->retry_len) {
        ti = s->retry[s->retry_head];
    } else {
        skip_taken(s);
        if (s->head >= s->norder)
            return false;
        ti = s->order[s->head];
    }
    long d = memfree_device(s, &s->task[ti]);
    if (d < 0)
        return false;
    if (s->retry_len)
        take_retry(s, 0);
    start_task(s, ti, (size_t)d, now, a);
    return true;
}

/* Releases quarantined devices whose back-off has run out: each may take
 * tasks again, and one more failure quarantines it again (a probe). */
static void release_probes(struct sched *s, double now)
{
    if (s->alive + s->retired == s->ndev || now < s->next_probe)
        return;
    s->next_probe = INFINITY;
    for (size_t d = 0; d < s->ndev; d++) {
        struct sdev *v = &s->dev[d];
        if (!v->quarantined || v->retired)
            continue;
        if (v->probe_at <= now) {
            v->quarantined = false;
            v->probing = true;
            v->consec_fail = s->p.quarantine_after - 1;
            s->alive++;
            update_max_speed(s);
            heap_sync(s, d);
        } else if (v->probe_at < s->next_probe) {
            s->next_probe = v->probe_at;
        }
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of x[0 .. n), n > 0 (sorts x). */
static double median(double *x, size_t n)
{
    qsort(x, n, sizeof *x, cmp_double);
    return n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
}

/* Brings the summary of the measured cost ratios up to date (sorted, with
 * suffix sums, largest, coefficient of variation) when the ring changed:
 * once per look at the running tasks instead of once per task looked at. */
static void cost_summary(struct sched *s)
{
    if (!s->rdirty)
        return;
    size_t n = s->nrcost;
    memcpy(s->rsorted, s->rcost, n * sizeof *s->rsorted);
    qsort(s->rsorted, n, sizeof *s->rsorted, cmp_double);
    double sq = 0;
    s->rsuffix[n] = 0;
    for (size_t k = n; k-- > 0;) {
        s->rsuffix[k] = s->rsuffix[k + 1] + s->rsorted[k];
        sq += s->rsorted[k] * s->rsorted[k];
    }
    double m = n ? s->rsuffix[0] / (double)n : 0;
    s->rmax = n ? s->rsorted[n - 1] : 1;
    s->rcv = m > 0 ? sqrt(fmax(0, sq / (double)n - m * m)) / m : 0;
    s->rdirty = false;
}

/* Expected cost ratio (cost / weight) of a task known to exceed x, from the
 * recently measured ratios: the mean of those above x, or 0 when none is
 * (then the caller falls back on the task's weight and its overrun). *max
 * is the largest measured ratio (1 when none was measured), *cv their
 * coefficient of variation. Reads the summary (cost_summary). */
static double residual_cost(const struct sched *s, double x, double *max, double *cv)
{
    size_t lo = 0, hi = s->nrcost; /* first sorted ratio above x */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->rsorted[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    *max = s->rmax;
    *cv = s->rcv;
    size_t above = s->nrcost - lo;
    return above ? s->rsuffix[lo] / (double)above : 0;
}

/* After a look at the running tasks found no straggler worth a copy, the next
 * look waits this long: the live loop's poll period (exec/runner.c); the
 * simulator wakes at sched_next_look(). */
#define SPEC_SCAN_S 0.25

/* Speculation looks at the running tasks while at most this many tasks per
 * device are pending (the last rounds; earlier, estimates are too rough). */
#define SPEC_PENDING 2

/* Measured cost ratios a stall needs before it is told from a long task,
 * and how far past the longest measured task it must have run. */
#define STALL_MIN_OBS 5
#define STALL_FACTOR 3.0
/* ... and only where measured costs are alike (their coefficient of
 * variation at most this): with a spread of costs a long run is a long task. */
#define STALL_MAX_CV 0.25

/* The outlook of running task t on device e at time now: *cost, what the
 * task costs in all (weight units, what a fresh copy would cost), and
 * *left, the seconds it still needs on e. From the measured cost ratios
 * above the work already done (their mean is the expected cost of a task
 * known to be that long). A task longer than any measured one is either a
 * long task of a heavy tail, expected to run on for as long again (the
 * mean residual life of a heavy tail grows with age), or, when it has run
 * STALL_FACTOR times the longest measured task, one whose device has
 * slowed down: then a copy costs its weight and the task runs on for as
 * long as it has overrun (expected_end). With declared weights the weight
 * is its cost. */
static void straggler_outlook(const struct sched *s, const struct stask *t,
                              const struct sdev *e, double now, double *cost, double *left)
{
    double done = (now - t->start) * e->est, max, cv;
    double total = residual_cost(s, done / t->weight, &max, &cv) * t->weight;
    if (total > 0) {
        *cost = total;
        *left = (total - done) / e->est;
    } else if (s->weighted || (s->nrcost >= STALL_MIN_OBS && cv <= STALL_MAX_CV &&
                               done > STALL_FACTOR * max * t->weight)) {
        *cost = t->weight;
        *left = expected_end(s, t, now) - now;
    } else {
        *cost = 2 * done;
        *left = now - t->start;
    }
}

/* Speculation: the fastest free device d, if it has an idle slot, takes a
 * backup copy of the running task whose expected remaining time on its own
 * device exceeds a fresh copy's expected time on d by the margin (the one
 * that gains most; see straggler_outlook). While tasks are pending, only a
 * task that would otherwise end after all the other work (sched_eta) is
 * copied: it is the tail. Returns true and fills *a for a backup. */
static bool pick_backup(struct sched *s, double now, struct sched_assign *a)
{
    if (s->nheap == 0)
        return false;
    size_t d = s->heap[0];
    struct sdev *v = &s->dev[d];
    /* No idle slot (a copy would queue behind its tasks), or looked lately. */
    if (v->running >= s->p.slots || now < s->spec_next)
        return false;
    cost_summary(s);
    double eta = s->npending ? sched_eta(s, now) : 0;
    long best = -1;
    double best_gain = 0;
    for (size_t k = 0; k < s->nrunning; k++) {
        size_t ti = s->running[k];
        const struct stask *t = &s->task[ti];
        const struct sdev *e = &s->dev[t->dev];
        if (t->bdev >= 0 || t->dev == (long)d || t->width > 1 || !fits_now(s, d, t))
            continue;
        double cost, left;
        straggler_outlook(s, t, e, now, &cost, &left);
        double gain = left - s->p.speculate_margin * cost / v->est;
        if (gain > best_gain && left > eta) {
            best_gain = gain;
            best = (long)ti;
        }
    }
    if (best < 0) {
        s->spec_next = now + SPEC_SCAN_S; /* look again after the loop's next turn */
        return false;
    }
    struct stask *t = &s->task[best];
    t->bdev = (int32_t)d;
    t->bstart = now;
    t->attempts++;
    v->running++;
    t->brmem = task_mem(s, t);
    v->mem_reserved += t->brmem;
    heap_sync(s, d);
    a->task = (size_t)best;
    a->dev = d;
    a->attempt = t->attempts;
    a->backup = true;
    a->ndevs = 1;
    a->devs[0] = d;
    return true;
}

double sched_next_look(const struct sched *s, double now)
{
    if (!s->p.speculate || s->p.policy != SCHED_DYNAMIC || s->nrunning == 0 ||
        s->npending > SPEC_PENDING * s->ndev)
        return INFINITY;
    return s->spec_next > now ? s->spec_next : now + SPEC_SCAN_S;
}

bool sched_pick(struct sched *s, double now, struct sched_assign *a)
{
    a->backup = false;
    if (!s->started || s->draining)
        return false;
    release_probes(s, now);
    bool spec = s->p.speculate && s->p.policy == SCHED_DYNAMIC;
    if (s->npending == 0)
        return spec && pick_backup(s, now, a);
    /* In the last rounds of tasks a straggler may be the tail already. */
    if (spec && s->npending <= SPEC_PENDING * s->ndev && pick_backup(s, now, a))
        return true;
    if (s->p.policy == SCHED_MEMFREE)
        return pick_memfree(s, now, a);
    if (s->wide && pick_wide(s, now, a))
        return true;
    while (s->nheap > 0) {
        size_t d = s->heap[0];
        bool near;
        long rk = find_retry(s, d, &near);
        long pk = rk < 0 || near ? find_pending(s, d) : -1;
        if (pk >= 0)
            rk = -1; /* fresh work here; the retry waits for another node */
        if (rk < 0 && pk < 0) {
            /* Nothing fits this device now: park it until memory frees. */
            s->dev[d].blocked = true;
            s->nblocked++;
            heap_sync(s, d);
            continue;
        }
        size_t ti = rk >= 0 ? s->retry[(s->retry_head + (size_t)rk) % s->retry_alloc]
                            : s->order[pk];
        if (s->dev[d].reserved &&
            now + s->task[ti].weight / s->dev[d].est > s->resv_until + 1e-9) {
            /* Held for the wide head task, and this one would end too late
             * (EASY backfilling): park it until the next event. */
            s->dev[d].blocked = true;
            s->nblocked++;
            heap_sync(s, d);
            continue;
        }
        if (s->p.policy == SCHED_DYNAMIC && s->p.tail_guard &&
            guard_says_wait(s, d, s->task[ti].weight, now))
            return false; /* slower free devices would wait too */
        if (rk >= 0) {
            take_retry(s, (size_t)rk);
        } else if (s->p.policy == SCHED_STATIC) {
            s->dev[d].cursor += s->ndev;
        }
        start_task(s, ti, d, now, a);
        return true;
    }
    return false;
}

/* ---- finishing ---- */

static int push_retry(struct sched *s, size_t ti)
{
    if (s->retry_len == s->retry_alloc) {
        size_t na = s->retry_alloc ? s->retry_alloc * 2 : 16;
        size_t *r = malloc(na * sizeof *r);
        if (!r)
            return -ENOMEM;
        for (size_t k = 0; k < s->retry_len; k++)
            r[k] = s->retry[(s->retry_head + k) % s->retry_alloc];
        free(s->retry);
        s->retry = r;
        s->retry_alloc = na;
        s->retry_head = 0;
    }
    s->retry[(s->retry_head + s->retry_len) % s->retry_alloc] = ti;
    s->retry_len++;
    return 0;
}

/* Fails every pending task: called when no device is left. */
static void fail_all_pending(struct sched *s)
{
    for (size_t i = 0; i < s->ntask; i++) {
        if (s->task[i].state == SCHED_PENDING) {
            s->task[i].state = SCHED_FAILED;
            s->nfailed++;
        }
    }
    s->npending = 0;
    s->retry_len = 0;
    s->pending_weight = 0;
}

static void update_max_speed(struct sched *s)
{
    s->max_speed = 0;
    for (size_t d = 0; d < s->ndev; d++)
        if (!s->dev[d].quarantined && s->dev[d].est > s->max_speed)
            s->max_speed = s->dev[d].est;
}

/* Speed estimator (see docs/design.md, "Speeds"): a ratio of decayed sums,
 * est = (sum w + W0) / (sum dur + W0 / (g x prior)), where the sums decay
 * by (1 - alpha) per observation on the device, W0 = PSEUDO_TASKS mean
 * weights act as a pseudo-observation at the prior, and g (learned speed /
 * prior) is fixed by the run's first observation so that priors and
 * measurements share units. A long task adds its whole duration to the
 * denominator instead of dominating an average of ratios. */
#define PSEUDO_TASKS 1.0

static double dev_estimate(const struct sched *s, const struct sdev *v)
{
    double w0 = PSEUDO_TASKS * s->mean_weight;
    return (v->sw + w0) / (v->sdur + w0 / (s->prior_scale * v->prior));
}

/* Records one successful attempt of weight w that took dur seconds on d. */
static void learn_speed(struct sched *s, size_t d, double w, double dur)
{
    struct sdev *v = &s->dev[d];
    if (s->prior_scale <= 0) {
        /* First observation of the run: it sets the units of every prior. */
        s->prior_scale = w / dur / v->prior;
        v->sw = w;
        v->sdur = dur;
        v->last[0] = w / dur;
        v->nobs = 1;
        for (size_t e = 0; e < s->ndev; e++) {
            s->dev[e].est = dev_estimate(s, &s->dev[e]);
            heap_rekey(s, e);
        }
        update_max_speed(s);
        return;
    }
    double keep = 1 - s->p.ewma_alpha;
    v->sw = keep * v->sw + w;
    v->sdur = keep * v->sdur + dur;
    v->last[v->nobs % SPEED_RING] = w / dur;
    v->nobs++;
    v->est = dev_estimate(s, v);
    heap_rekey(s, d);
    update_max_speed(s);
}

/* Takes a running task off its device: shared by finish and requeue. */
static void unrun(struct sched *s, struct stask *t)
{
    size_t last = s->running[--s->nrunning];
    s->running[t->run_pos] = last;
    s->task[last].run_pos = t->run_pos;
    for (size_t k = 0; k < t->width; k++) {
        size_t m = task_dev(s, t, k);
        s->dev[m].running--;
        s->dev[m].mem_reserved -= t->rmem;
        if (k > 0)
            heap_sync(s, m);
    }
    if (s->nblocked)
        unblock_all(s);
}

/* True when every device is quarantined for good. */
static bool no_device_left(const struct sched *s)
{
    return s->alive == 0 && s->retired == s->ndev;
}

/* Quarantines device d at time now: it rests for base * 2^k seconds (k =
 * its quarantines since its last success), at most the cap; a device that
 * fails again after resting the cap is retired. When the failures that led
 * here are of several tasks they are the device's, not the tasks': they are
 * not charged to the tasks' retries. */
static void quarantine(struct sched *s, size_t d, double now)
{
    struct sdev *v = &s->dev[d];
    int n = v->nrecent < 8 ? v->nrecent : 8;
    v->nrecent = 0;
    bool several = false; /* one task failing again and again is the task's fault */
    for (int k = 1; k < n; k++)
        several |= v->recent[k] != v->recent[0];
    for (int k = 0; k < n && several; k++) {
        struct stask *t = &s->task[v->recent[k]];
        if (t->charged > 0)
            t->charged--;
    }
    double delay = s->p.backoff_base_s;
    for (int k = 0; k < v->quarantines && delay < s->p.backoff_cap_s; k++)
        delay *= 2;
    if (delay > s->p.backoff_cap_s)
        delay = s->p.backoff_cap_s;
    v->quarantined = true;
    s->alive--;
    if (delay <= 0 || (v->probing && v->rest >= s->p.backoff_cap_s)) {
        v->retired = true; /* no back-off, or it had the longest rest */
        s->retired++;
    } else {
        v->rest = delay;
        v->probe_at = now + delay;
        if (v->probe_at < s->next_probe)
            s->next_probe = v->probe_at;
    }
    v->probing = false;
    v->quarantines++;
    update_max_speed(s);
}

/* Stops dispatch when a --halt rule is met. */
static void check_halt(struct sched *s)
{
    double f = (double)s->failed_attempts;
    if ((s->p.halt_fail_count > 0 && f >= s->p.halt_fail_count) ||
        (s->p.halt_fail_pct > 0 && s->ntask > 0 &&
         f * 100.0 >= s->p.halt_fail_pct * (double)s->ntask)) {
        s->halted = true;
        s->draining = true;
    }
}

/* Ends the backup attempt of t (its device is freed; the caller kills it). */
static void drop_backup(struct sched *s, struct stask *t, double now)
{
    struct sdev *b = &s->dev[t->bdev];
    b->running--;
    b->mem_reserved -= t->brmem;
    b->busy_s += now > t->bstart ? now - t->bstart : 0;
    size_t bd = (size_t)t->bdev;
    t->bdev = -1;
    if (s->nblocked)
        unblock_all(s);
    heap_sync(s, bd);
}

void sched_cancel_backup(struct sched *s, size_t ti)
{
    if (ti >= s->ntask || s->task[ti].state != SCHED_RUNNING || s->task[ti].bdev < 0)
        return;
    struct stask *t = &s->task[ti];
    t->attempts--;
    drop_backup(s, t, t->bstart);
}

enum sched_outcome sched_finish_on(struct sched *s, size_t ti, size_t dev, double now,
                                   bool ok, long *kill_dev)
{
    *kill_dev = -1;
    if (ti >= s->ntask || s->task[ti].state != SCHED_RUNNING)
        return SCHED_OUT_FAILED;
    struct stask *t = &s->task[ti];
    if (t->bdev < 0 || (t->dev != (long)dev && t->bdev != (long)dev))
        return sched_finish(s, ti, now, ok);
    if (t->bdev == (long)dev) {
        /* The backup ended: make it the primary, the primary the backup. */
        int32_t od = t->dev;
        double os = t->start;
        t->dev = t->bdev;
        t->start = t->bstart;
        t->bdev = od;
        t->bstart = os;
        uint64_t om = t->rmem;
        t->rmem = t->brmem;
        t->brmem = om;
        /* running[] holds the task, not the device: nothing to move. */
    }
    if (!ok) {
        /* This attempt failed: the other one runs on as the primary. */
        struct sdev *v = &s->dev[t->dev];
        v->failed++;
        v->busy_s += now > t->start ? now - t->start : 0;
        v->running--;
        v->mem_reserved -= t->rmem;
        size_t fd = (size_t)t->dev;
        t->dev = t->bdev;
        t->start = t->bstart;
        t->rmem = t->brmem;
        t->bdev = -1;
        heap_sync(s, fd);
        return SCHED_OUT_CONTINUES;
    }
    *kill_dev = t->bdev;
    drop_backup(s, t, now);
    return sched_finish(s, ti, now, true);
}

enum sched_outcome sched_finish(struct sched *s, size_t ti, double now, bool ok)
{
    if (ti >= s->ntask || s->task[ti].state != SCHED_RUNNING)
        return SCHED_OUT_FAILED;
    if (s->task[ti].bdev >= 0) {
        long kill;
        return sched_finish_on(s, ti, (size_t)s->task[ti].dev, now, ok, &kill);
    }
    struct stask *t = &s->task[ti];
    size_t d = (size_t)t->dev;
    struct sdev *v = &s->dev[d];
    double dur = now - t->start;
    if (dur < 0)
        dur = 0;
    t->end = now;
    unrun(s, t);
    for (size_t k = 0; k < t->width; k++)
        s->dev[task_dev(s, t, k)].busy_s += dur;
    enum sched_outcome out;
    if (ok) {
        v->consec_fail = 0;
        v->nrecent = 0;
        v->probing = false;
        v->quarantines = 0;
        for (size_t k = 0; k < t->width; k++)
            s->dev[task_dev(s, t, k)].done++;
        t->state = SCHED_DONE;
        s->ndone++;
        if (dur > 1e-9) {
            learn_group(s, t, dur);
            s->rcost[s->rcost_next] = dur * task_speed(s, t) / t->weight;
            s->rcost_next = (s->rcost_next + 1) % RCOST_RING;
            if (s->nrcost < RCOST_RING)
                s->nrcost++;
            s->rdirty = true;
        }
        out = SCHED_OUT_DONE;
    } else {
        v->failed++;
        t->failed_dev = (int32_t)d;
        t->charged++;
        s->failed_attempts++;
        v->recent[(size_t)v->nrecent++ % 8] = ti;
        if (++v->consec_fail >= s->p.quarantine_after && !v->quarantined)
            quarantine(s, d, now);
        if (t->charged <= s->p.max_retries && !no_device_left(s) && !s->draining &&
            push_retry(s, ti) == 0) {
            t->state = SCHED_PENDING;
            s->npending++;
            s->pending_weight += t->weight;
            out = SCHED_OUT_RETRY;
        } else {
            t->state = SCHED_FAILED;
            s->nfailed++;
            out = SCHED_OUT_FAILED;
        }
        if (no_device_left(s))
            fail_all_pending(s);
        check_halt(s);
    }
    heap_sync(s, d);
    return out;
}

void sched_requeue(struct sched *s, size_t ti)
{
    if (ti >= s->ntask || s->task[ti].state != SCHED_RUNNING)
        return;
    struct stask *t = &s->task[ti];
    size_t d = (size_t)t->dev;
    unrun(s, t);
    t->attempts--;
    t->end = -1;
    if (push_retry(s, ti) == 0) {
        t->state = SCHED_PENDING;
        s->npending++;
        s->pending_weight += t->weight;
    } else {
        t->state = SCHED_FAILED;
        s->nfailed++;
    }
    heap_sync(s, d);
}

void sched_set_start(struct sched *s, size_t ti, double start)
{
    if (ti < s->ntask && s->task[ti].state == SCHED_RUNNING)
        s->task[ti].start = start;
}

void sched_abandon(struct sched *s)
{
    fail_all_pending(s);
}

void sched_drain(struct sched *s)
{
    s->draining = true;
}

bool sched_finished(const struct sched *s)
{
    if (s->nrunning > 0)
        return false;
    return s->npending == 0 || s->draining;
}

size_t sched_ntasks(const struct sched *s)
{
    return s->ntask;
}

size_t sched_ndevs(const struct sched *s)
{
    return s->ndev;
}

size_t sched_count(const struct sched *s, enum sched_task_state st)
{
    switch (st) {
    case SCHED_PENDING:
        return s->npending;
    case SCHED_RUNNING:
        return s->nrunning;
    case SCHED_DONE:
        return s->ndone;
    case SCHED_FAILED:
        return s->nfailed;
    }
    return 0;
}

/* Throughput (weight per second) of one device: its learned per-task speed
 * times the tasks it runs at once (memfree piles tasks; count one). */
static double dev_rate(const struct sched *s, const struct sdev *v)
{
    return v->est * (s->p.policy == SCHED_MEMFREE ? 1 : s->p.slots);
}

/* Summed throughput (weight per second) of the alive devices. */
static double total_rate(const struct sched *s)
{
    double rate = 0;
    for (size_t d = 0; d < s->ndev; d++)
        if (!s->dev[d].quarantined)
            rate += dev_rate(s, &s->dev[d]);
    return rate;
}

double sched_eta(const struct sched *s, double now)
{
    double work = s->pending_weight;
    for (size_t k = 0; k < s->nrunning; k++) {
        const struct stask *r = &s->task[s->running[k]];
        double left = r->weight - (now - r->start) * task_speed(s, r);
        if (left > 0)
            work += left;
    }
    double rate = total_rate(s);
    return rate > 0 ? work / rate : INFINITY;
}

/* Duration of a done task's successful (last) attempt, 0 if unknown (a task
 * restored from a journal never ran here). */
static double task_dur(const struct stask *t)
{
    return t->attempts > 0 && t->end > t->start ? t->end - t->start : 0;
}

/* Sets every device's med: the median of weight/duration over the tasks it
 * completed, a speed that one long task on the device does not drag down
 * (the decayed estimate does, for a while). Leaves med at 0 for a device
 * without completed tasks, or for all on allocation failure. */
static void measure_speeds(struct sched *s)
{
    size_t *off = calloc(s->ndev + 1, sizeof *off);
    double *r = malloc((s->ndone ? s->ndone : 1) * sizeof *r);
    if (!off || !r)
        goto out;
    for (size_t i = 0; i < s->ntask; i++)
        if (s->task[i].state == SCHED_DONE && task_dur(&s->task[i]) > 0 &&
            s->task[i].width == 1)
            off[s->task[i].dev + 1]++;
    for (size_t d = 0; d < s->ndev; d++)
        off[d + 1] += off[d];
    for (size_t i = 0; i < s->ntask; i++) {
        const struct stask *t = &s->task[i];
        if (t->state == SCHED_DONE && task_dur(t) > 0 && t->width == 1 &&
            off[t->dev] < s->ndone)
            r[off[t->dev]++] = t->weight / task_dur(t);
    }
    /* off[d] now ends device d's segment; it started at off[d - 1]. */
    for (size_t d = 0; d < s->ndev; d++) {
        size_t b = d ? off[d - 1] : 0, e = off[d];
        s->dev[d].med = e > b ? median(r + b, e - b) : 0;
    }
out:
    free(off);
    free(r);
}

/* The speed a done task's cost is measured with: the median of w/dur over
 * the device's done tasks once sched_lower_bound has measured it, before
 * that the median of its latest SPEED_RING observations (one long task does
 * not drag it down as it drags the decayed estimate), else the estimate. */
static double cost_speed(const struct sdev *v)
{
    if (v->med > 0)
        return v->med;
    size_t n = v->nobs < SPEED_RING ? (size_t)v->nobs : SPEED_RING;
    if (n == 0)
        return v->est;
    double x[SPEED_RING];
    memcpy(x, v->last, n * sizeof *x);
    return median(x, n);
}

double sched_lower_bound(struct sched *s)
{
    measure_speeds(s);
    double sumc = 0, maxc = 0, rate = 0, fastest = 0;
    for (size_t i = 0; i < s->ntask; i++) {
        const struct stask *t = &s->task[i];
        if (t->attempts == 0)
            continue; /* restored from a journal or never run */
        double c = sched_task_cost(s, i);
        sumc += c;
        if (c / t->width > maxc)
            maxc = c / t->width; /* a group of k: at most k x the fastest */
    }
    for (size_t d = 0; d < s->ndev; d++) {
        const struct sdev *v = &s->dev[d];
        if (v->nobs == 0 && v->done == 0 && v->failed == 0)
            continue; /* never used: contributes nothing we can measure */
        double sp = cost_speed(v);
        rate += sp * (s->p.policy == SCHED_MEMFREE ? 1 : s->p.slots);
        if (sp > fastest)
            fastest = sp;
    }
    if (rate <= 0)
        return 0;
    double lb = sumc / rate;
    if (fastest > 0 && maxc / fastest > lb)
        lb = maxc / fastest;
    return lb;
}

double sched_task_cost(const struct sched *s, size_t task)
{
    const struct stask *t = &s->task[task];
    if (t->state == SCHED_DONE && task_dur(t) > 0 && t->dev >= 0) {
        double sp = 0; /* a group's speed: the sum of its members' */
        for (size_t k = 0; k < t->width; k++)
            sp += cost_speed(&s->dev[task_dev(s, t, k)]);
        return task_dur(t) * sp;
    }
    return t->weight;
}

void sched_dev_stats(const struct sched *s, size_t dev, struct sched_dev_stats *out)
{
    const struct sdev *v = &s->dev[dev];
    out->speed_estimate = v->est;
    out->busy_s = v->busy_s;
    out->tasks_done = v->done;
    out->tasks_failed = v->failed;
    out->running = v->running;
    out->quarantined = v->quarantined;
    out->probing = v->probing;
    out->retired = v->retired;
    out->quarantines = v->quarantines;
    out->probe_at = v->quarantined && !v->retired ? v->probe_at : -1;
    out->busy = v->busy;
    out->mem_reserved = v->mem_reserved;
}

bool sched_halted(const struct sched *s)
{
    return s->halted;
}

size_t sched_failed_attempts(const struct sched *s)
{
    return s->failed_attempts;
}

void sched_task_stats(const struct sched *s, size_t task, struct sched_task_stats *out)
{
    const struct stask *t = &s->task[task];
    out->state = (enum sched_task_state)t->state;
    out->attempts = t->attempts;
    out->dev = t->dev;
    out->backup_dev = t->bdev;
    out->backup_start_s = t->bstart;
    out->start_s = t->start;
    out->end_s = t->end;
    out->width = t->width;
}

/* ---- wide tasks (gpus=N): a group of devices of one node ----
 *
 * A task of width N runs on N devices of one node at once. Its group's speed
 * is the sum of its members' (perfect scaling: weight W takes W / sum s).
 * It is dispatched only from the head of the queue (retries first, then
 * dispatch order): pick_wide chooses the group that is expected to finish it
 * first -- among the fastest N devices free now and the fastest N of those
 * that free up first -- and starts it when all are free; otherwise those
 * devices are reserved until they are expected to be (the shadow time) and
 * single tasks backfill: a reserved device takes only a task expected to end
 * before the shadow time; other devices take any (EASY backfilling). A wide
 * task behind the head waits its turn; so no wide task starves, and single
 * tasks run on every device the head does not need. */

static size_t task_dev(const struct sched *s, const struct stask *t, size_t k)
{
    return t->width > 1 ? s->gdev[t->goff + k] : (size_t)t->dev;
}

/* The learned speed of the devices a task runs on (a group: their sum). */
static double task_speed(const struct sched *s, const struct stask *t)
{
    double sp = 0;
    for (size_t k = 0; k < t->width; k++)
        sp += s->dev[task_dev(s, t, k)].est;
    return sp;
}

/* Learns from a done task that took dur seconds: a group's members each
 * observe the share of its weight their estimates say they did. */
static void learn_group(struct sched *s, const struct stask *t, double dur)
{
    if (t->width == 1) {
        learn_speed(s, (size_t)t->dev, t->weight, dur);
        return;
    }
    double sum = task_speed(s, t), share[SCHED_MAX_WIDTH];
    for (size_t k = 0; k < t->width; k++)
        share[k] = s->dev[task_dev(s, t, k)].est / sum;
    for (size_t k = 0; k < t->width; k++)
        learn_speed(s, task_dev(s, t, k), t->weight * share[k], dur);
}

static int cmp_node(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int ni = sort_ctx->dev[i].node, nj = sort_ctx->dev[j].node;
    if (ni != nj)
        return ni < nj ? -1 : 1;
    return i < j ? -1 : (i > j);
}

/* sched_start's part for wide tasks: their group slots, devices by node,
 * scratch. Returns 0, -EINVAL (not the dynamic policy) or -ENOMEM. */
static int start_groups(struct sched *s)
{
    if (s->p.policy != SCHED_DYNAMIC)
        return -EINVAL;
    size_t n = 0;
    for (size_t i = 0; i < s->ntask; i++)
        if (s->task[i].width > 1) {
            s->task[i].goff = (uint32_t)n;
            n += s->task[i].width;
        }
    size_t nd = s->ndev ? s->ndev : 1;
    s->gdev = malloc(n * sizeof *s->gdev);
    s->bynode = malloc(nd * sizeof *s->bynode);
    s->node_end = malloc(nd * sizeof *s->node_end);
    s->free_at = malloc(nd * sizeof *s->free_at);
    s->scratch = malloc(nd * sizeof *s->scratch);
    s->resv = malloc(SCHED_MAX_WIDTH * sizeof *s->resv);
    if (!s->gdev || !s->bynode || !s->node_end || !s->free_at || !s->scratch || !s->resv)
        return -ENOMEM;
    s->ngdev = n;
    for (size_t d = 0; d < s->ndev; d++)
        s->bynode[d] = d;
    sort_ctx = s;
    qsort(s->bynode, s->ndev, sizeof *s->bynode, cmp_node);
    sort_ctx = NULL;
    for (size_t k = 0; k < s->ndev; k++)
        if (k + 1 == s->ndev ||
            s->dev[s->bynode[k + 1]].node != s->dev[s->bynode[k]].node)
            s->node_end[s->nnodes++] = k + 1;
    return 0;
}

/* True when some node has width devices that can ever hold t. */
static bool group_fits_ever(const struct sched *s, const struct stask *t)
{
    if (!s->bynode)
        return true; /* not started: sched_start checks again */
    for (size_t n = 0, b = 0; n < s->nnodes; b = s->node_end[n++]) {
        size_t ok = 0;
        for (size_t k = b; k < s->node_end[n]; k++)
            ok += !s->dev[s->bynode[k]].quarantined && task_fits_ever(s, t, s->bynode[k]);
        if (ok >= t->width)
            return true;
    }
    return false;
}

/* Fills free_at[d]: when device d is expected to have room for t -- now when
 * it has; the earliest expected end of what runs there when it is full;
 * INFINITY when it cannot take t (quarantined, busy, too small, no slot). */
static void group_free_at(struct sched *s, const struct stask *t, double now)
{
    for (size_t d = 0; d < s->ndev; d++) {
        const struct sdev *v = &s->dev[d];
        bool usable =
            !v->quarantined && !v->busy && v->cap > 0 && task_fits_ever(s, t, d);
        s->free_at[d] = !usable                                    ? NAN
                        : v->running < v->cap && fits_now(s, d, t) ? now
                                                                   : INFINITY;
    }
    for (size_t k = 0; k < s->nrunning; k++) {
        const struct stask *r = &s->task[s->running[k]];
        /* A full device is not free now, even when its task is due now. */
        double end = fmax(expected_end(s, r, now), now + 1e-9);
        for (size_t j = 0; j < r->width; j++) {
            size_t m = task_dev(s, r, j);
            if (!isnan(s->free_at[m]) && s->free_at[m] > now && end < s->free_at[m])
                s->free_at[m] = end;
        }
    }
    for (size_t d = 0; d < s->ndev; d++)
        if (isnan(s->free_at[d]))
            s->free_at[d] = INFINITY;
}

static int cmp_free_at(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    double fi = sort_ctx->free_at[i], fj = sort_ctx->free_at[j];
    if (fi != fj)
        return fi < fj ? -1 : 1;
    return dev_before(sort_ctx, i, j) ? -1 : 1;
}

static int cmp_speed(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    return i == j ? 0 : dev_before(sort_ctx, i, j) ? -1 : 1;
}

/* Candidate group: the width fastest of c[0 .. k) (reordered). Keeps it in
 * g and *ready when it finishes t before *best. */
static void try_group(struct sched *s, const struct stask *t, size_t *c, size_t k,
                      size_t *g, double *ready, double *best)
{
    sort_ctx = s;
    qsort(c, k, sizeof *c, cmp_speed);
    sort_ctx = NULL;
    double sp = 0, at = 0;
    for (size_t j = 0; j < t->width; j++) {
        sp += s->dev[c[j]].est;
        at = fmax(at, s->free_at[c[j]]);
    }
    double finish = at + t->weight / sp;
    if (finish < *best - 1e-12) {
        *best = finish;
        *ready = at;
        memcpy(g, c, t->width * sizeof *g);
    }
}

/* Chooses t's group (see the section comment). Returns false when no node
 * has width devices that can take it at a known time. */
static bool choose_group(struct sched *s, const struct stask *t, double now, size_t *g,
                         double *ready)
{
    group_free_at(s, t, now);
    double best = INFINITY;
    for (size_t n = 0, b = 0; n < s->nnodes; b = s->node_end[n++]) {
        size_t m = 0, *c = s->scratch;
        for (size_t k = b; k < s->node_end[n]; k++)
            if (isfinite(s->free_at[s->bynode[k]]))
                c[m++] = s->bynode[k];
        if (m < t->width)
            continue;
        sort_ctx = s;
        qsort(c, m, sizeof *c, cmp_free_at);
        sort_ctx = NULL;
        size_t nnow = 0;
        while (nnow < m && s->free_at[c[nnow]] <= now)
            nnow++;
        /* Growing prefixes of the free-time order: each sort permutes only
         * within the prefix, so the next prefix is still the next set. */
        size_t ks[3] = {t->width, nnow > t->width ? nnow : t->width, m};
        for (int j = 0; j < 3; j++)
            if (j == 0 || ks[j] > ks[j - 1])
                try_group(s, t, c, ks[j], g, ready, &best);
    }
    return isfinite(best);
}

/* Ends the reservation of the previous pick. */
static void clear_resv(struct sched *s)
{
    for (size_t k = 0; k < s->nresv; k++)
        s->dev[s->resv[k]].reserved = false;
    s->nresv = 0;
}

/* Starts wide task ti on group g at time now (g[0] is its dev). */
static void start_group(struct sched *s, size_t ti, const size_t *g, double now,
                        struct sched_assign *a)
{
    struct stask *t = &s->task[ti];
    start_task(s, ti, g[0], now, a);
    for (size_t k = 0; k < t->width; k++) {
        s->gdev[t->goff + k] = g[k];
        a->devs[k] = g[k];
        if (k == 0)
            continue;
        s->dev[g[k]].running++;
        s->dev[g[k]].mem_reserved += t->rmem;
        heap_sync(s, g[k]);
    }
    a->ndevs = t->width;
}

/* The wide head task: starts it when its group is free (true, *a filled),
 * else reserves the group until its shadow time (false). Single heads: no
 * reservation (false). */
static bool pick_wide(struct sched *s, double now, struct sched_assign *a)
{
    clear_resv(s);
    bool from_retry = s->retry_len > 0;
    skip_taken(s);
    long hw = from_retry            ? (long)s->retry[s->retry_head]
              : s->head < s->norder ? (long)s->order[s->head]
                                    : -1;
    if (hw < 0 || s->task[hw].width == 1)
        return false;
    const struct stask *t = &s->task[hw];
    size_t g[SCHED_MAX_WIDTH];
    double ready = now;
    if (!choose_group(s, t, now, g, &ready))
        return false; /* no group now or foreseeable: single tasks go on */
    if (ready > now) {
        for (size_t k = 0; k < t->width; k++) {
            s->dev[g[k]].reserved = true;
            s->resv[k] = g[k];
        }
        s->nresv = t->width;
        s->resv_until = ready;
        return false;
    }
    if (from_retry)
        take_retry(s, 0);
    start_group(s, (size_t)hw, g, now, a);
    return true;
}

size_t sched_task_devices(const struct sched *s, size_t task, size_t *out, size_t cap)
{
    const struct stask *t = &s->task[task];
    if (t->dev < 0)
        return 0;
    for (size_t k = 0; k < t->width && k < cap; k++)
        out[k] = task_dev(s, t, k);
    return t->width;
}

const char *sched_policy_name(enum sched_policy p)
{
    switch (p) {
    case SCHED_DYNAMIC:
        return "dynamic";
    case SCHED_STATIC:
        return "static";
    case SCHED_MEMFREE:
        return "memfree";
    }
    return "?";
}

int sched_policy_parse(const char *name, enum sched_policy *out)
{
    static const enum sched_policy all[] = {SCHED_DYNAMIC, SCHED_STATIC, SCHED_MEMFREE};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (!strcmp(name, sched_policy_name(all[i]))) {
            *out = all[i];
            return 0;
        }
    }
    return -EINVAL;
}
