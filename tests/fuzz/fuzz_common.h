/* fuzz_common: helpers shared by the libFuzzer targets (tests only). */
#ifndef SHOTQ_FUZZ_COMMON_H
#define SHOTQ_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Copies the fuzz input into a fresh NUL-terminated buffer (NULL on ENOMEM). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return NULL;
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

#endif
