/* fd_segy: SEG-Y shot gathers (write and read back) through segyio. */
#include "fd/fd_segy.h"

#include "util/atomic_file.h"

#include <errno.h>
#include <math.h>
#include <segyio/segy.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A value in units of 1/|FD_SEGY_SCALAR| m as int32; false when it does not fit. */
static bool scaled(double metres, int32_t *out)
{
    double v = nearbyint(metres * -FD_SEGY_SCALAR);
    if (!(fabs(v) <= 2147483647.0))
        return false;
    *out = (int32_t)v;
    return true;
}

/* Fills the 3200-byte textual header (ASCII; segyio converts to EBCDIC). */
static void text_header(char *buf, const char *const *text, size_t ntext)
{
    memset(buf, ' ', SEGY_TEXT_HEADER_SIZE);
    buf[SEGY_TEXT_HEADER_SIZE] = '\0';
    for (size_t i = 0; i < 40; i++) {
        char line[81];
        const char *t = i < ntext && text[i] ? text[i] : "";
        if (i == 39)
            t = "END TEXTUAL HEADER";
        int n = snprintf(line, sizeof line, "C%02zu %-76.76s", i + 1, t);
        memcpy(buf + i * 80, line, (size_t)n);
    }
}

/* Sets one header field; false on failure (value out of the field's range). */
static bool setf(char *hdr, int field, int64_t v, bool bin)
{
    if (v < INT32_MIN || v > INT32_MAX)
        return false;
    return (bin ? segy_set_bfield(hdr, field, (int32_t)v)
                : segy_set_field(hdr, field, (int32_t)v)) == SEGY_OK;
}

/* A header field and its value. */
struct field {
    int field;
    int64_t value;
};

/* Sets n fields of a header (bin: the binary header). False when a value
 * does not fit its field. */
static bool set_fields(char *hdr, const struct field *f, size_t n, bool bin)
{
    for (size_t k = 0; k < n; k++)
        if (!setf(hdr, f[k].field, f[k].value, bin))
            return false;
    return true;
}

/* Fills the trace header of receiver r. Returns false when a value does not fit. */
static bool trace_header(char *th, const struct fd_gather *g, size_t r, int interval_us)
{
    const struct fd_point *s = &g->source, *p = &g->receivers[r];
    int32_t sx, sy, sz, gx, gy, gz;
    if (!scaled(s->x, &sx) || !scaled(s->y, &sy) || !scaled(s->z, &sz) ||
        !scaled(p->x, &gx) || !scaled(p->y, &gy) || !scaled(p->z, &gz))
        return false;
    double off = nearbyint(hypot(p->x - s->x, p->y - s->y));
    if (!(off <= INT32_MAX))
        return false;
    int64_t seq = (int64_t)r + 1;
    const struct field f[] = {
        {SEGY_TR_SEQ_LINE, seq},
        {SEGY_TR_SEQ_FILE, seq},
        {SEGY_TR_FIELD_RECORD, g->shot},
        {SEGY_TR_NUMBER_ORIG_FIELD, seq},
        {SEGY_TR_ENERGY_SOURCE_POINT, g->shot},
        {SEGY_TR_TRACE_ID, 1},
        {SEGY_TR_OFFSET, (int64_t)off},
        {SEGY_TR_RECV_GROUP_ELEV, -(int64_t)gz},
        {SEGY_TR_SOURCE_DEPTH, sz},
        {SEGY_TR_ELEV_SCALAR, FD_SEGY_SCALAR},
        {SEGY_TR_SOURCE_GROUP_SCALAR, FD_SEGY_SCALAR},
        {SEGY_TR_SOURCE_X, sx},
        {SEGY_TR_SOURCE_Y, sy},
        {SEGY_TR_GROUP_X, gx},
        {SEGY_TR_GROUP_Y, gy},
        {SEGY_TR_COORD_UNITS, 1},
        {SEGY_TR_SAMPLE_COUNT, g->nsamples},
        {SEGY_TR_SAMPLE_INTER, interval_us},
    };
    memset(th, 0, SEGY_TRACE_HEADER_SIZE);
    return set_fields(th, f, sizeof f / sizeof f[0], false);
}

