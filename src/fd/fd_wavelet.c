/* fd_wavelet: built-in source wavelets and wavelet files. */
#include "fd/fd_wavelet.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fd/fd_binout.h"

static const double pi = 3.14159265358979323846;
static const double e_ = 2.71828182845904523536;

double fd_wavelet_value(enum fd_wavelet_kind kind, double fpeak, double t)
{
    double tau = t - 1.0 / fpeak;
    double a = pi * pi * fpeak * fpeak * tau * tau;
    switch (kind) {
    case FD_WAVELET_RICKER:
        return (1.0 - 2.0 * a) * exp(-a);
    case FD_WAVELET_GAUSSIAN:
        return exp(-a);
    case FD_WAVELET_DGAUSSIAN:
        /* d/dt exp(-pi^2 f^2 tau^2) = -2 pi^2 f^2 tau exp(..), whose largest value
         * sqrt(2) pi f e^-1/2 is at tau = -1/(pi f sqrt 2); divided by it. */
        return -sqrt(2.0 * e_) * pi * fpeak * tau * exp(-a);
    case FD_WAVELET_FILE:
        break;
    }
    return 0.0;
}

/* Ends with ".bin"? */
static bool is_bin(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && !strcmp(path + n - 4, ".bin");
}

/* Parses a text wavelet: one number per line, '#' comments, blank lines.
 * Fills at most nt samples of w; *count = values in the file. */
static int parse_text(const char *path, char *text, float *w, size_t nt, size_t *count,
                      char *err, size_t errlen)
{
    size_t n = 0;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *end;
        double v = strtod(line, &end);
        while (*end == ' ' || *end == '\t' || *end == '\r')
            end++;
        if (end == line) {
            const char *s = line;
            while (*s == ' ' || *s == '\t' || *s == '\r')
                s++;
            if (!*s)
                continue; /* blank or comment */
        }
        if (end == line || *end || !isfinite(v)) {
            snprintf(err, errlen,
                     "%s: value %zu: expected one finite number per line, got '%.40s'",
                     path, n + 1, line);
            return -EINVAL;
        }
        if (n < nt)
            w[n] = (float)v;
        n++;
    }
    *count = n;
    return 0;
}

float *fd_wavelet_make(const struct fd_job *job, size_t *padded, char *err, size_t errlen)
{
    size_t nt = (size_t)job->params.nt;
    float *w = calloc(nt, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory for a wavelet of %zu samples", nt);
        return NULL;
    }
    if (padded)
        *padded = 0;
    if (job->wavelet != FD_WAVELET_FILE) {
        for (size_t n = 0; n < nt; n++)
            w[n] = (float)fd_wavelet_value(job->wavelet, job->params.fpeak,
                                           (double)n * job->params.dt);
        return w;
    }
    void *buf;
    size_t len, count = 0;
    int rc = fd_read_file(job->wavelet_path, &buf, &len, err, errlen);
    if (rc) {
        free(w);
        return NULL;
    }
    if (is_bin(job->wavelet_path)) {
        if (len % sizeof(float)) {
            snprintf(err, errlen,
                     "%s: expected raw float32 (size a multiple of 4), got %zu bytes",
                     job->wavelet_path, len);
            rc = -EINVAL;
        } else {
            count = len / sizeof(float);
            memcpy(w, buf, (count < nt ? count : nt) * sizeof(float));
            for (size_t n = 0; n < nt && n < count && !rc; n++)
                if (!isfinite(w[n])) {
                    snprintf(err, errlen, "%s: sample %zu: expected a finite value",
                             job->wavelet_path, n);
                    rc = -EINVAL;
                }
        }
    } else {
        char *text = realloc(buf, len + 1);
        if (!text) {
            snprintf(err, errlen, "%s: out of memory", job->wavelet_path);
            rc = -ENOMEM;
        } else {
            buf = text;
            text[len] = '\0';
            rc = parse_text(job->wavelet_path, text, w, nt, &count, err, errlen);
        }
    }
    free(buf);
    if (!rc && count == 0) {
        snprintf(err, errlen, "%s: expected at least one sample, got none",
                 job->wavelet_path);
        rc = -EINVAL;
    }
    if (rc) {
        free(w);
        return NULL;
    }
    if (padded && count < nt)
        *padded = nt - count;
    return w;
}
