/* shotq: dispatch tasks over heterogeneous devices. Entry point: picks the
 * subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "fd/fd_build.h"
#include "shotq/version.h"

static void usage(FILE *f)
{
    fputs("usage: shotq COMMAND [ARGS]\n"
          "  devices   [--devices SPEC] [--json]        list the devices shotq sees\n"
          "  run       [OPTIONS] -- COMMAND [ARG...]    run command tasks\n"
          "  run       [OPTIONS] --plugin LIB.so        run plugin tasks\n"
          "  model     JOB.ini [OPTIONS] [--shot K]     3D acoustic FD modelling\n"
          "  simulate  --devices sim:SPEC --tasks N     plan on a virtual clock\n"
          "  status    [RUN_DIR] [--json] [--watch]     a run's progress, live or not\n"
          "Run `shotq COMMAND --help` for the options of a command;\n"
          "`shotq --version` for the version and what this build holds.\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *c = argv[1];
    if (!strcmp(c, "devices"))
        return cmd_devices(argc - 1, argv + 1);
    if (!strcmp(c, "run"))
        return cmd_run(argc - 1, argv + 1);
    if (!strcmp(c, "model"))
        return cmd_model(argc - 1, argv + 1);
    if (!strcmp(c, "simulate"))
        return cmd_simulate(argc - 1, argv + 1);
    if (!strcmp(c, "status"))
        return cmd_status(argc - 1, argv + 1);
    if (!strcmp(c, "worker"))
        return cmd_worker(argc - 1, argv + 1);
    if (!strcmp(c, "guard"))
        return cmd_guard(argc - 1, argv + 1);
    if (!strcmp(c, "--version") || !strcmp(c, "-V")) {
#ifdef SHOTQ_HAVE_MPI
        const char *mpi = "yes";
#else
        const char *mpi = "no";
#endif
        printf("shotq %s (FD back ends: %s; MPI: %s)\n", SHOTQ_VERSION_STRING,
               fd_build_backends(), mpi);
        return 0;
    }
    if (!strcmp(c, "--help") || !strcmp(c, "-h") || !strcmp(c, "help")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr,
            "shotq: unknown command '%s' (expected devices, run, model, simulate or status)\n",
            c);
    return 2;
}
