/* devices: the SPEC parser and the front end over the back ends. The parser
 * turns a spec into a request (cpu count, sim entries or a GPU selection); GPU
 * discovery tries NVML, then nvidia-smi; CUDA_VISIBLE_DEVICES and the spec's
 * indices/UUIDs then select among what was found. */
#include "devices/devices.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/devices_int.h"
#include "util/escape.h"
#include "util/log.h"

#define SIM_DEFAULT_MEM_MIB 16384u
#define MAX_COUNT 4096u          /* cpu:N upper bound */
#define MAX_SIM_COUNT 1000000u   /* simulated devices in all: cluster planning */
#define MAX_MEM_MIB (1ull << 40) /* keeps MiB << 20 inside 64 bits */
#define REF_BANDWIDTH_GBS 484.0  /* GTX 1080 Ti: 352 bit x 5505 MHz x 2 */

/* GPU back ends in the order auto tries them. */
static const struct dev_ops *const gpu_backends[] = {&dev_nvml_ops, &dev_nvsmi_ops};
/* Every back end, for refresh and shutdown. */
static const struct dev_ops *const all_backends[] = {&dev_nvml_ops, &dev_nvsmi_ops,
                                                     &dev_cpu_ops, &dev_sim_ops};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- list helpers (shared with the back ends through devices_int.h) ---- */

struct dev_info *dev_list_grow(struct dev_list *list, size_t k)
{
    if (k > SIZE_MAX / sizeof *list->v - list->n)
        return NULL;
    struct dev_info *v = realloc(list->v, (list->n + k) * sizeof *v);
    if (!v)
        return NULL;
    memset(v + list->n, 0, k * sizeof *v);
    list->v = v;
    list->n += k;
    return v + list->n - k;
}

int dev_list_append(struct dev_list *list, const struct dev_info *d)
{
    struct dev_info *slot = dev_list_grow(list, 1);
    if (!slot)
        return -ENOMEM;
    *slot = *d;
    return 0;
}

void dev_list_truncate(struct dev_list *list, size_t n)
{
    if (n < list->n)
        list->n = n;
}

void dev_list_free(struct dev_list *list)
{
    free(list->v);
    list->v = NULL;
    list->n = 0;
}

void dev_strlcpy(char *dst, const char *src, size_t size)
{
    if (!size)
        return;
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void dev_fill_node(struct dev_info *d)
{
    char host[256];
    /* gethostname may not terminate a truncated name. */
    if (gethostname(host, sizeof host) < 0)
        dev_strlcpy(host, "localhost", sizeof host);
    host[sizeof host - 1] = '\0';
    dev_strlcpy(d->node, host, sizeof d->node);
}

double dev_gpu_speed_prior(int bus_width_bits, int mem_clock_mhz)
{
    if (bus_width_bits <= 0 || mem_clock_mhz <= 0)
        return 1.0;
    /* bytes per transfer x transfers per second (double data rate), GB/s */
    double gbs = bus_width_bits / 8.0 * mem_clock_mhz * 2.0 / 1000.0;
    return gbs / REF_BANDWIDTH_GBS;
}

const char *dev_kind_name(enum dev_kind kind)
{
    switch (kind) {
    case DEV_CPU:
        return "cpu";
    case DEV_GPU:
        return "gpu";
    case DEV_SIM:
        return "sim";
    }
    return "?";
}

/* ---- UUID lookup and CUDA_VISIBLE_DEVICES ---- */

/* Finds the GPU whose UUID is tok[0..len) or starts with it. Returns its
 * index in list, -1 when none matches, -2 when the prefix is ambiguous. */
static long find_uuid(const struct dev_list *list, const char *tok, size_t len)
{
    long found = -1;
    for (size_t i = 0; i < list->n; i++) {
        const char *u = list->v[i].uuid;
        if (strncmp(u, tok, len) != 0)
            continue;
        if (u[len] == '\0')
            return (long)i; /* an exact match beats any prefix match */
        found = found == -1 ? (long)i : -2;
    }
    return found;
}

/* Parses a non-negative decimal integer of at most 9 digits from s[0..len).
 * Returns it, or -1 when s is not such a number. */
static long parse_small_uint(const char *s, size_t len)
{
    if (len == 0 || len > 9)
        return -1;
    long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Resolves one CUDA_VISIBLE_DEVICES entry (already trimmed) against list.
 * Returns the GPU's index in list, or -1 when CUDA would stop at this entry. */
static long cvd_entry(const struct dev_list *list, const char *tok, size_t len)
{
    long idx = parse_small_uint(tok, len);
    if (idx >= 0)
        return idx < (long)list->n ? idx : -1;
    if (len > 4 && !strncmp(tok, "GPU-", 4)) {
        long i = find_uuid(list, tok, len);
        return i >= 0 ? i : -1;
    }
    return -1; /* negative numbers, MIG-..., anything else */
}

int dev_filter_visible(struct dev_list *list, const char *cvd)
{
    if (!cvd)
        return 0;
    size_t n = list->n;
    struct dev_info *v = malloc((n ? n : 1) * sizeof *v);
    bool *taken = calloc(n ? n : 1, sizeof *taken);
    if (!v || !taken) {
        free(v);
        free(taken);
        return -ENOMEM;
    }
    size_t k = 0;
    const char *p = cvd;
    while (*p) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && isspace((unsigned char)*a))
            a++;
        while (b > a && isspace((unsigned char)b[-1]))
            b--;
        long i = cvd_entry(list, a, (size_t)(b - a));
        if (i < 0 || taken[i])
            break; /* CUDA ignores this entry and everything after it */
        taken[i] = true;
        v[k++] = list->v[i];
        p = *end ? end + 1 : end;
    }
    free(taken);
    free(list->v);
    list->v = v;
    list->n = k;
    return 0;
}

