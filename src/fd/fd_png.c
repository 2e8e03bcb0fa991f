/* fd_png: shot gathers as PNG pictures through libpng. */
#include "fd/fd_png.h"

#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fd/fd_binout.h"
#include "util/atomic_file.h"

/* qsort order of floats, ascending. */
static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

float fd_png_clip(const float *data, size_t n, double percentile)
{
    if (n == 0)
        return 0.0f;
    float *a = malloc(n * sizeof *a);
    if (!a)
        return 0.0f;
    for (size_t i = 0; i < n; i++)
        a[i] = isfinite(data[i]) ? fabsf(data[i]) : 0.0f;
    qsort(a, n, sizeof *a, cmp_float);
    double rank = ceil(percentile / 100.0 * (double)n);
    size_t k = rank < 1 ? 0 : (size_t)rank - 1;
    float v = a[k < n ? k : n - 1];
    free(a);
    return v;
}

/* Red-white-blue colour of amplitude v / clip. */
static void colour(float v, float clip, png_byte *rgb)
{
    float a = clip > 0 ? v / clip : 0.0f;
    a = a > 1.0f ? 1.0f : a < -1.0f ? -1.0f : a;
    png_byte fade = (png_byte)lrintf(255.0f * (1.0f - fabsf(a)));
    rgb[0] = a >= 0 ? 255 : fade;
    rgb[1] = fade;
    rgb[2] = a <= 0 ? 255 : fade;
}

/* Growing memory buffer libpng writes into. */
struct membuf {
    unsigned char *data; /* owned */
    size_t len, cap;
    bool failed; /* out of memory */
};

/* libpng write callback: appends to the membuf; sets failed when out of memory. */
static void mem_write(png_structp png, png_bytep p, png_size_t n)
{
    struct membuf *m = png_get_io_ptr(png);
    if (m->failed)
        return;
    if (m->len + n > m->cap) {
        size_t cap = m->cap ? m->cap : 65536;
        while (cap < m->len + n)
            cap *= 2;
        unsigned char *d = realloc(m->data, cap);
        if (!d) {
            m->failed = true;
            return;
        }
        m->data = d;
        m->cap = cap;
    }
    memcpy(m->data + m->len, p, n);
    m->len += n;
}

/* libpng flush callback: nothing to flush in memory. */
static void mem_flush(png_structp png)
{
    (void)png;
}

/* Encodes the picture into m. Returns 0 or -ENOMEM / -EIO. */
static int encode(struct membuf *m, const float *data, size_t nrec, int ns, float clip,
                  png_byte *row, size_t xs, size_t ys)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return -ENOMEM;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return -EIO;
    }
    png_uint_32 w = (png_uint_32)(nrec * xs), h = (png_uint_32)((size_t)ns * ys);
    png_set_write_fn(png, m, mem_write, mem_flush);
    png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (size_t s = 0; s < (size_t)ns; s++) {
        for (size_t r = 0; r < nrec; r++) {
            png_byte rgb[3];
            colour(data[r * (size_t)ns + s], clip, rgb);
            for (size_t k = 0; k < xs; k++)
                memcpy(row + 3 * (r * xs + k), rgb, 3);
        }
        for (size_t k = 0; k < ys; k++)
            png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return m->failed ? -ENOMEM : 0;
}

int fd_png_write_gather(const char *path, const float *data, size_t nrec, int nsamples,
                        double percentile, char *err, size_t errlen)
{
    if (nrec == 0 || nsamples <= 0 || nrec > 100000 || nsamples > 100000) {
        snprintf(err, errlen, "%s: expected 1..100000 traces and samples, got %zu x %d",
                 path, nrec, nsamples);
        return -EINVAL;
    }
    size_t xs = nrec >= 600 ? 1 : (600 + nrec - 1) / nrec;
    size_t ys = nsamples >= 400 ? 1 : (size_t)(400 + nsamples - 1) / (size_t)nsamples;
    xs = xs > 8 ? 8 : xs;
    ys = ys > 8 ? 8 : ys;
    float clip = fd_png_clip(data, nrec * (size_t)nsamples, percentile);
    png_byte *row = malloc(3 * nrec * xs);
    struct membuf m = {NULL, 0, 0, false};
    int rc = row ? encode(&m, data, nrec, nsamples, clip, row, xs, ys) : -ENOMEM;
    free(row);
    if (rc) {
        snprintf(err, errlen, "%s: cannot encode the PNG: %s", path, strerror(-rc));
    } else {
        struct atomic_chunk c = {m.data, m.len};
        rc = atomic_write(path, &c, 1, err, errlen);
    }
    free(m.data);
    return rc;
}
