/* Unit tests of the policy core: scripted events, exact decisions. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "sched/sched.h"
#include "sched/simrun.h"

#define MiB (1024ull * 1024ull)

static struct sched *make(enum sched_policy pol, const double *speeds, size_t nd,
                          const double *weights, size_t nt)
{
    struct sched_params p = sched_params_default();
    p.policy = pol;
    struct sched *s = sched_create(&p);
    assert_non_null(s);
    for (size_t d = 0; d < nd; d++)
        assert_int_equal(sched_add_device(s, speeds[d], 0, 0), (long)d);
    for (size_t i = 0; i < nt; i++)
        assert_int_equal(sched_add_task(s, weights ? weights[i] : 1.0, 0), (long)i);
    assert_int_equal(sched_start(s), 0);
    return s;
}

static void expect_pick(struct sched *s, double now, size_t task, size_t dev)
{
    struct sched_assign a;
    assert_true(sched_pick(s, now, &a));
    assert_int_equal(a.task, task);
    assert_int_equal(a.dev, dev);
}

static void expect_none(struct sched *s, double now)
{
    struct sched_assign a;
    assert_false(sched_pick(s, now, &a));
}

static void test_pull_order(void **state)
{
    (void)state;
    double sp[] = {1, 1};
    struct sched *s = make(SCHED_DYNAMIC, sp, 2, NULL, 3);
    expect_pick(s, 0, 0, 0);
    expect_pick(s, 0, 1, 1);
    expect_none(s, 0);
    assert_int_equal(sched_finish(s, 0, 1.0, true), SCHED_OUT_DONE);
    expect_pick(s, 1.0, 2, 0);
    expect_none(s, 1.0);
    assert_int_equal(sched_finish(s, 1, 1.0, true), SCHED_OUT_DONE);
    assert_false(sched_finished(s));
    assert_int_equal(sched_finish(s, 2, 2.0, true), SCHED_OUT_DONE);
    assert_true(sched_finished(s));
    assert_int_equal(sched_count(s, SCHED_DONE), 3);
    sched_destroy(s);
}

static void test_fastest_first(void **state)
{
    (void)state;
    double sp[] = {0.4, 1.0, 0.7};
    struct sched *s = make(SCHED_DYNAMIC, sp, 3, NULL, 10);
    expect_pick(s, 0, 0, 1);
    expect_pick(s, 0, 1, 2);
    expect_pick(s, 0, 2, 0);
    sched_destroy(s);
}

static void test_tail_guard(void **state)
{
    (void)state;
    double sp[] = {1.0, 0.1};
    struct sched *s = make(SCHED_DYNAMIC, sp, 2, NULL, 2);
    expect_pick(s, 0, 0, 0);
    /* The slow device would end task 1 at t=10; the fast one at t=2. */
    expect_none(s, 0);
    sched_finish(s, 0, 1.0, true);
    expect_pick(s, 1.0, 1, 0);
    sched_destroy(s);
}

static void test_tail_guard_lets_slow_help(void **state)
{
    (void)state;
    /* 3 tasks, speeds 1 and 0.6: fast alone needs 3 s; the slow one ends a
     * task at 1.67 s, before the fast one could do its third (3 s). */
    double sp[] = {1.0, 0.6};
    struct sched *s = make(SCHED_DYNAMIC, sp, 2, NULL, 3);
    expect_pick(s, 0, 0, 0);
    expect_pick(s, 0, 1, 1);
    sched_finish(s, 0, 1.0, true);
    expect_pick(s, 1.0, 2, 0);
    sched_destroy(s);
}

static void test_lpt(void **state)
{
    (void)state;
    double sp[] = {1.0};
    double w[] = {1, 3, 2};
    struct sched *s = make(SCHED_DYNAMIC, sp, 1, w, 3);
    expect_pick(s, 0, 1, 0);
    sched_finish(s, 1, 3, true);
    expect_pick(s, 3, 2, 0);
    sched_finish(s, 2, 5, true);
    expect_pick(s, 5, 0, 0);
    sched_destroy(s);
}

