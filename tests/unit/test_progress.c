/* Unit tests of report/progress: the ETA says when it is a prior, and
 * device speeds are shown relative to the fastest device, learned or prior. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "report/progress.h"

/* Draws s (tty or plain, final) into a string (caller frees). */
static char *draw(const struct progress_state *s, bool tty)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    struct progress p = {.f = f, .tty = tty};
    progress_draw(&p, s, true);
    fclose(f);
    return buf;
}

static void test_prior_label_and_relative_speeds(void **state)
{
    (void)state;
    struct progress_dev devs[2] = {
        {.name = "fast", .speed = 0.5, .rel = 1.0, .learned = true, .task = 3,
         .task_elapsed = 1.5, .running = 1},
        {.name = "slow", .speed = 0.4, .rel = 0.4, .learned = false, .task = -1},
    };
    struct progress_state s = {.done = 0, .total = 30, .running = 4, .elapsed = 1.0,
                               .eta = 21.0, .eta_basis = "prior", .devs = devs,
                               .ndevs = 2};
    char *out = draw(&s, false);
    assert_non_null(strstr(out, "ETA 21.0 s (prior)\n"));
    free(out);
    out = draw(&s, true);
    assert_non_null(strstr(out, "ETA 21.0 s (prior)\n"));
    assert_non_null(strstr(out, "[0] fast                     100% of fastest (learned)  task 3 (1.5 s)"));
    assert_non_null(strstr(out, "[1] slow                      40% of fastest (prior)  idle"));
    free(out);
    /* Learned: no label; unknown: "?". */
    s.eta_basis = "learned";
    out = draw(&s, false);
    assert_non_null(strstr(out, "ETA 21.0 s\n"));
    free(out);
    s.eta = -1;
    s.eta_basis = "prior";
    out = draw(&s, false);
    assert_non_null(strstr(out, "ETA ? (prior)\n"));
    free(out);
}

/* Relative speeds: priors go on the learned scale, then all / the fastest. */
static void test_rel_speeds(void **state)
{
    (void)state;
    double rel[4];
    /* Nothing learned: the priors' ratios. */
    progress_rel_speeds((double[]){1, 1, 0.4, 0.4}, (double[]){1, 1, 0.4, 0.4},
                        (bool[]){false, false, false, false}, 4, rel);
    assert_true(fabs(rel[0] - (1.0)) < 1e-12);
    assert_true(fabs(rel[2] - (0.4)) < 1e-12);
    /* The fast ones learned 2.5 weight/s (0.4 s tasks), the slow ones not yet:
     * their prior 0.4 is 1 on the learned scale (x 2.5), 40 % of fastest, not
     * 16 % (0.4 / 2.5, comparing raw). */
    progress_rel_speeds((double[]){2.5, 2.5, 0.4, 0.4}, (double[]){1, 1, 0.4, 0.4},
                        (bool[]){true, true, false, false}, 4, rel);
    assert_true(fabs(rel[0] - (1.0)) < 1e-12);
    assert_true(fabs(rel[3] - (0.4)) < 1e-12);
    /* A slow device that learned faster than its prior said leads. */
    progress_rel_speeds((double[]){2.0, 3.0}, (double[]){1, 0.5}, (bool[]){true, true}, 2,
                        rel);
    assert_true(fabs(rel[0] - (2.0 / 3.0)) < 1e-12);
    assert_true(fabs(rel[1] - (1.0)) < 1e-12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prior_label_and_relative_speeds),
        cmocka_unit_test(test_rel_speeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
