/* escape: see escape.h. */
#include "util/escape.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The escape of byte c into tmp (5 bytes), or NULL when c stays itself. */
static const char *escape_of(unsigned char c, char tmp[5])
{
    switch (c) {
    case '\\':
        return "\\\\";
    case '\n':
        return "\\n";
    case '\r':
        return "\\r";
    case '\t':
        return "\\t";
    default:
        if (c >= 0x20 && c != 0x7f)
            return NULL;
        snprintf(tmp, 5, "\\x%02x", (unsigned)c);
        return tmp;
    }
}

const char *util_escape(const char *s, size_t len, char *out, size_t outlen)
{
    char tmp[5];
    size_t total = 0, o = 0;
    for (size_t i = 0; i < len && s[i]; i++) {
        const char *e = escape_of((unsigned char)s[i], tmp);
        total += e ? strlen(e) : 1;
    }
    /* Cut short: keep room for "..." after the last whole character. */
    size_t room = total < outlen ? outlen - 1 : (outlen - 1 > 3 ? outlen - 4 : 0);
    for (size_t i = 0; i < len && s[i]; i++) {
        const char *e = escape_of((unsigned char)s[i], tmp);
        size_t n = e ? strlen(e) : 1;
        if (o + n > room)
            break;
        memcpy(out + o, e ? e : &s[i], n);
        o += n;
    }
    if (total >= outlen) {
        size_t dots = outlen - 1 - o < 3 ? outlen - 1 - o : 3;
        memcpy(out + o, "...", dots);
        o += dots;
    }
    out[o] = '\0';
    return out;
}

const char *util_errtext(int rc)
{
    return rc == -ENOMEM ? "out of memory" : strerror(-rc);
}

int util_fill_err(char *err, size_t errlen, const char *what, int rc)
{
    if (errlen && !err[0])
        snprintf(err, errlen, "%s: %s", what, util_errtext(rc));
    return rc;
}