static void test_static_and_memfree(void **state)
{
    (void)state;
    double sp[] = {1.0, 0.4};
    struct sched *s = make(SCHED_STATIC, sp, 2, NULL, 4);
    expect_pick(s, 0, 0, 0);
    expect_pick(s, 0, 1, 1);
    sched_finish(s, 0, 1, true);
    expect_pick(s, 1, 2, 0);
    sched_finish(s, 2, 2, true);
    expect_none(s, 2); /* task 3 belongs to the slow device */
    sched_finish(s, 1, 2.5, true);
    expect_pick(s, 2.5, 3, 1);
    sched_destroy(s);

    struct sched_params p = sched_params_default();
    p.policy = SCHED_MEMFREE;
    s = sched_create(&p);
    sched_add_device(s, 1.0, 8192 * MiB, 0);
    sched_add_device(s, 0.4, 8192 * MiB, 0);
    for (int i = 0; i < 4; i++)
        sched_add_task(s, 1, 0);
    assert_int_equal(sched_start(s), 0);
    expect_pick(s, 0, 0, 0);
    expect_pick(s, 0, 1, 1); /* device 0 now has less free memory */
    expect_none(s, 0);       /* pool of 2 is full */
    sched_finish(s, 1, 1, true);
    /* Both have a task... no: device 1 is empty now, so it has more free. */
    expect_pick(s, 1, 2, 1);
    sched_destroy(s);
}

static void test_memory_admission(void **state)
{
    (void)state;
    struct sched_params p = sched_params_default();
    p.slots = 4;
    struct sched *s = sched_create(&p);
    sched_add_device(s, 1.0, 2000 * MiB, 0); /* too small for any task */
    sched_add_device(s, 0.5, 9000 * MiB, 0);
    for (int i = 0; i < 5; i++)
        sched_add_task(s, 1, 4000 * MiB);
    assert_int_equal(sched_start(s), 0);
    expect_pick(s, 0, 0, 1);
    expect_pick(s, 0, 1, 1); /* 8000 of 9000 reserved: packs two */
    expect_none(s, 0);
    sched_finish(s, 0, 2, true);
    expect_pick(s, 2, 2, 1);
    struct sched_dev_stats ds;
    sched_dev_stats(s, 0, &ds);
    assert_int_equal(ds.tasks_done, 0);
    assert_int_equal(ds.running, 0);
    sched_destroy(s);

    /* A task no device can hold is refused before start. */
    s = sched_create(&p);
    sched_add_device(s, 1.0, 2000 * MiB, 0);
    sched_add_task(s, 1, 100 * MiB);
    sched_add_task(s, 1, 3000 * MiB);
    assert_int_equal(sched_start(s), -E2BIG);
    assert_int_equal(sched_first_unfit(s), 1);
    sched_destroy(s);

    /* Memory used by others keeps a GPU out. */
    s = sched_create(&p);
    sched_add_device(s, 1.0, 8000 * MiB, 0);
    sched_add_device(s, 1.0, 8000 * MiB, 0);
    sched_set_foreign_mem(s, 0, 7000 * MiB);
    sched_add_task(s, 1, 2000 * MiB);
    sched_add_task(s, 1, 2000 * MiB);
    assert_int_equal(sched_start(s), 0);
    expect_pick(s, 0, 0, 1);
    expect_pick(s, 0, 1, 1);
    sched_destroy(s);
}

static void test_retry_elsewhere_and_quarantine(void **state)
{
    (void)state;
    double sp[] = {1.0, 0.5};
    struct sched *s = make(SCHED_DYNAMIC, sp, 2, NULL, 6);
    expect_pick(s, 0, 0, 0);
    expect_pick(s, 0, 1, 1);
    assert_int_equal(sched_finish(s, 0, 0.1, false), SCHED_OUT_RETRY);
    /* Device 0 is free but task 0 prefers another device: it takes task 2. */
    expect_pick(s, 0.1, 2, 0);
    assert_int_equal(sched_finish(s, 1, 2.0, true), SCHED_OUT_DONE);
    expect_pick(s, 2.0, 0, 1);
    struct sched_task_stats ts;
    sched_task_stats(s, 0, &ts);
    assert_int_equal(ts.attempts, 2);
    /* Two more failures on device 0 quarantine it. */
    assert_int_equal(sched_finish(s, 2, 2.1, false), SCHED_OUT_RETRY);
    struct sched_dev_stats ds;
    sched_dev_stats(s, 0, &ds);
    assert_false(ds.quarantined);
    expect_pick(s, 2.1, 3, 0);
    assert_int_equal(sched_finish(s, 3, 2.2, false), SCHED_OUT_RETRY);
    sched_dev_stats(s, 0, &ds);
    assert_true(ds.quarantined);
    expect_none(s, 2.2); /* device 1 is busy, device 0 retired */
    sched_finish(s, 0, 4.0, true);
    expect_pick(s, 4.0, 2, 1);
    sched_destroy(s);

    /* Retries are bounded: attempts = 1 + max_retries. */
    struct sched_params p = sched_params_default();
    p.max_retries = 1;
    s = sched_create(&p);
    sched_add_device(s, 1, 0, 0);
    sched_add_device(s, 1, 0, 0);
    sched_add_task(s, 1, 0);
    sched_start(s);
    expect_pick(s, 0, 0, 0);
    assert_int_equal(sched_finish(s, 0, 1, false), SCHED_OUT_RETRY);
    expect_pick(s, 1, 0, 1);
    assert_int_equal(sched_finish(s, 0, 2, false), SCHED_OUT_FAILED);
    assert_true(sched_finished(s));
    assert_int_equal(sched_count(s, SCHED_FAILED), 1);
    sched_destroy(s);
}

