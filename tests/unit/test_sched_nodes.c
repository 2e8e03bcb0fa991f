/* Unit tests of the policy core with devices on several nodes: a failed task
 * is retried preferably on another node, without idling devices. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sched/sched.h"

/* Devices of speed 3, 2, 1 (picked in that order) on the given nodes; n
 * tasks of weight 1; no tail guard, so that only the retry rule decides. */
static struct sched *make(const int *nodes, size_t nd, size_t nt)
{
    struct sched_params p = sched_params_default();
    p.tail_guard = false;
    struct sched *s = sched_create(&p);
    assert_non_null(s);
    for (size_t d = 0; d < nd; d++)
        assert_int_equal(sched_add_device(s, 3.0 - (double)d, 0, nodes[d]), (long)d);
    for (size_t i = 0; i < nt; i++)
        assert_int_equal(sched_add_task(s, 1.0, 0), (long)i);
    assert_int_equal(sched_start(s), 0);
    return s;
}

static void expect_pick(struct sched *s, double now, size_t task, size_t dev, int attempt)
{
    struct sched_assign a;
    assert_true(sched_pick(s, now, &a));
    assert_int_equal(a.task, task);
    assert_int_equal(a.dev, dev);
    assert_int_equal(a.attempt, attempt);
}

static void expect_none(struct sched *s, double now)
{
    struct sched_assign a;
    assert_false(sched_pick(s, now, &a));
}

/* Task 0 fails on device 0 (node 0). Device 1, on the same node, takes fresh
 * work first; device 2, on node 1, takes the retry. */
static void test_retry_prefers_another_node(void **state)
{
    (void)state;
    int nodes[] = {0, 0, 1};
    struct sched *s = make(nodes, 3, 8);
    expect_pick(s, 0, 0, 0, 1);
    expect_pick(s, 0, 1, 1, 1);
    expect_pick(s, 0, 2, 2, 1);
    expect_none(s, 0);
    assert_int_equal(sched_finish(s, 0, 0.5, false), SCHED_OUT_RETRY);
    expect_pick(s, 0.5, 3, 0, 1); /* not its own failure again */
    assert_int_equal(sched_finish(s, 1, 0.6, true), SCHED_OUT_DONE);
    expect_pick(s, 0.6, 4, 1, 1); /* same node: fresh task first */
    assert_int_equal(sched_finish(s, 2, 1.0, true), SCHED_OUT_DONE);
    expect_pick(s, 1.0, 0, 2, 2); /* the other node takes the retry */
    sched_destroy(s);
}

/* With nothing fresh left, a device of the same node takes the retry rather
 * than idle. */
static void test_retry_same_node_when_nothing_else(void **state)
{
    (void)state;
    int nodes[] = {0, 0, 1};
    struct sched *s = make(nodes, 3, 3);
    expect_pick(s, 0, 0, 0, 1);
    expect_pick(s, 0, 1, 1, 1);
    expect_pick(s, 0, 2, 2, 1);
    assert_int_equal(sched_finish(s, 0, 0.5, false), SCHED_OUT_RETRY);
    expect_none(s, 0.5); /* device 0 does not retry its own failure */
    assert_int_equal(sched_finish(s, 1, 0.6, true), SCHED_OUT_DONE);
    expect_pick(s, 0.6, 0, 1, 2);
    sched_destroy(s);
}

/* One node: a retry goes to the next free device before fresh work, as it
 * always did. */
static void test_retry_single_node_unchanged(void **state)
{
    (void)state;
    int nodes[] = {0, 0, 0};
    struct sched *s = make(nodes, 3, 8);
    expect_pick(s, 0, 0, 0, 1);
    expect_pick(s, 0, 1, 1, 1);
    expect_pick(s, 0, 2, 2, 1);
    assert_int_equal(sched_finish(s, 0, 0.5, false), SCHED_OUT_RETRY);
    expect_pick(s, 0.5, 3, 0, 1);
    assert_int_equal(sched_finish(s, 1, 0.6, true), SCHED_OUT_DONE);
    expect_pick(s, 0.6, 0, 1, 2);
    sched_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retry_prefers_another_node),
        cmocka_unit_test(test_retry_same_node_when_nothing_else),
        cmocka_unit_test(test_retry_single_node_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