/* Writes the textual and binary headers. Returns 0 or -errno. */
static int write_headers(segy_file *fp, const struct fd_gather *g, int interval,
                         const char *const *text, size_t ntext)
{
    char textbuf[SEGY_TEXT_HEADER_SIZE + 1];
    char bin[SEGY_BINARY_HEADER_SIZE];
    const struct field f[] = {
        {SEGY_BIN_INTERVAL, interval},
        {SEGY_BIN_INTERVAL_ORIG, interval},
        {SEGY_BIN_SAMPLES, g->nsamples},
        {SEGY_BIN_SAMPLES_ORIG, g->nsamples},
        {SEGY_BIN_FORMAT, SEGY_IEEE_FLOAT_4_BYTE},
        {SEGY_BIN_TRACES, g->nrec > 32767 ? 0 : (int64_t)g->nrec},
        {SEGY_BIN_ENSEMBLE_FOLD, 1},
        {SEGY_BIN_SORTING_CODE, 1},
        {SEGY_BIN_MEASUREMENT_SYSTEM, 1},
        {SEGY_BIN_SEGY_REVISION, 0x0100},
        {SEGY_BIN_TRACE_FLAG, 1},
    };
    text_header(textbuf, text, ntext);
    memset(bin, 0, sizeof bin);
    if (!set_fields(bin, f, sizeof f / sizeof f[0], true))
        return -EINVAL;
    errno = 0;
    if (segy_set_format(fp, SEGY_IEEE_FLOAT_4_BYTE) != SEGY_OK ||
        segy_write_textheader(fp, 0, textbuf) != SEGY_OK ||
        segy_write_binheader(fp, bin) != SEGY_OK)
        return errno ? -errno : -EIO;
    return 0;
}

/* Writes every trace (header and samples). Returns 0, -EINVAL with err set
 * (a coordinate does not fit; *step = NULL), or -errno. */
static int write_traces(segy_file *fp, const struct fd_gather *g, int interval,
                        const char *path, char *err, size_t errlen, const char **step)
{
    const long trace0 = SEGY_TEXT_HEADER_SIZE + SEGY_BINARY_HEADER_SIZE;
    const int ns = g->nsamples, bsize = segy_trsize(SEGY_IEEE_FLOAT_4_BYTE, ns);
    char th[SEGY_TRACE_HEADER_SIZE];
    float *buf = malloc((size_t)ns * sizeof *buf);
    if (!buf) {
        *step = "allocate a trace for";
        return -ENOMEM;
    }
    int rc = 0;
    for (size_t r = 0; r < g->nrec && !rc; r++) {
        if (!trace_header(th, g, r, interval)) {
            snprintf(err, errlen,
                     "%s: trace %zu: a coordinate does not fit a SEG-Y header field in cm",
                     path, r + 1);
            *step = NULL;
            rc = -EINVAL;
            break;
        }
        memcpy(buf, g->data + r * (size_t)ns, (size_t)ns * sizeof *buf);
        segy_from_native(SEGY_IEEE_FLOAT_4_BYTE, ns, buf);
        errno = 0;
        if (segy_write_traceheader(fp, (int)r, th, trace0, bsize) != SEGY_OK ||
            segy_writetrace(fp, (int)r, buf, trace0, bsize) != SEGY_OK) {
            rc = errno ? -errno : -EIO;
            *step = "write traces of";
        }
    }
    free(buf);
    return rc;
}

/* Opens the temp file created as fd for segyio, which takes only a name:
 * through /proc/self/fd so that what is written is the file created with
 * O_EXCL | O_NOFOLLOW even if its name was swapped meanwhile; by name where
 * /proc is not mounted (atomic_commit still checks the name). NULL, errno
 * set, on failure. */
static segy_file *open_segy(int fd, const char *tmp)
{
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    segy_file *fp = segy_open(self, "r+b");
    if (!fp && errno == ENOENT)
        fp = segy_open(tmp, "r+b");
    return fp;
}

