/* devices_sim: simulated devices for tests and planning (`sim:` specs). They
 * never change: refresh leaves them alone. */
#include <errno.h>
#include <string.h>

#include "devices/devices_int.h"

/* Counts the entries in out whose kind is DEV_SIM and whose name is name, so
 * repeated names get ordinals 0..n-1 across all sim entries. */
static int sim_next_ordinal(const struct dev_list *out, const char *name)
{
    int n = 0;
    for (size_t i = 0; i < out->n; i++)
        if (out->v[i].kind == DEV_SIM && !strcmp(out->v[i].name, name))
            n++;
    return n;
}

/* Appends COUNT devices per entry of req->sim. Returns 0, or -ENOMEM with out
 * as it was. */
static int sim_probe(const struct dev_request *req, struct dev_list *out, char *err,
                     size_t errlen)
{
    (void)err;
    (void)errlen;
    size_t n0 = out->n;
    for (size_t e = 0; e < req->nsim; e++) {
        const struct dev_sim_entry *s = &req->sim[e];
        for (unsigned k = 0; k < s->count; k++) {
            struct dev_info d = {0};
            dev_strlcpy(d.name, s->name, sizeof d.name);
            dev_fill_node(&d);
            d.kind = DEV_SIM;
            d.ordinal = sim_next_ordinal(out, s->name);
            d.mem_total = s->mem_mib << 20;
            d.mem_free = d.mem_total;
            d.util_pct = 0;
            d.nprocs = 0;
            d.speed = s->speed;
            dev_strlcpy(d.source, "sim", sizeof d.source);
            if (dev_list_append(out, &d) < 0) {
                dev_list_truncate(out, n0);
                return -ENOMEM;
            }
        }
    }
    return 0;
}

const struct dev_ops dev_sim_ops = {"sim", sim_probe, NULL, NULL};