/* Quarantine is a back-off (issue 7): the device rests 10 s, 20 s, ... at
 * most the cap, takes tasks again after its rest, recovers on a success, is
 * retired after failing once more past a rest of the cap; the failures that
 * quarantined it cost no task its retries. */
static void test_quarantine_backoff(void **state)
{
    (void)state;
    struct sched_params p = sched_params_default();
    p.backoff_base_s = 10;
    p.backoff_cap_s = 20;
    p.max_retries = 10;
    struct sched *s = sched_create(&p);
    sched_add_device(s, 1, 0, 0);
    for (int i = 0; i < 4; i++)
        sched_add_task(s, 1, 0);
    sched_start(s);
    struct sched_dev_stats ds;
    /* Three failures (one task three times): quarantined, task not failed. */
    for (int k = 0; k < 3; k++) {
        expect_pick(s, k, 0, 0);
        assert_int_equal(sched_finish(s, 0, k + 0.5, false), SCHED_OUT_RETRY);
    }
    sched_dev_stats(s, 0, &ds);
    assert_true(ds.quarantined);
    assert_false(ds.retired);
    assert_true(ds.probe_at > 12.49 && ds.probe_at < 12.51);
    assert_int_equal(sched_count(s, SCHED_FAILED), 0);
    assert_false(sched_finished(s)); /* no device left now, but one will be */
    expect_none(s, 12.4);
    /* The probe fails: rest 20 s (the cap). */
    expect_pick(s, 12.5, 0, 0);
    assert_int_equal(sched_finish(s, 0, 13, false), SCHED_OUT_RETRY);
    sched_dev_stats(s, 0, &ds);
    assert_true(ds.quarantined);
    assert_true(ds.probe_at > 32.99 && ds.probe_at < 33.01);
    expect_none(s, 32.9);
    /* This probe succeeds: recovered, back-off reset. */
    expect_pick(s, 33, 0, 0);
    sched_dev_stats(s, 0, &ds);
    assert_true(ds.probing);
    assert_int_equal(sched_finish(s, 0, 34, true), SCHED_OUT_DONE);
    sched_dev_stats(s, 0, &ds);
    assert_false(ds.probing || ds.quarantined);
    assert_int_equal(ds.quarantines, 0);
    /* Fail again: 10 s, then 20 s, then a failure after the cap: retired and
     * the remaining tasks fail (no device will ever take them). */
    double t = 34;
    for (int k = 0; k < 3; k++) {
        expect_pick(s, t, 1, 0);
        sched_finish(s, 1, t += 0.1, false);
    }
    t += 10;
    expect_pick(s, t, 1, 0);
    sched_finish(s, 1, t += 0.1, false);
    t += 20;
    expect_pick(s, t, 1, 0);
    sched_finish(s, 1, t + 0.1, false);
    sched_dev_stats(s, 0, &ds);
    assert_true(ds.retired);
    assert_true(sched_finished(s));
    assert_int_equal(sched_count(s, SCHED_FAILED), 3);
    sched_destroy(s);
}