int fd_segy_write(const char *path, const struct fd_gather *g, const char *const *text,
                  size_t ntext, char *err, size_t errlen)
{
    double us = nearbyint(g->dt * 1e6);
    if (us < 1 || us > 65535 || g->nsamples < 1 || g->nsamples > 32767 ||
        g->nrec > INT32_MAX) {
        snprintf(err, errlen,
                 "%s: expected 1..65535 us, 1..32767 samples and < 2^31 traces, got %g "
                 "us, %d, %zu",
                 path, g->dt * 1e6, g->nsamples, g->nrec);
        return -EINVAL;
    }
    int interval = (int)us;
    char tmp[4200];
    int tfd = atomic_create_tmp(path, tmp, sizeof tmp, err, errlen);
    if (tfd < 0)
        return tfd;
    segy_file *fp = open_segy(tfd, tmp);
    if (!fp) {
        int e = errno ? errno : EIO;
        snprintf(err, errlen, "%s: cannot open for writing: %s", tmp, strerror(e));
        close(tfd);
        unlink(tmp);
        return -e;
    }
    const char *step = "write headers of";
    int rc = write_headers(fp, g, interval, text, ntext);
    if (!rc)
        rc = write_traces(fp, g, interval, path, err, errlen, &step);
    /* segyio writes through stdio: a full disk often shows only when the
     * buffer is flushed at close; errno then says why. */
    errno = 0;
    if (segy_close(fp) != SEGY_OK && !rc) {
        rc = errno ? -errno : -EIO;
        step = "close";
    }
    if (rc) {
        if (step)
            snprintf(err, errlen, "%s: cannot %s the SEG-Y file: %s", tmp, step,
                     strerror(-rc));
        close(tfd);
        unlink(tmp);
        return rc;
    }
    return atomic_commit(tfd, tmp, path, err, errlen);
}

int fd_segy_read(const char *path, float **data, size_t *ntraces, int *nsamples,
                 double *dt, char *err, size_t errlen)
{
    segy_file *fp = segy_open(path, "rb");
    if (!fp) {
        int e = errno ? errno : EIO;
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
        return -e;
    }
    char bin[SEGY_BINARY_HEADER_SIZE];
    int rc = -EINVAL, traces = 0;
    float *d = NULL;
    if (segy_binheader(fp, bin) != SEGY_OK) {
        snprintf(err, errlen, "%s: cannot read the binary header", path);
        goto out_close;
    }
    int format = segy_format(bin), ns = segy_samples(bin);
    int32_t interval = 0;
    segy_get_bfield(bin, SEGY_BIN_INTERVAL, &interval);
    long trace0 = segy_trace0(bin);
    int bsize = segy_trsize(format, ns);
    if (ns <= 0 || bsize <= 0 ||
        (format != SEGY_IEEE_FLOAT_4_BYTE && format != SEGY_IBM_FLOAT_4_BYTE) ||
        segy_set_format(fp, format) != SEGY_OK ||
        segy_traces(fp, &traces, trace0, bsize) != SEGY_OK || traces <= 0) {
        snprintf(err, errlen, "%s: expected a SEG-Y file of 4-byte float traces", path);
        goto out_close;
    }
    d = malloc((size_t)traces * (size_t)ns * sizeof *d);
    if (!d) {
        snprintf(err, errlen, "%s: out of memory", path);
        rc = -ENOMEM;
        goto out_close;
    }
    for (int t = 0; t < traces; t++) {
        float *tr = d + (size_t)t * (size_t)ns;
        if (segy_readtrace(fp, t, tr, trace0, bsize) != SEGY_OK) {
            snprintf(err, errlen, "%s: cannot read trace %d", path, t + 1);
            rc = -EIO;
            goto out_close;
        }
        segy_to_native(format, ns, tr);
    }
    rc = 0;
out_close:
    segy_close(fp);
    if (rc) {
        free(d);
        return rc;
    }
    *data = d;
    *ntraces = (size_t)traces;
    *nsamples = ns;
    *dt = interval * 1e-6;
    return 0;
}
