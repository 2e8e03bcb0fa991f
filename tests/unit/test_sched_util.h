/* Helpers of the policy-core unit tests (include after cmocka.h): a pick
 * that must happen, and one that must not. */
#ifndef SHOTQ_TEST_SCHED_UTIL_H
#define SHOTQ_TEST_SCHED_UTIL_H

#include "sched/sched.h"

#define MiB (1024ull * 1024ull)

/* Asserts that the next pick at now starts task on dev. */
static inline void expect_pick(struct sched *s, double now, size_t task, size_t dev)
{
    struct sched_assign a;
    assert_true(sched_pick(s, now, &a));
    assert_int_equal(a.task, task);
    assert_int_equal(a.dev, dev);
}

/* Asserts that nothing starts at now. */
static inline void expect_none(struct sched *s, double now)
{
    struct sched_assign a;
    assert_false(sched_pick(s, now, &a));
}

#endif
