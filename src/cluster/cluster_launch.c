/* cluster_launch: what the MPI launcher tells us through the environment, in
 * both builds (with and without MPI). See cluster.h. */
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"

extern char **environ;

/* Positive integer value of an environment variable, or 0. */
static long env_count(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return 0;
    char *end;
    long n = strtol(v, &end, 10);
    return *end == '\0' && n > 0 && n < (1L << 30) ? n : 0;
}

int cluster_env_size(void)
{
    long n = env_count("OMPI_COMM_WORLD_SIZE");
    if (!n)
        n = env_count("PMI_SIZE");
    if (!n && getenv("PMIX_RANK")) {
        n = env_count("SLURM_STEP_NUM_TASKS");
        if (!n)
            return -1;
    }
    return n ? (int)n : 1;
}

/* True for variables by which an MPI library recognises a rank of a job. */
static bool launcher_var(const char *kv)
{
    static const char *const prefixes[] = {"OMPI_", "PMIX_",  "PMI_",  "ORTE_",
                                           "OPAL_", "HYDRA_", "HYDI_", "MPI_LOCAL"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (!strncmp(kv, prefixes[i], strlen(prefixes[i])))
            return true;
    return false;
}

char **cluster_worker_env(void)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 1, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (launcher_var(environ[i]))
            continue;
        env[k] = strdup(environ[i]);
        if (!env[k]) {
            cluster_env_free(env);
            return NULL;
        }
        k++;
    }
    return env;
}

void cluster_env_free(char **env)
{
    if (!env)
        return;
    for (char **e = env; *e; e++)
        free(*e);
    free(env);
}
