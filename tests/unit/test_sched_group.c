/* Unit tests of the policy core's multi-device tasks (issue 9 item 5):
 * groups of one node, EASY backfilling, no starvation, group speeds. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "sched/simrun.h"
#include "test_sched_util.h"

/* Creates a dynamic scheduler over devices of the given speeds and nodes,
 * and tasks of the given weights and widths (not started). */
static struct sched *make(const double *speed, const int *node, size_t nd,
                          const double *w, const int *width, size_t nt)
{
    struct sched_params p = sched_params_default();
    struct sched *s = sched_create(&p);
    assert_non_null(s);
    for (size_t d = 0; d < nd; d++)
        assert_int_equal(sched_add_device(s, speed[d], 0, node ? node[d] : 0), (long)d);
    for (size_t i = 0; i < nt; i++) {
        assert_int_equal(sched_add_task(s, w[i], 0), (long)i);
        assert_int_equal(sched_set_task_width(s, i, width[i]), 0);
    }
    return s;
}

/* Expects the next pick to start task on exactly the devices d0, d1. */
static void expect_group(struct sched *s, double now, size_t task, size_t d0, size_t d1)
{
    struct sched_assign a;
    assert_true(sched_pick(s, now, &a));
    assert_int_equal(a.task, task);
    assert_int_equal(a.ndevs, 2);
    assert_int_equal(a.dev, d0);
    assert_int_equal(a.devs[0], d0);
    assert_int_equal(a.devs[1], d1);
}

static void test_group_within_one_node(void **state)
{
    (void)state;
    double sp[] = {1, 1, 1, 1};
    int node[] = {0, 0, 1, 1};
    double w[] = {1, 1, 1};
    int width[] = {1, 2, 2};
    struct sched *s = make(sp, node, 4, w, width, 3);
    /* Longest first: task 0 (1 s), then the 2-wide ones (0.5 s each). */
    assert_int_equal(sched_start(s), 0);
    expect_pick(s, 0, 0, 0);
    /* Devices 1 (node 0) and 2 (node 1) are free, but not of one node: the
     * group is node 1's pair; node 0 has one free device left. */
    expect_group(s, 0, 1, 2, 3);
    expect_none(s, 0);
    sched_finish(s, 0, 1, true);
    expect_group(s, 1, 2, 0, 1);
    size_t g[4];
    assert_int_equal(sched_task_devices(s, 2, g, 4), 2);
    assert_int_equal(g[0], 0);
    assert_int_equal(g[1], 1);
    struct sched_dev_stats ds;
    sched_dev_stats(s, 1, &ds);
    assert_int_equal(ds.running, 1);
    sched_finish(s, 1, 1.5, true);
    sched_finish(s, 2, 1.5, true);
    sched_dev_stats(s, 1, &ds);
    assert_int_equal(ds.running, 0);
    assert_int_equal(ds.tasks_done, 1); /* it ran on device 1 too */
    assert_true(sched_finished(s));
    sched_destroy(s);

    /* No node has 3 devices: refused at start like a task no memory holds. */
    int wide3[] = {3};
    s = make(sp, node, 4, w, wide3, 1);
    assert_int_equal(sched_start(s), -E2BIG);
    assert_int_equal(sched_first_unfit(s), 0);
    sched_destroy(s);
}

static void test_easy_backfill(void **state)
{
    (void)state;
    double sp[] = {1, 1, 1};
    /* Task 0 (4 s) holds device 0; the head after it is the 2-wide task 1
     * (weight 4: 2 s on two); singles 2 (1 s) and 3 (3 s) come behind. */
    double w[] = {4, 4, 1, 3};
    int width[] = {1, 2, 1, 1};
    struct sched *s = make(sp, NULL, 3, w, width, 4);
    assert_int_equal(sched_start(s), 0);
    /* LPT by length: 0 (4), 3 (3), 1 (2), 2 (1). */
    expect_pick(s, 0, 0, 0);
    expect_pick(s, 0, 3, 1);
    /* Head: task 1, needs 2 devices; device 2 is free now, device 1 at 3 s,
     * device 0 at 4 s: reserved {1, 2} until 3. Task 2 (1 s) backfills on
     * device 2, ending before the reservation. */
    expect_pick(s, 0, 2, 2);
    expect_none(s, 0);
    sched_finish(s, 2, 1, true);
    /* At 1 s nothing else may use device 2: the head waits for device 1. */
    expect_none(s, 1);
    sched_finish(s, 3, 3, true);
    expect_group(s, 3, 1, 1, 2);
    sched_finish(s, 1, 5, true);
    sched_finish(s, 0, 5, true);
    assert_true(sched_finished(s));
    sched_destroy(s);
}

