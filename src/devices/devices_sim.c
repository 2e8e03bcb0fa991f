/* devices_sim: simulated devices for tests and planning (`sim:` specs). They
 * never change: refresh leaves them alone. */
#include <errno.h>
#include <string.h>

#include "devices/devices_int.h"

/* Counts the simulated devices named name among v[0..n), so that repeated
 * names get ordinals 0..k-1 across all sim entries. */
static int sim_ordinal_base(const struct dev_info *v, size_t n, const char *name)
{
    int k = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i].kind == DEV_SIM && !strcmp(v[i].name, name))
            k++;
    return k;
}

/* Appends COUNT devices per entry of req->sim. Returns 0, or -ENOMEM with out
 * as it was. */
static int sim_probe(const struct dev_request *req, struct dev_list *out, char *err,
                     size_t errlen)
{
    (void)err;
    (void)errlen;
    size_t total = 0;
    for (size_t e = 0; e < req->nsim; e++)
        total += req->sim[e].count;
    struct dev_info *d = dev_list_grow(out, total);
    if (!d)
        return -ENOMEM;
    size_t before = (size_t)(d - out->v); /* entries that were already there */
    for (size_t e = 0; e < req->nsim; e++) {
        const struct dev_sim_entry *s = &req->sim[e];
        int base = sim_ordinal_base(out->v, before, s->name);
        for (unsigned k = 0; k < s->count; k++, d++) {
            dev_strlcpy(d->name, s->name, sizeof d->name);
            dev_fill_node(d);
            d->kind = DEV_SIM;
            d->ordinal = base + (int)k;
            d->mem_total = s->mem_mib << 20;
            d->mem_free = d->mem_total;
            d->util_pct = 0;
            d->nprocs = 0;
            d->speed = s->speed;
            dev_strlcpy(d->source, "sim", sizeof d->source);
        }
        before += s->count;
    }
    return 0;
}

const struct dev_ops dev_sim_ops = {"sim", sim_probe, NULL, NULL, NULL};
