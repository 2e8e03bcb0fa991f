/* Unit tests of the policy core's shared-GPU rules (issue 9 item 4): the
 * busy predicate, busy devices kept out of dispatch, --task-mem auto. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "test_sched_util.h"

static void test_busy_predicate(void **state)
{
    (void)state;
    struct sched_gpu_sample g = {10000 * MiB, 5000 * MiB, 0};
    assert_false(sched_gpu_busy(&g, 50)); /* exactly half: not more than */
    g.mem_foreign = 5001 * MiB;
    assert_true(sched_gpu_busy(&g, 50));
    assert_false(sched_gpu_busy(&g, 60));
    assert_false(sched_gpu_busy(&g, 0)); /* off */
    g = (struct sched_gpu_sample){10000 * MiB, 0, 51};
    assert_true(sched_gpu_busy(&g, 50));
    g.util_foreign = 50;
    assert_false(sched_gpu_busy(&g, 50));
    g.util_foreign = -1; /* unknown never counts */
    assert_false(sched_gpu_busy(&g, 1));
    g = (struct sched_gpu_sample){0, 9999 * MiB, -1}; /* total unknown */
    assert_false(sched_gpu_busy(&g, 1));
}

static void test_busy_device_waits(void **state)
{
    (void)state;
    struct sched_params p = sched_params_default();
    struct sched *s = sched_create(&p);
    sched_add_device(s, 2.0, 8000 * MiB, 0); /* fast, but busy */
    sched_add_device(s, 1.0, 8000 * MiB, 0);
    for (int i = 0; i < 4; i++)
        sched_add_task(s, 1, 0);
    assert_int_equal(sched_set_busy(s, 0, true), 0);
    assert_int_equal(sched_set_busy(s, 2, true), -EINVAL);
    assert_int_equal(sched_start(s), 0); /* busy is not "never fits" */
    expect_pick(s, 0, 0, 1);
    expect_none(s, 0);
    struct sched_dev_stats ds;
    sched_dev_stats(s, 0, &ds);
    assert_true(ds.busy);
    assert_false(ds.quarantined);
    sched_finish(s, 0, 1, true);
    expect_pick(s, 1, 1, 1);
    /* It frees: the fast device takes the next task at once. */
    sched_set_busy(s, 0, false);
    expect_pick(s, 1, 2, 0);
    /* Busy again while running: the task goes on, no new one. */
    sched_set_busy(s, 0, true);
    sched_finish(s, 2, 1.5, true);
    expect_none(s, 1.5);
    sched_finish(s, 1, 2, true);
    expect_pick(s, 2, 3, 1);
    sched_dev_stats(s, 0, &ds);
    assert_int_equal(ds.tasks_done, 1);
    sched_destroy(s);

    /* Memfree respects it too. */
    p.policy = SCHED_MEMFREE;
    s = sched_create(&p);
    sched_add_device(s, 1.0, 8000 * MiB, 0);
    sched_add_device(s, 1.0, 4000 * MiB, 0);
    sched_add_task(s, 1, 0);
    sched_set_busy(s, 0, true);
    assert_int_equal(sched_start(s), 0);
    expect_pick(s, 0, 0, 1);
    sched_destroy(s);
}

static void test_auto_mem(void **state)
{
    (void)state;
    assert_int_equal(sched_auto_mem(0), 0);
    assert_int_equal(sched_auto_mem(700 * MiB), 875 * MiB);
    assert_int_equal(sched_auto_mem(1), 1 * MiB);             /* whole MiB, rounded up */
    assert_int_equal(sched_auto_mem(1001 * MiB), 1252 * MiB); /* 1251.25 */

    struct sched_params p = sched_params_default();
    p.slots = 4;
    struct sched *s = sched_create(&p);
    sched_add_device(s, 1.0, 3000 * MiB, 0);
    for (int i = 0; i < 9; i++)
        sched_add_task(s, 1, i == 8 ? 100 * MiB : 0);
    assert_int_equal(sched_start(s), 0);
    /* Nothing learned yet: no limit, all four slots fill. */
    for (size_t i = 0; i < 4; i++)
        expect_pick(s, 0, i, 0);
    for (size_t i = 0; i < 4; i++)
        sched_finish(s, i, 1, true);
    /* A peak of 700 MiB was measured: 875 MiB each from now on. Three fit
     * (2625 of 3000 MiB); task 6 does not, task 8 (100 MiB of its own) does. */
    sched_set_default_mem(s, sched_auto_mem(700 * MiB));
    expect_pick(s, 1, 4, 0);
    expect_pick(s, 1, 5, 0);
    expect_pick(s, 1, 6, 0);
    expect_pick(s, 1, 8, 0);
    expect_none(s, 1);
    /* Finishing releases what each attempt reserved, not today's default:
     * with the default back at 0, one 875 MiB task ending leaves room for
     * exactly the one more that slots allow. */
    sched_set_default_mem(s, 0);
    sched_finish(s, 4, 2, true);
    expect_pick(s, 2, 7, 0);
    sched_finish(s, 5, 3, true);
    sched_finish(s, 6, 3, true);
    sched_finish(s, 7, 3, true);
    sched_finish(s, 8, 3, true);
    assert_true(sched_finished(s));
    sched_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_busy_predicate),
        cmocka_unit_test(test_busy_device_waits),
        cmocka_unit_test(test_auto_mem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