/* ---- spec parser ---- */

/* Where a spec came from and where its error message goes. */
struct spec_ctx {
    const char *spec;  /* the whole spec, for the message */
    const char *label; /* "--devices" or "SHOTQ_DEVICES" */
    char *err;         /* message buffer */
    size_t errlen;     /* its size */
};

/* Writes "LABEL 'SPEC': position N: expected WHAT, got 'TOKEN'" to c->err,
 * where N is the 1-based position of at and TOKEN runs from at to the next
 * ',' or ':'. Returns -EINVAL. */
static int spec_error(const struct spec_ctx *c, const char *at, const char *what)
{
    size_t len = strcspn(at, ",:");
    if (len == 0 && *at)
        len = 1;
    size_t pos = (size_t)(at - c->spec) + 1;
    char spec[256], tok[128];
    util_escape(c->spec, UTIL_ESC_ALL, spec, sizeof spec);
    if (len == 0)
        snprintf(c->err, c->errlen, "%s '%s': position %zu: expected %s, got end of spec",
                 c->label, spec, pos, what);
    else
        snprintf(c->err, c->errlen, "%s '%s': position %zu: expected %s, got '%s'",
                 c->label, spec, pos, what, util_escape(at, len, tok, sizeof tok));
    return -EINVAL;
}

/* Scans an unsigned decimal integer at *p into *val if it lies in [lo, hi].
 * Returns true and advances *p past it; false (nothing changed) when there
 * are no digits or the value is out of range. */
static bool scan_uint(const char **p, uint64_t lo, uint64_t hi, uint64_t *val)
{
    const char *s = *p;
    uint64_t v = 0;
    if (!isdigit((unsigned char)*s))
        return false;
    for (; isdigit((unsigned char)*s); s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (hi - d) / 10)
            return false; /* above hi, and possibly above UINT64_MAX */
        v = v * 10 + d;
    }
    if (v < lo)
        return false;
    *val = v;
    *p = s;
    return true;
}

/* Scans a positive finite decimal number (digits, optional fraction and
 * exponent; no sign, hex, inf or nan, so a following 'x' is never part of it)
 * at *p. Returns true, stores it and advances *p; false leaves both alone. */
static bool scan_speed(const char **p, double *val)
{
    const char *s = *p;
    size_t ndig = 0;
    for (; isdigit((unsigned char)*s); s++)
        ndig++;
    if (*s == '.')
        for (s++; isdigit((unsigned char)*s); s++)
            ndig++;
    if (ndig == 0)
        return false;
    if (*s == 'e' || *s == 'E') {
        const char *e = s + 1;
        if (*e == '+' || *e == '-')
            e++;
        if (isdigit((unsigned char)*e)) {
            while (isdigit((unsigned char)*e))
                e++;
            s = e;
        }
    }
    char buf[64];
    size_t len = (size_t)(s - *p);
    if (len >= sizeof buf)
        return false;
    memcpy(buf, *p, len);
    buf[len] = '\0';
    double v = strtod(buf, NULL);
    if (!(v > 0) || !isfinite(v))
        return false;
    *val = v;
    *p = s;
    return true;
}

