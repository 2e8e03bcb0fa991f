/* Unit tests of the MPI launch detection (src/cluster/cluster_launch.c),
 * built alone: no MPI library needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/cluster.h"

static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK",
                                   "SLURM_STEP_NUM_TASKS"};

static int clear_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
    return 0;
}

static void test_no_launcher(void **state)
{
    (void)state;
    assert_int_equal(cluster_env_size(), 1);
}

static void test_open_mpi_and_mpich(void **state)
{
    (void)state;
    setenv("OMPI_COMM_WORLD_SIZE", "4", 1);
    assert_int_equal(cluster_env_size(), 4);
    setenv("OMPI_COMM_WORLD_SIZE", "1", 1);
    assert_int_equal(cluster_env_size(), 1);
    unsetenv("OMPI_COMM_WORLD_SIZE");
    setenv("PMI_SIZE", "3", 1);
    assert_int_equal(cluster_env_size(), 3);
}

/* Values that are not a positive count are no announcement. */
static void test_malformed_counts(void **state)
{
    (void)state;
    static const char *const bad[] = {"", "0", "-2", "2x", "abc", "99999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("OMPI_COMM_WORLD_SIZE", bad[i], 1);
        assert_int_equal(cluster_env_size(), 1);
    }
}

/* PMIx alone says it launched us, not how many: -1 (ask MPI). */
static void test_pmix(void **state)
{
    (void)state;
    setenv("PMIX_RANK", "0", 1);
    assert_int_equal(cluster_env_size(), -1);
    setenv("SLURM_STEP_NUM_TASKS", "8", 1);
    assert_int_equal(cluster_env_size(), 8);
}

static bool has(char **env, const char *kv)
{
    for (char **e = env; *e; e++)
        if (!strcmp(*e, kv))
            return true;
    return false;
}

static bool has_prefix(char **env, const char *p)
{
    for (char **e = env; *e; e++)
        if (!strncmp(*e, p, strlen(p)))
            return true;
    return false;
}

/* Workers' environment: everything but the launcher's variables. */
static void test_worker_env(void **state)
{
    (void)state;
    setenv("OMPI_COMM_WORLD_RANK", "1", 1);
    setenv("PMIX_NAMESPACE", "x", 1);
    setenv("PMI_FD", "7", 1);
    setenv("HYDRA_CONTROL_FD", "8", 1);
    setenv("SHOTQ_TEST_KEEP", "yes", 1);
    setenv("OMPIX", "not a launcher variable", 1);
    char **env = cluster_worker_env();
    assert_non_null(env);
    assert_true(has(env, "SHOTQ_TEST_KEEP=yes"));
    assert_true(has(env, "OMPIX=not a launcher variable"));
    assert_false(has_prefix(env, "OMPI_"));
    assert_false(has_prefix(env, "PMIX_"));
    assert_false(has_prefix(env, "PMI_"));
    assert_false(has_prefix(env, "HYDRA_"));
    cluster_env_free(env);
    cluster_env_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_no_launcher, clear_env),
        cmocka_unit_test_setup(test_open_mpi_and_mpich, clear_env),
        cmocka_unit_test_setup(test_malformed_counts, clear_env),
        cmocka_unit_test_setup(test_pmix, clear_env),
        cmocka_unit_test_setup(test_worker_env, clear_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
