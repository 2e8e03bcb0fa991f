/* opts: the option scanner shared by the subcommands. Accepts "--name VALUE"
 * and "--name=VALUE"; every error names the option and what was expected. */
#ifndef SHOTQ_OPTS_H
#define SHOTQ_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct opts {
    int argc;
    char **argv;
    int i;                  /* next argument */
    const char *name;       /* current option name (without value) */
    const char *inline_val; /* value after '=' if any */
    char err[1024];         /* message of the last error */
};

void opts_init(struct opts *o, int argc, char **argv);

/* Next option: returns its name ("--slots"), or NULL at the end of options
 * (a non-option argument or "--", which is consumed). */
const char *opts_next(struct opts *o);

/* True when the current option is `name`. */
bool opts_is(const struct opts *o, const char *name);

/* Values of the current option. Return 0 or -EINVAL with o->err set. */
int opts_str(struct opts *o, const char **out);
int opts_int(struct opts *o, long min, long max, long *out);
int opts_double(struct opts *o, double min, double max, double *out);
/* A flag must not carry a value. */
int opts_flag(struct opts *o);

/* Sets o->err to "unknown option NAME (expected one of ...)". Returns -EINVAL. */
int opts_unknown(struct opts *o, const char *expected);

#endif