/* True for the characters a sim device name may contain. */
static bool is_name_char(char ch)
{
    return isalnum((unsigned char)ch) || ch == '_' || ch == '.' || ch == '-';
}

/* Parses one sim entry NAME:SPEED[:MEM_MIB][xCOUNT] at *p into *e and
 * advances *p to the character after it. Returns 0 or -EINVAL (message in
 * c->err). */
static int parse_sim_entry(const struct spec_ctx *c, const char **p,
                           struct dev_sim_entry *e)
{
    const char *s = *p, *name = s;
    while (is_name_char(*s))
        s++;
    size_t nlen = (size_t)(s - name);
    if (nlen == 0)
        return spec_error(c, s, "a device name ([A-Za-z0-9_.-])");
    if (nlen >= sizeof e->name)
        return spec_error(c, name, "a device name of at most 95 characters");
    if (*s != ':')
        return spec_error(c, s, "':' and a speed after the device name");
    memcpy(e->name, name, nlen);
    e->name[nlen] = '\0';
    s++;
    if (!scan_speed(&s, &e->speed))
        return spec_error(c, s, "a speed (positive number)");
    e->mem_mib = SIM_DEFAULT_MEM_MIB;
    e->count = 1;
    const char *next = "':MEM_MIB', 'xCOUNT', ',' or end of spec";
    if (*s == ':') {
        s++;
        if (!scan_uint(&s, 1, MAX_MEM_MIB, &e->mem_mib))
            return spec_error(c, s, "a memory size in MiB (positive integer)");
        next = "'xCOUNT', ',' or end of spec";
    }
    if (*s == 'x') {
        uint64_t cnt;
        s++;
        if (!scan_uint(&s, 1, MAX_SIM_COUNT, &cnt))
            return spec_error(c, s, "a device count (1..1000000)");
        e->count = (unsigned)cnt;
        next = "',' or end of spec";
    }
    if (*s != ',' && *s != '\0')
        return spec_error(c, s, next);
    *p = s;
    return 0;
}

/* Number of comma-separated items in p (1 for a string without commas). */
static size_t count_items(const char *p)
{
    size_t n = 1;
    for (; *p; p++)
        n += *p == ',';
    return n;
}

/* Parses the entries after "sim:" (at p) into a new array *out of *n entries
 * (caller frees). Returns 0, -EINVAL (message in c->err, *out NULL) or
 * -ENOMEM. */
static int parse_sim(const struct spec_ctx *c, const char *p, struct dev_sim_entry **out,
                     size_t *n)
{
    size_t cap = count_items(p);
    struct dev_sim_entry *v = calloc(cap, sizeof *v);
    if (!v)
        return -ENOMEM;
    size_t k = 0, total = 0;
    for (;;) {
        const char *start = p;
        int rc = parse_sim_entry(c, &p, &v[k]);
        total += v[k].count;
        if (rc == 0 && total > MAX_SIM_COUNT)
            rc = spec_error(c, start, "at most 1000000 simulated devices in all");
        if (rc < 0) {
            free(v);
            return rc;
        }
        k++;
        if (*p == '\0')
            break;
        p++; /* the ',' */
    }
    *out = v;
    *n = k;
    return 0;
}

/* One GPU named by a spec: an index into the visible GPUs or a UUID. */
struct gpu_sel {
    const char *at; /* where it starts in the spec, for messages */
    size_t len;     /* its length */
    long index;     /* >= 0 for an index, -1 for a UUID */
};

/* Parses a GPU list "0,2" / "GPU-...,..." into a new array *out of *n
 * selections pointing into c->spec (caller frees). Returns 0, -EINVAL
 * (message in c->err) or -ENOMEM. */
static int parse_gpu_list(const struct spec_ctx *c, struct gpu_sel **out, size_t *n)
{
    const char *p = c->spec;
    size_t cap = count_items(p);
    struct gpu_sel *v = calloc(cap, sizeof *v);
    if (!v)
        return -ENOMEM;
    size_t k = 0;
    for (;;) {
        const char *s = p;
        size_t len = strcspn(s, ",");
        long idx = parse_small_uint(s, len);
        bool uuid = len > 4 && !strncmp(s, "GPU-", 4) &&
                    strspn(s + 4, "0123456789abcdefABCDEF-") >= len - 4;
        if (idx < 0 && !uuid) {
            free(v);
            if (k == 0)
                return spec_error(c, s,
                                  "auto, cpu[:N], sim:NAME:SPEED[:MEM_MIB][xCOUNT], "
                                  "a GPU index or a GPU UUID (GPU-...)");
            return spec_error(c, s, "a GPU index or a GPU UUID (GPU-...)");
        }
        v[k++] = (struct gpu_sel){s, len, uuid ? -1 : idx};
        p = s + len;
        if (*p == '\0')
            break;
        p++;
    }
    *out = v;
    *n = k;
    return 0;
}

