/* Placeholder until the FD workload lands. */
#include <stdio.h>

#include "cli/cmd.h"

int cmd_model(int argc, char **argv) { (void)argc; (void)argv; fputs("shotq model: not built yet\n", stderr); return 2; }
const struct shotq_plugin *builtin_plugin(const char *name) { (void)name; return NULL; }
