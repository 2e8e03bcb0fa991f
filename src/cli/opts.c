/* opts: option scanning (see opts.h). */
#include "cli/opts.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/escape.h"

void opts_init(struct opts *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    o->argc = argc;
    o->argv = argv;
    o->i = 1;
}

const char *opts_next(struct opts *o)
{
    static char namebuf[128];
    if (o->i >= o->argc)
        return NULL;
    const char *a = o->argv[o->i];
    if (!strcmp(a, "--")) {
        o->i++;
        return NULL;
    }
    if (strncmp(a, "--", 2) && strcmp(a, "-h") && strcmp(a, "-q"))
        return NULL;
    o->i++;
    const char *eq = strchr(a, '=');
    if (eq) {
        snprintf(namebuf, sizeof namebuf, "%.*s", (int)(eq - a), a);
        o->name = namebuf;
        o->inline_val = eq + 1;
    } else {
        o->name = a;
        o->inline_val = NULL;
    }
    return o->name;
}

bool opts_is(const struct opts *o, const char *name)
{
    return !strcmp(o->name, name);
}

int opts_str(struct opts *o, const char **out)
{
    if (o->inline_val) {
        *out = o->inline_val;
        return 0;
    }
    if (o->i >= o->argc) {
        snprintf(o->err, sizeof o->err, "option %s: expected a value after it", o->name);
        return -EINVAL;
    }
    *out = o->argv[o->i++];
    return 0;
}

int opts_int(struct opts *o, long min, long max, long *out)
{
    const char *s;
    if (opts_str(o, &s))
        return -EINVAL;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < min || v > max) {
        char esc[256];
        snprintf(o->err, sizeof o->err,
                 "option %s '%s': expected an integer from %ld to %ld", o->name,
                 util_escape(s, UTIL_ESC_ALL, esc, sizeof esc), min, max);
        return -EINVAL;
    }
    *out = v;
    return 0;
}

int opts_double(struct opts *o, double min, double max, double *out)
{
    const char *s;
    if (opts_str(o, &s))
        return -EINVAL;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v) || v < min || v > max) {
        char esc[256];
        snprintf(o->err, sizeof o->err, "option %s '%s': expected a number from %g to %g",
                 o->name, util_escape(s, UTIL_ESC_ALL, esc, sizeof esc), min, max);
        return -EINVAL;
    }
    *out = v;
    return 0;
}

int opts_flag(struct opts *o)
{
    if (o->inline_val) {
        char esc[256];
        snprintf(o->err, sizeof o->err, "option %s takes no value (got '%s')", o->name,
                 util_escape(o->inline_val, UTIL_ESC_ALL, esc, sizeof esc));
        return -EINVAL;
    }
    return 0;
}

int opts_unknown(struct opts *o, const char *expected)
{
    char esc[256];
    snprintf(o->err, sizeof o->err, "unknown option %s (expected %s)",
             util_escape(o->name, UTIL_ESC_ALL, esc, sizeof esc), expected);
    return -EINVAL;
}
