/* Temporary entry points until the core lands (replaced by the real files). */
#include <stdio.h>

#include "cli/cmd.h"

int cmd_run(int argc, char **argv) { (void)argc; (void)argv; fputs("shotq run: not built yet\n", stderr); return 2; }
int cmd_simulate(int argc, char **argv) { (void)argc; (void)argv; fputs("shotq simulate: not built yet\n", stderr); return 2; }
int cmd_worker(int argc, char **argv) { (void)argc; (void)argv; return 2; }
int run_main(int argc, char **argv, const struct run_preset *p) { (void)argc; (void)argv; (void)p; fputs("shotq: scheduler not built yet\n", stderr); return 2; }