/* ---- discovery ---- */

/* Lists this node's GPUs from the first GPU back end that works, then keeps
 * those CUDA_VISIBLE_DEVICES shows. Returns 0 and fills *out (may be empty
 * when CUDA_VISIBLE_DEVICES hides all), -ENODEV with the reasons in why when
 * no back end works, or -ENOMEM. */
static int probe_gpus(struct dev_list *out, char *why, size_t whylen)
{
    static const struct dev_request none = {0};
    size_t used = 0;
    why[0] = '\0';
    for (size_t b = 0; b < NELEM(gpu_backends); b++) {
        char err[256] = "";
        int rc = gpu_backends[b]->probe(&none, out, err, sizeof err);
        if (rc == 0) {
            rc = dev_filter_visible(out, getenv("CUDA_VISIBLE_DEVICES"));
            if (rc < 0)
                dev_list_free(out);
            return rc;
        }
        if (rc == -ENOMEM)
            return rc;
        log_msg(LOG_DEBUG, "devices: %s unavailable: %s", gpu_backends[b]->name, err);
        int w = snprintf(why + used, whylen - used, "%s%s: %s", used ? "; " : "",
                         gpu_backends[b]->name, err);
        if (w > 0)
            used += (size_t)w < whylen - used ? (size_t)w : whylen - used - 1;
    }
    return -ENODEV;
}

/* Finds the GPU one selection names among the visible gpus. Returns its index
 * in gpus, or -1 with what the spec should have said in what[whatlen]. */
static long resolve_sel(const struct gpu_sel *sel, const struct dev_list *gpus,
                        char *what, size_t whatlen)
{
    if (sel->index >= (long)gpus->n) {
        if (gpus->n)
            snprintf(what, whatlen, "a visible GPU index (0..%zu)", gpus->n - 1);
        else
            snprintf(what, whatlen, "a visible GPU index (none visible)");
        return -1;
    }
    if (sel->index >= 0)
        return sel->index;
    long g = find_uuid(gpus, sel->at, sel->len);
    if (g < 0)
        snprintf(what, whatlen, "%s",
                 g == -2 ? "a GPU UUID prefix that matches one GPU"
                         : "the UUID of a visible GPU");
    return g < 0 ? -1 : g;
}

/* Appends to out the visible GPUs sel names, in spec order. Returns 0,
 * -EINVAL for an unknown, ambiguous or repeated GPU (message in c->err), or
 * -ENOMEM; on error out is as it was. */
static int select_gpus(const struct spec_ctx *c, const struct dev_list *gpus,
                       const struct gpu_sel *sel, size_t nsel, struct dev_list *out)
{
    char what[96];
    size_t n0 = out->n;
    for (size_t i = 0; i < nsel; i++) {
        long g = resolve_sel(&sel[i], gpus, what, sizeof what);
        for (size_t j = n0; g >= 0 && j < out->n; j++)
            if (out->v[j].ordinal == gpus->v[g].ordinal) {
                snprintf(what, sizeof what, "each GPU once");
                g = -1;
            }
        if (g < 0) {
            dev_list_truncate(out, n0);
            return spec_error(c, sel[i].at, what);
        }
        if (dev_list_append(out, &gpus->v[g]) < 0) {
            dev_list_truncate(out, n0);
            return -ENOMEM;
        }
    }
    return 0;
}

/* Discovers the GPUs a GPU-list spec names. Returns 0, -EINVAL, -ENODEV
 * (message in c->err) or -ENOMEM. */
static int discover_gpus(const struct spec_ctx *c, struct dev_list *out)
{
    struct gpu_sel *sel = NULL;
    size_t nsel = 0;
    int rc = parse_gpu_list(c, &sel, &nsel);
    if (rc < 0)
        return rc;
    struct dev_list gpus = {0};
    char why[512];
    rc = probe_gpus(&gpus, why, sizeof why);
    if (rc == -ENODEV)
        snprintf(c->err, c->errlen, "%s '%s': no GPU back end works (%s)", c->label,
                 c->spec, why);
    else if (rc == 0)
        rc = select_gpus(c, &gpus, sel, nsel, out);
    dev_list_free(&gpus);
    free(sel);
    return rc;
}