/* --halt fail=N stops dispatch after N failed attempts. */
static void test_halt(void **state)
{
    (void)state;
    struct sched_params p = sched_params_default();
    p.halt_fail_count = 2;
    struct sched *s = sched_create(&p);
    sched_add_device(s, 1, 0, 0);
    for (int i = 0; i < 5; i++)
        sched_add_task(s, 1, 0);
    sched_start(s);
    expect_pick(s, 0, 0, 0);
    sched_finish(s, 0, 1, false);
    assert_false(sched_halted(s));
    expect_pick(s, 1, 0, 0);
    sched_finish(s, 0, 2, false);
    assert_true(sched_halted(s));
    expect_none(s, 2);
    assert_true(sched_finished(s));
    assert_int_equal(sched_count(s, SCHED_PENDING), 5);
    sched_destroy(s);
}

static void test_speed_learning(void **state)
{
    (void)state;
    double sp[] = {1.0};
    struct sched *s = make(SCHED_DYNAMIC, sp, 1, NULL, 2);
    struct sched_dev_stats ds;
    expect_pick(s, 0, 0, 0);
    sched_finish(s, 0, 2.0, true);
    sched_dev_stats(s, 0, &ds);
    assert_true(fabs(ds.speed_estimate - 0.5) < 1e-12);
    expect_pick(s, 2.0, 1, 0);
    sched_finish(s, 1, 3.0, true);
    sched_dev_stats(s, 0, &ds);
    /* Ratio of decayed sums with one pseudo-task at the scaled prior (0.5):
     * (0.7 x 1 + 1 + 1) / (0.7 x 2 + 1 + 1 / 0.5) = 2.7 / 4.4. */
    assert_true(fabs(ds.speed_estimate - 2.7 / 4.4) < 1e-12);
    assert_true(fabs(ds.busy_s - 3.0) < 1e-12);
    sched_destroy(s);
}

static void test_restore_and_drain(void **state)
{
    (void)state;
    struct sched_params p = sched_params_default();
    struct sched *s = sched_create(&p);
    sched_add_device(s, 1, 0, 0);
    for (int i = 0; i < 3; i++)
        sched_add_task(s, 1, 0);
    assert_int_equal(sched_restore_done(s, 0), 0);
    sched_start(s);
    expect_pick(s, 0, 1, 0);
    sched_drain(s);
    expect_none(s, 0);
    assert_false(sched_finished(s));
    sched_finish(s, 1, 1, true);
    assert_true(sched_finished(s));
    assert_int_equal(sched_count(s, SCHED_PENDING), 1);
    sched_destroy(s);
}

static void test_simrun_hetero(void **state)
{
    (void)state;
    struct simrun_dev d[4] = {{1.0, 0, 0}, {1.0, 0, 0}, {0.4, 0, 0}, {0.4, 0, 0}};
    double w[30];
    for (int i = 0; i < 30; i++)
        w[i] = 0.4;
    struct sched_params p = sched_params_default();
    struct simrun_result r;
    assert_int_equal(simrun(&p, d, 4, w, NULL, 30, 0, NULL, &r), 0);
    assert_true(fabs(r.makespan_s - 4.4) < 1e-9);
    assert_int_equal(r.tasks_done, 30);
    assert_int_equal(r.tasks_per_dev[0] + r.tasks_per_dev[1], 22);
    simrun_result_free(&r);

    p.policy = SCHED_STATIC;
    assert_int_equal(simrun(&p, d, 4, w, NULL, 30, 0, NULL, &r), 0);
    assert_true(fabs(r.makespan_s - 7.0) < 1e-9);
    simrun_result_free(&r);
}

static void test_simrun_slow_device_left_out(void **state)
{
    (void)state;
    /* A very slow device must not take any of the 30 tasks. */
    struct simrun_dev d[2] = {{1.0, 0, 0}, {0.01, 0, 0}};
    struct sched_params p = sched_params_default();
    struct simrun_result r;
    assert_int_equal(simrun(&p, d, 2, NULL, NULL, 30, 0, NULL, &r), 0);
    assert_true(fabs(r.makespan_s - 30.0) < 1e-9);
    assert_int_equal(r.tasks_per_dev[1], 0);
    simrun_result_free(&r);
}

static void test_simrun_scale(void **state)
{
    (void)state;
    size_t nd = 500, nt = 50000;
    struct simrun_dev *d = calloc(nd, sizeof *d);
    for (size_t i = 0; i < nd; i++)
        d[i].speed = (i % 3 == 0) ? 0.4 : 1.0;
    struct sched_params p = sched_params_default();
    struct simrun_result r;
    assert_int_equal(simrun(&p, d, nd, NULL, NULL, nt, 0, NULL, &r), 0);
    assert_int_equal(r.tasks_done, nt);
    assert_true(r.makespan_s <= r.lower_bound_s * 1.01 + 1.0);
    simrun_result_free(&r);
    free(d);
}

