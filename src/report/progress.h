/* progress: what a person watching a run sees on stderr. On a terminal, one
 * status block redrawn in place; otherwise a plain line every few seconds. */
#ifndef SHOTQ_PROGRESS_H
#define SHOTQ_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct progress_dev {
    const char *name;    /* device name */
    double speed;        /* speed estimate, weight per second */
    double rel;          /* speed relative to the fastest device (0..1), priors put on
                            the learned scale (progress_rel_speeds) */
    bool learned;        /* speed learned from a task done on it (else its prior) */
    int running;         /* tasks running */
    long long task;      /* one running task id, -1 if idle */
    double task_elapsed; /* its elapsed seconds */
    bool quarantined;
};

struct progress {
    FILE *f;     /* stderr */
    bool tty;    /* redraw in place */
    int lines;   /* lines drawn last time (to move back over them) */
    double last; /* time of the last plain line */
};

struct progress_state {
    size_t done, failed, running, total;
    double elapsed, eta; /* eta < 0: unknown */
    const char *eta_basis; /* "prior" (no task finished yet), "learned", "done" */
    const struct progress_dev *devs;
    size_t ndevs;
};

/* Fills rel[d] with device d's speed relative to the fastest device (0..1).
 * speed[d] is learned where learned[d], else prior[d] stands: a prior is in
 * other units than a learned speed (weight per second of the run's real
 * tasks), so priors are put on the learned scale by the geometric mean of
 * speed / prior over the learned devices (1 when none learned) before
 * comparing. prior[d] > 0. Pure. */
void progress_rel_speeds(const double *speed, const double *prior, const bool *learned,
                         size_t n, double *rel);

/* Draws the status (tty: every call; plain: at most every 5 s unless final). */
void progress_draw(struct progress *p, const struct progress_state *s, bool final);

/* Removes the status block from a terminal (before printing other lines). */
void progress_clear(struct progress *p);

#endif
