/* log: the one way library code reports to a person. The front end installs a
 * hook (default: one line on stderr prefixed "shotq: "). */
#ifndef SHOTQ_LOG_H
#define SHOTQ_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

typedef void (*log_hook_fn)(enum log_level level, const char *msg, void *ctx);

/* Replaces the hook (NULL restores the default) and the verbosity threshold. */
void log_set_hook(log_hook_fn hook, void *ctx);
void log_set_level(enum log_level max_level);

/* Formats and passes one message to the hook when level <= threshold. */
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