/* auto: the visible GPUs of the first GPU back end that works, else one CPU
 * device. Returns 0 or -ENOMEM. */
static int discover_auto(struct dev_list *out)
{
    char why[512];
    int rc = probe_gpus(out, why, sizeof why);
    if (rc == 0 && out->n > 0)
        return 0;
    if (rc == -ENOMEM)
        return rc;
    dev_list_free(out);
    const struct dev_request req = {.cpu_count = 1};
    return dev_cpu_ops.probe(&req, out, why, sizeof why);
}

/* Dispatches c->spec to the back end it names; appends to out (empty on
 * entry). Returns 0 or -errno with the message in c->err. */
static int discover_spec(const struct spec_ctx *c, struct dev_list *out)
{
    const char *s = c->spec;
    if (!strcmp(s, "auto"))
        return discover_auto(out);
    if (!strncmp(s, "cpu", 3) && (s[3] == '\0' || s[3] == ':')) {
        struct dev_request req = {.cpu_count = 1};
        const char *p = s + 3;
        if (*p == ':') {
            uint64_t n;
            p++;
            if (!scan_uint(&p, 1, MAX_COUNT, &n))
                return spec_error(c, p, "a CPU device count (1..4096)");
            req.cpu_count = (unsigned)n;
        }
        if (*p)
            return spec_error(c, p, "end of spec after cpu:N");
        return dev_cpu_ops.probe(&req, out, c->err, c->errlen);
    }
    if (!strncmp(s, "sim", 3) && (s[3] == '\0' || s[3] == ':')) {
        if (s[3] == '\0')
            return spec_error(c, s + 3, "':' and simulated devices");
        struct dev_request req = {0};
        struct dev_sim_entry *sim = NULL;
        int rc = parse_sim(c, s + 4, &sim, &req.nsim);
        if (rc < 0)
            return rc;
        req.sim = sim;
        rc = dev_sim_ops.probe(&req, out, c->err, c->errlen);
        free(sim);
        return rc;
    }
    return discover_gpus(c, out);
}

int dev_discover(const char *spec, struct dev_list *out, char *err, size_t errlen)
{
    struct spec_ctx c = {spec, "--devices", err, errlen};
    if (!spec || !*spec) {
        c.spec = getenv("SHOTQ_DEVICES");
        c.label = "SHOTQ_DEVICES";
        if (!c.spec || !*c.spec)
            c.spec = "auto";
    }
    if (errlen)
        err[0] = '\0';
    *out = (struct dev_list){0};
    int rc = discover_spec(&c, out);
    if (rc < 0) {
        dev_list_free(out);
        if (rc == -ENOMEM && errlen && !err[0])
            snprintf(err, errlen, "%s '%s': out of memory", c.label, c.spec);
    }
    return rc;
}

int dev_refresh(struct dev_list *list)
{
    int first = 0;
    for (size_t b = 0; b < NELEM(all_backends); b++) {
        const struct dev_ops *ops = all_backends[b];
        if (!ops->refresh)
            continue;
        bool mine = false;
        for (size_t i = 0; i < list->n && !mine; i++)
            mine = !strcmp(list->v[i].source, ops->name);
        if (!mine)
            continue;
        /* Keep going after a failure so one broken back end does not stop
         * the others; report the first error. */
        int rc = ops->refresh(list);
        if (rc < 0 && first == 0)
            first = rc;
    }
    return first;
}

void dev_proc_add(struct dev_proc *out, size_t cap, size_t *n, size_t dev, long pid,
                  uint64_t mem)
{
    if (*n < cap)
        out[*n] = (struct dev_proc){dev, pid, mem};
    (*n)++;
}

long dev_procs(const struct dev_list *list, struct dev_proc *out, size_t cap)
{
    size_t n = 0;
    for (size_t b = 0; b < NELEM(all_backends); b++) {
        const struct dev_ops *ops = all_backends[b];
        bool mine = false;
        for (size_t i = 0; i < list->n && !mine; i++)
            mine = list->v[i].kind == DEV_GPU && !strcmp(list->v[i].source, ops->name);
        if (!mine)
            continue;
        if (!ops->procs || ops->procs(list, out, cap, &n) < 0)
            return -ENODEV;
    }
    return (long)n;
}

void dev_shutdown(void)
{
    for (size_t b = 0; b < NELEM(all_backends); b++)
        if (all_backends[b]->shutdown)
            all_backends[b]->shutdown();
}