/* Speculation, scripted: a backup starts only once the straggler has
 * overrun enough; the first attempt to succeed wins and names the other's
 * device for killing; a failed backup leaves the primary running. */
static void test_speculation_scripted(void **state)
{
    (void)state;
    for (int fail_backup = 0; fail_backup < 2; fail_backup++) {
        struct sched_params p = sched_params_default();
        p.speculate = true;
        struct sched *s = sched_create(&p);
        assert_int_equal(sched_add_device(s, 1, 0, 0), 0);
        assert_int_equal(sched_add_device(s, 1, 0, 0), 1);
        double w[] = {2, 1, 1};
        for (int i = 0; i < 3; i++)
            assert_int_equal(sched_add_task(s, w[i], 0), i);
        assert_int_equal(sched_start(s), 0);
        expect_pick(s, 0, 0, 0);
        expect_pick(s, 0, 1, 1);
        assert_int_equal(sched_finish(s, 1, 1, true), SCHED_OUT_DONE);
        expect_pick(s, 1, 2, 1);
        assert_int_equal(sched_finish(s, 2, 2, true), SCHED_OUT_DONE);
        expect_none(s, 2); /* task 0 is due now: no backup */
        expect_none(s, 4); /* overrun by 2: remaining 2 < 1.25 x copy (2) */
        struct sched_assign a;
        assert_true(sched_pick(s, 6, &a)); /* overrun by 4 */
        assert_int_equal(a.task, 0);
        assert_int_equal(a.dev, 1);
        assert_int_equal(a.attempt, 2);
        assert_true(a.backup);
        expect_none(s, 6); /* at most one backup per task */
        long kill;
        if (fail_backup) {
            assert_int_equal(sched_finish_on(s, 0, 1, 7, false, &kill),
                             SCHED_OUT_CONTINUES);
            assert_int_equal(kill, -1);
            assert_false(sched_finished(s));
            assert_int_equal(sched_finish_on(s, 0, 0, 9, true, &kill), SCHED_OUT_DONE);
            assert_int_equal(kill, -1);
        } else {
            assert_int_equal(sched_finish_on(s, 0, 1, 8, true, &kill), SCHED_OUT_DONE);
            assert_int_equal(kill, 0);
        }
        assert_true(sched_finished(s));
        assert_int_equal(sched_count(s, SCHED_DONE), 3);
        struct sched_dev_stats ds;
        for (size_t d = 0; d < 2; d++) {
            sched_dev_stats(s, d, &ds);
            assert_int_equal(ds.running, 0);
        }
        sched_destroy(s);
    }
}

/* Speculation with unit weights when a device stalls before its first
 * success: once alike tasks (STALL_MIN_OBS of them) were measured and the
 * stalled one has run STALL_FACTOR times the longest, a copy is taken to
 * cost its weight; it goes only to a device with an idle slot (prefetch
 * room does not count); a copy that could not be sent is taken back with
 * sched_cancel_backup and offered again. */
static void test_speculation_stall(void **state)
{
    (void)state;
    struct sched_params p = sched_params_default();
    p.speculate = true;
    struct sched *s = sched_create(&p);
    assert_int_equal(sched_add_device(s, 1, 0, 0), 0);
    assert_int_equal(sched_add_device(s, 1, 0, 0), 1);
    for (int i = 0; i < 9; i++)
        assert_int_equal(sched_add_task(s, 1, 0), i);
    assert_int_equal(sched_start(s), 0);
    assert_int_equal(sched_set_capacity(s, 1, 4), 0); /* slot 1 + prefetch 3 */
    expect_pick(s, 0, 0, 0);
    for (size_t i = 1; i <= 4; i++)
        expect_pick(s, 0, i, 1);
    /* Device 1 runs tasks 1..8 one after the other, 1 s each. */
    for (size_t i = 1; i <= 8; i++) {
        sched_set_start(s, i, (double)i - 1);
        assert_int_equal(sched_finish(s, i, (double)i, true), SCHED_OUT_DONE);
        if (i + 4 <= 8)
            expect_pick(s, (double)i, i + 4, 1);
        if (i == 5)
            expect_none(s, 5.5); /* task 0 stalls, but device 1's slot is busy */
    }
    struct sched_assign a;
    assert_true(sched_pick(s, 8, &a));
    assert_true(a.backup);
    assert_int_equal(a.task, 0);
    assert_int_equal(a.dev, 1);
    assert_int_equal(a.attempt, 2);
    sched_cancel_backup(s, 0);
    struct sched_task_stats ts;
    sched_task_stats(s, 0, &ts);
    assert_int_equal(ts.backup_dev, -1);
    assert_int_equal(ts.attempts, 1);
    assert_true(sched_pick(s, 8.1, &a)); /* offered again, same attempt number */
    assert_true(a.backup);
    assert_int_equal(a.attempt, 2);
    long kill;
    assert_int_equal(sched_finish_on(s, 0, 1, 9.1, true, &kill), SCHED_OUT_DONE);
    assert_int_equal(kill, 0);
    assert_true(sched_finished(s));
    assert_int_equal(sched_count(s, SCHED_DONE), 9);
    sched_destroy(s);
}

