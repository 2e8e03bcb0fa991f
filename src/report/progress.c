/* progress: status block / plain progress lines (see progress.h). */
#include "report/progress.h"

#include <math.h>
#include <string.h>

#define MAX_DEV_LINES 16 /* devices listed in the block; more are summarised */

static void fmt_eta(char *buf, size_t len, double eta)
{
    if (!isfinite(eta) || eta < 0)
        snprintf(buf, len, "?");
    else if (eta < 120)
        snprintf(buf, len, "%.1f s", eta);
    else if (eta < 7200)
        snprintf(buf, len, "%.1f min", eta / 60);
    else
        snprintf(buf, len, "%.1f h", eta / 3600);
}

void progress_rel_speeds(const double *speed, const double *prior, const bool *learned,
                         size_t n, double *rel)
{
    double logk = 0, top = 0;
    size_t nl = 0;
    for (size_t d = 0; d < n; d++)
        if (learned[d] && speed[d] > 0) {
            logk += log(speed[d] / prior[d]);
            nl++;
        }
    double k = nl ? exp(logk / (double)nl) : 1;
    for (size_t d = 0; d < n; d++) {
        rel[d] = learned[d] && speed[d] > 0 ? speed[d] : prior[d] * k;
        top = fmax(top, rel[d]);
    }
    for (size_t d = 0; d < n; d++)
        rel[d] = top > 0 ? rel[d] / top : 0;
}

void progress_clear(struct progress *p)
{
    if (!p->tty || p->lines == 0)
        return;
    fprintf(p->f, "\033[%dA\033[J", p->lines);
    p->lines = 0;
    fflush(p->f);
}

void progress_draw(struct progress *p, const struct progress_state *s, bool final)
{
    char eta[48];
    fmt_eta(eta, sizeof eta, s->eta);
    /* Before the first completion the ETA rests on the weights and the speed
     * priors: say so. */
    if (s->eta_basis && !strcmp(s->eta_basis, "prior"))
        strcat(eta, " (prior)");
    if (!p->tty) {
        if (!final && s->elapsed - p->last < 5.0)
            return;
        p->last = s->elapsed;
        fprintf(p->f,
                "shotq: %zu/%zu done, %zu failed, %zu running, %.1f s elapsed, ETA %s\n",
                s->done, s->total, s->failed, s->running, s->elapsed, eta);
        fflush(p->f);
        return;
    }
    progress_clear(p);
    int n = 0;
    double pct = s->total ? 100.0 * (double)s->done / (double)s->total : 100.0;
    fprintf(p->f,
            "shotq: %zu/%zu done (%.0f%%), %zu failed, %zu running, %.1f s, ETA %s\n",
            s->done, s->total, pct, s->failed, s->running, s->elapsed, eta);
    n++;
    for (size_t d = 0; d < s->ndevs && d < MAX_DEV_LINES; d++, n++) {
        const struct progress_dev *v = &s->devs[d];
        if (v->quarantined)
            fprintf(p->f, "  [%zu] %-24.24s quarantined\n", d, v->name);
        else if (v->task >= 0)
            fprintf(p->f, "  [%zu] %-24.24s %3.0f%% of fastest (%s)  task %lld (%.1f s)%s\n",
                    d, v->name, 100 * v->rel, v->learned ? "learned" : "prior", v->task,
                    v->task_elapsed, v->running > 1 ? " +more" : "");
        else
            fprintf(p->f, "  [%zu] %-24.24s %3.0f%% of fastest (%s)  idle\n", d, v->name,
                    100 * v->rel, v->learned ? "learned" : "prior");
    }
    if (s->ndevs > MAX_DEV_LINES) {
        fprintf(p->f, "  ... and %zu more devices\n", s->ndevs - MAX_DEV_LINES);
        n++;
    }
    p->lines = final ? 0 : n;
    fflush(p->f);
}
