/* escape: input echoed in messages, made safe for a terminal, and the text of
 * an error code as messages give it. */
#ifndef SHOTQ_ESCAPE_H
#define SHOTQ_ESCAPE_H

#include <stddef.h>
#include <stdint.h>

/* Pass as len to escape up to the terminating NUL. */
#define UTIL_ESC_ALL SIZE_MAX

/* Copies at most len bytes of s (stopping at a NUL) into out, a buffer of
 * outlen > 0 bytes, always NUL-terminated: backslash becomes "\\", newline,
 * carriage return and tab "\n", "\r", "\t", every other control byte (0x00 to
 * 0x1f, 0x7f) "\xNN"; other bytes (UTF-8 included) are kept. An escape is
 * never cut: when out is too small the copy stops at a whole character and
 * ends in "...". Returns out. Cannot fail. */
const char *util_escape(const char *s, size_t len, char *out, size_t outlen);

/* The text a message gives for the error rc (a negative errno): "out of
 * memory" for -ENOMEM, strerror's text otherwise. The string is static. */
const char *util_errtext(int rc);

/* Fills an empty err (err[0] == '\0') after a failure rc (a negative errno):
 * "WHAT: out of memory" or "WHAT: <strerror>", so that no error is reported
 * with an empty message. A message already there is kept. Returns rc. */
int util_fill_err(char *err, size_t errlen, const char *what, int rc);

#endif