/* A device that drops to 10 % of its speed after its task started: with
 * speculation that task no longer sets the makespan. 40 unit tasks on 4
 * devices, device 0 at 0.1 from t = 0.5: the optimum of the changed problem
 * is 13 s (device 0 can finish only one task by then); without
 * speculation 15.5 s. Every task is counted done exactly once. */
static void test_simrun_speculation_slowdown(void **state)
{
    (void)state;
    struct simrun_dev d[4] = {{1, 0, 0}, {1, 0, 0}, {1, 0, 0}, {1, 0, 0}};
    struct simrun_slowdown sl = {0, 0.5, 0.1};
    struct simrun_model m = {.slow = &sl, .nslow = 1};
    struct sched_params p = sched_params_default();
    struct simrun_result r;
    assert_int_equal(simrun(&p, d, 4, NULL, NULL, 40, 0, &m, &r), 0);
    assert_true(fabs(r.makespan_s - 15.5) < 1e-9);
    simrun_result_free(&r);
    p.speculate = true;
    assert_int_equal(simrun(&p, d, 4, NULL, NULL, 40, 0, &m, &r), 0);
    assert_true(r.makespan_s <= 13.0 * 1.05);
    assert_int_equal(r.tasks_done, 40);
    int64_t sum = 0;
    for (int i = 0; i < 4; i++)
        sum += r.tasks_per_dev[i];
    assert_int_equal(sum, 40);
    simrun_result_free(&r);
}

/* Unknown costs: one long task (10x) first on a fast device must not make
 * the scheduler believe that device slow for long, and the measured lower
 * bound uses the task's measured cost, not its weight. */
static void test_speed_one_long_task(void **state)
{
    (void)state;
    struct simrun_dev d[2] = {{1, 0, 0}, {1, 0, 0}};
    double c[20];
    for (int i = 0; i < 20; i++)
        c[i] = i == 0 ? 10 : 1;
    struct simrun_model m = {.cost = c};
    struct sched_params p = sched_params_default();
    struct simrun_result r;
    assert_int_equal(simrun(&p, d, 2, NULL, NULL, 20, 0, &m, &r), 0);
    /* 29 units on two devices: optimum 15 (10 + 5 | 14). */
    assert_true(r.makespan_s <= 15.0 + 1e-9);
    assert_true(fabs(r.lower_bound_s - 14.5) < 1e-9);
    assert_true(r.sched_lower_bound_s > 10.0);
    simrun_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pull_order),
        cmocka_unit_test(test_fastest_first),
        cmocka_unit_test(test_tail_guard),
        cmocka_unit_test(test_tail_guard_lets_slow_help),
        cmocka_unit_test(test_lpt),
        cmocka_unit_test(test_static_and_memfree),
        cmocka_unit_test(test_memory_admission),
        cmocka_unit_test(test_retry_elsewhere_and_quarantine),
        cmocka_unit_test(test_speed_learning),
        cmocka_unit_test(test_restore_and_drain),
        cmocka_unit_test(test_quarantine_backoff),
        cmocka_unit_test(test_halt),
        cmocka_unit_test(test_simrun_hetero),
        cmocka_unit_test(test_simrun_slow_device_left_out),
        cmocka_unit_test(test_simrun_scale),
        cmocka_unit_test(test_speculation_scripted),
        cmocka_unit_test(test_speculation_stall),
        cmocka_unit_test(test_simrun_speculation_slowdown),
        cmocka_unit_test(test_speed_one_long_task),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