static void test_wide_not_starved(void **state)
{
    (void)state;
    double sp[] = {1, 1};
    /* Single task 0 (5 s), the 2-wide task 1 (4 s), singles 2-5 (3 s). */
    double w[] = {5, 8, 3, 3, 3, 3};
    int width[] = {1, 2, 1, 1, 1, 1};
    struct sched *s = make(sp, NULL, 2, w, width, 6);
    assert_int_equal(sched_start(s), 0);
    expect_pick(s, 0, 0, 0);
    /* Head: task 1; device 1 is free, device 0 at 5 s: both reserved until
     * 5 s. Task 2 ends before that and backfills on device 1. */
    expect_pick(s, 0, 2, 1);
    expect_none(s, 0);
    sched_finish(s, 2, 3, true);
    /* Task 3 would end at 6 s, past the reservation: device 1 idles. */
    expect_none(s, 3);
    sched_finish(s, 0, 5, true);
    expect_group(s, 5, 1, 0, 1);
    expect_none(s, 5);
    sched_finish(s, 1, 9, true);
    expect_pick(s, 9, 3, 0);
    expect_pick(s, 9, 4, 1);
    sched_finish(s, 3, 12, true);
    expect_pick(s, 12, 5, 0);
    sched_finish(s, 4, 12, true);
    sched_finish(s, 5, 15, true);
    assert_true(sched_finished(s));
    sched_destroy(s);
}

static void test_group_speed(void **state)
{
    (void)state;
    /* Unequal devices: the group of the two fast ones finishes first. */
    double sp[] = {1, 3, 3};
    double w[] = {6};
    int width[] = {2};
    struct sched *s = make(sp, NULL, 3, w, width, 1);
    assert_int_equal(sched_start(s), 0);
    expect_group(s, 0, 0, 1, 2);
    sched_finish(s, 0, 1, true);
    /* 6 in 1 s on speeds 3 + 3: each learns its share, 3 in 1 s. */
    struct sched_dev_stats d1, d2;
    sched_dev_stats(s, 1, &d1);
    sched_dev_stats(s, 2, &d2);
    assert_true(d1.speed_estimate > 2.99 && d1.speed_estimate < 3.01);
    assert_true(d2.speed_estimate > 2.99 && d2.speed_estimate < 3.01);
    assert_true(sched_task_cost(s, 0) > 5.99 && sched_task_cost(s, 0) < 6.01);
    sched_destroy(s);

    /* Other policies refuse wide tasks. */
    struct sched_params p = sched_params_default();
    p.policy = SCHED_STATIC;
    s = sched_create(&p);
    sched_add_device(s, 1, 0, 0);
    sched_add_device(s, 1, 0, 0);
    sched_add_task(s, 1, 0);
    assert_int_equal(sched_set_task_width(s, 0, 2), 0);
    assert_int_equal(sched_set_task_width(s, 0, SCHED_MAX_WIDTH + 1), -EINVAL);
    assert_int_equal(sched_start(s), -EINVAL);
    sched_destroy(s);
}

static void test_simrun_groups(void **state)
{
    (void)state;
    /* 4 equal devices; the schedule shows each group's devices and no
     * device runs two tasks at once. */
    struct simrun_dev devs[4] = {{1, 0, 0}, {1, 0, 0}, {1, 0, 0}, {1, 0, 0}};
    double w[] = {6, 4, 3, 3, 2, 4, 1, 2, 1};
    int width[] = {2, 2, 1, 1, 1, 2, 1, 1, 1};
    struct simrun_model m = {.width = width, .record = true};
    struct sched_params p = sched_params_default();
    struct simrun_result r;
    assert_int_equal(simrun(&p, devs, 4, w, NULL, 9, 0, &m, &r), 0);
    assert_int_equal(r.tasks_done, 9);
    assert_true(r.makespan_s <= 7.0 + 1e-9); /* optimum: 26 / 4 -> 7 */
    for (size_t i = 0; i < 9; i++) {
        const struct simrun_task *t = &r.tasks[i];
        assert_int_equal(t->ndevs, (size_t)width[i]);
        assert_true(t->end_s - t->start_s > w[i] / width[i] - 1e-9);
        for (size_t j = 0; j < 9; j++)
            for (size_t a = 0; a < t->ndevs && j != i; a++)
                for (size_t b = 0; b < r.tasks[j].ndevs; b++)
                    if (t->devs[a] == r.tasks[j].devs[b])
                        assert_true(t->end_s <= r.tasks[j].start_s + 1e-9 ||
                                    r.tasks[j].end_s <= t->start_s + 1e-9);
        if (t->ndevs == 2)
            assert_true(t->devs[0] != t->devs[1]);
    }
    simrun_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_within_one_node),
        cmocka_unit_test(test_easy_backfill),
        cmocka_unit_test(test_wide_not_starved),
        cmocka_unit_test(test_group_speed),
        cmocka_unit_test(test_simrun_groups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
