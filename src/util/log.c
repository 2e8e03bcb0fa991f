/* log: default hook writes one line to stderr. */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>

static log_hook_fn log_hook; /* NULL = default */
static void *log_ctx;        /* passed to the hook */
static enum log_level log_max = LOG_INFO;

void log_set_hook(log_hook_fn hook, void *ctx)
{
    log_hook = hook;
    log_ctx = ctx;
}

void log_set_level(enum log_level max_level)
{
    log_max = max_level;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (level > log_max)
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (log_hook) {
        log_hook(level, buf, log_ctx);
        return;
    }
    static const char *const prefix[] = {"error: ", "warning: ", "", ""};
    fprintf(stderr, "shotq: %s%s\n", prefix[level], buf);
}
