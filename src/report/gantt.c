/* gantt: SVG Gantt chart of a run (see report.h). One row per device slot;
 * bars for the last attempt of every task (green done, red failed), failed
 * earlier attempts as red bars with a cross, cancelled speculative copies as
 * grey bars; retried tasks outlined. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/atomic_file.h"
#include "report/report.h"

#define ROW_H 22       /* pixels per slot row */
#define LEFT 240       /* label column: device name and node */
#define WIDTH 1100     /* plot width */
#define MAX_BARS 20000 /* above this, only failures are drawn per bar */

/* Row of (device, slot), rows numbered device by device. */
static int row_of(const struct run_record *r, int dev, int slot)
{
    int row = 0;
    for (int d = 0; d < dev; d++)
        row += r->devs[d].slots;
    return row + slot;
}

/* Escapes text for SVG (names come from devices and may hold '&' or '<'). */
static void put_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else
            fputc(*s, f);
    }
}

/* Draws task t's bar in the row at y (sx: pixels per second). */
static void task_bar(FILE *f, const struct rec_task *t, int y, double sx, bool all_bars)
{
    double w = (t->end_s - t->start_s) * sx;
    fprintf(f,
            "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"%s\" "
            "stroke=\"%s\" stroke-width=\"%s\"><title>task %lld: %.3f-%.3f s, %d "
            "attempt(s), exit %d</title></rect>\n",
            LEFT + t->start_s * sx, y, w > 0.5 ? w : 0.5, ROW_H - 6,
            t->status == REC_DONE ? "#4caf50" : "#e53935",
            t->attempts > 1 ? "#ff9800" : "#2e7d32", t->attempts > 1 ? "2" : "0.5",
            (long long)t->id, t->start_s, t->end_s, t->attempts, t->exit_code);
    if (all_bars && w > 18)
        fprintf(f, "<text x=\"%.2f\" y=\"%d\" font-size=\"10\">%lld</text>\n",
                LEFT + t->start_s * sx + 2, y + 12, (long long)t->id);
}

int report_write_gantt(const char *path, const struct run_record *r, char *err,
                       size_t errlen)
{
    struct atomic_file a;
    int rc = atomic_open(&a, path, err, errlen);
    if (rc)
        return rc;
    FILE *f = a.f;
    int rows = row_of(r, (int)r->ndevs, 0);
    bool multi_node = false; /* label rows with their node when there are several */
    for (size_t d = 1; d < r->ndevs; d++)
        multi_node |= strcmp(r->devs[d].node, r->devs[0].node) != 0;
    double span = r->makespan_s > 0 ? r->makespan_s : 1;
    double sx = WIDTH / span;
    int top = 40, height = top + rows * ROW_H + 30 + (int)r->ndevs * 16 + 20;
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "font-family=\"sans-serif\" font-size=\"12\">\n",
            LEFT + WIDTH + 20, height);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(f,
            "<text x=\"10\" y=\"20\" font-size=\"14\">shotq run: policy %s, makespan "
            "%.3f s, lower bound %.3f s</text>\n",
            r->policy, r->makespan_s, r->lower_bound_s);
    for (size_t d = 0; d < r->ndevs; d++) {
        for (int s = 0; s < r->devs[d].slots; s++) {
            int y = top + row_of(r, (int)d, s) * ROW_H;
            fprintf(f,
                    "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>\n",
                    LEFT, y, WIDTH, ROW_H - 2,
                    (row_of(r, (int)d, s) % 2) ? "#f4f4f4" : "#eaeaea");
            fprintf(f, "<text x=\"5\" y=\"%d\">[%zu.%d] ", y + 15, d, s);
            put_text(f, r->devs[d].name);
            if (multi_node) {
                fputs(" @", f);
                put_text(f, r->devs[d].node);
            }
            fputs("</text>\n", f);
        }
    }
    /* Time axis ticks. */
    for (int k = 0; k <= 10; k++) {
        double t = span * k / 10;
        int x = LEFT + (int)(t * sx);
        fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#bbb\"/>\n", x,
                top, x, top + rows * ROW_H);
        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%.3g s</text>\n", x,
                top + rows * ROW_H + 14, t);
    }
    bool all_bars = r->ntasks <= MAX_BARS;
    for (size_t i = 0; i < r->ntasks; i++) {
        const struct rec_task *t = &r->tasks[i];
        if (t->dev < 0 || (t->status != REC_DONE && t->status != REC_FAILED))
            continue;
        if (!all_bars && t->status == REC_DONE)
            continue;
        /* A multi-device task: one bar on each of its devices (slot 0 of
         * the others: the slot its worker held there is not recorded). */
        for (uint16_t k = 0; k < (t->ndevs > 1 ? t->ndevs : 1); k++) {
            int32_t dv = k ? r->devpool[t->devs_off + k] : t->dev;
            int y = top + row_of(r, dv, k ? 0 : t->slot) * ROW_H + 2;
            task_bar(f, t, y, sx, all_bars);
        }
    }
    for (size_t k = 0; k < r->nfails; k++) {
        const struct rec_fail *x = &r->fails[k];
        int y = top + row_of(r, x->dev, x->slot) * ROW_H + 2;
        double x0 = LEFT + x->start_s * sx, w = (x->end_s - x->start_s) * sx;
        if (w < 2)
            w = 2;
        fprintf(f,
                "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"#e53935\" "
                "opacity=\"0.8\"><title>task %lld failed: %s</title></rect>\n",
                x0, y, w, ROW_H - 6, (long long)r->tasks[x->task].id, x->why);
        fprintf(f, "<path d=\"M%.2f %d L%.2f %d M%.2f %d L%.2f %d\" stroke=\"black\"/>\n",
                x0, y, x0 + w, y + ROW_H - 6, x0, y + ROW_H - 6, x0 + w, y);
    }
    for (size_t k = 0; k < r->ncancels; k++) {
        const struct rec_fail *x = &r->cancels[k];
        int y = top + row_of(r, x->dev, x->slot) * ROW_H + 2;
        double w = (x->end_s - x->start_s) * sx;
        fprintf(f,
                "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"#9e9e9e\" "
                "opacity=\"0.8\"><title>task %lld %s</title></rect>\n",
                LEFT + x->start_s * sx, y, w > 2 ? w : 2, ROW_H - 6,
                (long long)r->tasks[x->task].id, x->why);
    }
    /* Idle summary per device. */
    int y = top + rows * ROW_H + 34;
    for (size_t d = 0; d < r->ndevs; d++, y += 16) {
        const struct rec_device *v = &r->devs[d];
        double cap = span * v->slots;
        double idle = cap - v->busy_s;
        if (idle < 0)
            idle = 0;
        fprintf(f, "<text x=\"10\" y=\"%d\">[%zu] ", y, d);
        put_text(f, v->name);
        fprintf(f,
                ": %lld tasks, busy %.2f s, idle %.2f s (%.1f%%), speed %.3g%s</text>\n",
                (long long)v->tasks_done, v->busy_s, idle, cap > 0 ? 100 * idle / cap : 0,
                v->speed_estimate, v->quarantined ? ", quarantined" : "");
    }
    fputs("</svg>\n", f);
    return atomic_close(&a, true, err, errlen);
}
