/* fd_job: job file parsing. One key table drives defaults, parsing and help. */
#include "fd/fd_job.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fd/fd_geom.h"
#include "util/escape.h"

/* X(id, section, key, default, meaning). Default NULL = required; "" = optional
 * without a default (the survey keys: either the axis keys or the file). */
#define FD_JOB_KEYS(X)                                                                   \
    X(NX, "model", "nx", NULL, "cells along x (>= 1)")                                   \
    X(NY, "model", "ny", NULL, "cells along y (>= 1)")                                   \
    X(NZ, "model", "nz", NULL, "cells along z, depth (>= 1)")                            \
    X(DX, "model", "dx", NULL, "cell size along x (m); cell ix is at x = ix*dx")         \
    X(DY, "model", "dy", NULL, "cell size along y (m)")                                  \
    X(DZ, "model", "dz", NULL, "cell size along z (m), z positive down")                 \
    X(VP, "model", "vp", NULL,                                                           \
      "P velocity (m/s): NUMBER, layers V0,V1@Z1,V2@Z2,... (Vi from depth Zi m "         \
      "down), or PATH of raw float32 (nx*ny*nz values)")                                 \
    X(RHO, "model", "rho", "1000",                                                       \
      "density (kg/m^3), same forms as vp; acoustic2 ignores it")                        \
    X(EPSILON, "model", "epsilon", "0",                                                  \
      "Thomsen epsilon (vti), same forms as vp; 0 <= epsilon <= 1, >= delta")            \
    X(DELTA, "model", "delta", "0",                                                      \
      "Thomsen delta (vti), same forms as vp; -0.5 < delta <= epsilon")                  \
    X(THETA, "model", "theta", "0",                                                      \
      "tti: tilt of the symmetry axis from vertical (degrees, -90..90), same forms "     \
      "as vp")                                                                           \
    X(PHI, "model", "phi", "0",                                                          \
      "tti: azimuth of the symmetry axis from x toward y (degrees, -360..360), same "    \
      "forms as vp")                                                                     \
    X(ORDER, "model", "order", "zxy",                                                    \
      "layout of model files: zxy (z fastest, then x, then y) or xyz (x fastest, "       \
      "then y, then z)")                                                                 \
    X(SOURCE_X, "survey", "source_x", "", "shot x (m): VALUE or BEGIN:END:STEP")         \
    X(SOURCE_Y, "survey", "source_y", "", "shot y (m): VALUE or BEGIN:END:STEP")         \
    X(SOURCE_Z, "survey", "source_z", "", "shot depth (m): VALUE or BEGIN:END:STEP")     \
    X(SOURCES, "survey", "sources", "",                                                  \
      "PATH of shot positions, 'x y z' per line (instead of source_x/y/z)")              \
    X(RECEIVER_X, "survey", "receiver_x", "", "receiver x (m): VALUE or BEGIN:END:STEP") \
    X(RECEIVER_Y, "survey", "receiver_y", "", "receiver y (m): VALUE or BEGIN:END:STEP") \
    X(RECEIVER_Z, "survey", "receiver_z", "",                                            \
      "receiver depth (m): VALUE or BEGIN:END:STEP")                                     \
    X(RECEIVERS, "survey", "receivers", "",                                              \
      "PATH of receiver positions, 'x y z' per line (instead of receiver_x/y/z)")        \
    X(EQUATION, "modeling", "equation", "acoustic2",                                     \
      "acoustic2 (constant density, 2nd order in time), acoustic1 (variable "            \
      "density, staggered p-v), vti (pseudo-acoustic qP VTI) or tti (tilted VTI)")       \
    X(NT, "modeling", "nt", NULL, "time steps; samples at t = 0, dt, ..., (nt-1)*dt")    \
    X(DT, "modeling", "dt", NULL, "time step (s)")                                       \
    X(WAVELET, "modeling", "wavelet", "ricker",                                          \
      "ricker, gaussian, dgaussian (peak 1), or PATH: text with one value per line, "    \
      "or raw float32 if the name ends in .bin; zero-padded to nt samples")              \
    X(FPEAK, "modeling", "fpeak", NULL, "peak frequency of the wavelet (Hz)")            \
    X(BOUNDARY, "modeling", "boundary", "cpml", "absorbing boundary: cpml or sponge")    \
    X(ANISO_TAPER, "modeling", "aniso_taper", "0",                                       \
      "vti, tti: taper epsilon and delta to 0 within this radius (m) of each shot, "     \
      "w = sin^2(pi r / 2R) (suppresses the qSV artefact); 0 = off")                     \
    X(BOUNDARY_WIDTH, "modeling", "boundary_width", "20",                                \
      "absorbing cells added outside the model on each side (0..500)")                   \
    X(FREE_SURFACE, "modeling", "free_surface", "no",                                    \
      "yes: p = 0 at z = 0 instead of an absorbing top")                                 \
    X(RECORD_DT, "modeling", "record_dt", "dt",                                          \
      "sample interval of the gathers (s), a multiple of dt; samples are taken at "      \
      "multiples of record_dt, no anti-alias filter")                                    \
    X(MUTE_DIRECT, "modeling", "mute_direct", "no",                                      \
      "yes: zero each trace until the direct wave has passed (docs/fd.md)")              \
    X(DIR, "output", "dir", "shots", "output directory (created if missing)")            \
    X(FORMAT, "output", "format", "segy",                                                \
      "segy (shot_%05d.sgy) or bin (shot_%05d.bin float32 trace-major + .json)")         \
    X(SNAPSHOT_EVERY, "output", "snapshot_every", "0",                                   \
      "write the pressure every k steps to snap_SHOT_STEP.bin (0 = never)")

enum key_id {
#define X(id, sec, key, def, help) K_##id,
    FD_JOB_KEYS(X)
#undef X
        K_COUNT
};

struct key_def {
    const char *section; /* "model", "survey", "modeling", "output" */
    const char *key;     /* name in the job file */
    const char *def;     /* default as text, NULL = required */
    const char *help;    /* one-line meaning */
};

static const struct key_def keys[K_COUNT] = {
#define X(id, sec, key, def, help) {sec, key, def, help},
    FD_JOB_KEYS(X)
#undef X
};

static const char *const sections[] = {"model", "survey", "modeling", "output"};

/* Parser state shared by the line reader, the inih handler and the converters. */
struct parse_ctx {
    FILE *f;            /* the job file */
    const char *path;   /* as given, for messages */
    int line;           /* number of the line last handed to inih */
    char *val[K_COUNT]; /* raw values set in the file, owned */
    int lines[K_COUNT]; /* their line numbers, 0 = not set */
    char *err;          /* caller's buffer */
    size_t errlen;
    int rc; /* first error, 0 = none */
};

/* Records the first error only; later ones are consequences. */
static void set_err(struct parse_ctx *c, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(struct parse_ctx *c, int rc, const char *fmt, ...)
{
    if (c->rc)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
    c->rc = rc;
}

/* Error about key id's value: "JOB:LINE: key 'K': expected WHAT, got 'VALUE'". */
static void bad_value(struct parse_ctx *c, enum key_id id, const char *what)
{
    const char *v = c->val[id] ? c->val[id] : keys[id].def;
    char esc[96];
    set_err(c, -EINVAL, "%s:%d: key '%s': expected %s, got '%s'", c->path, c->lines[id],
            keys[id].key, what, util_escape(v ? v : "", 80, esc, sizeof esc));
}

/* The text of key id: the file's value or the table's default. */
static const char *text_of(const struct parse_ctx *c, enum key_id id)
{
    return c->val[id] ? c->val[id] : keys[id].def;
}

/* inih line reader: one line per call, leading blanks removed (so indentation
 * is not taken for inih's continuation lines), over-long lines refused. */
static char *read_line(char *str, int num, void *stream)
{
    struct parse_ctx *c = stream;
    if (c->rc)
        return NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len = getline(&line, &cap, c->f);
    if (len < 0) {
        free(line);
        return NULL;
    }
    c->line++;
    const char *s = line;
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    /* '#' after a blank starts a comment, like inih's ';' ("nx = 10  # cells"). */
    for (size_t i = 1; i < n; i++)
        if (s[i] == '#' && (s[i - 1] == ' ' || s[i - 1] == '\t')) {
            n = i;
            break;
        }
    while (n > 0 &&
           (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n + 2 > (size_t)num) {
        set_err(c, -EINVAL, "%s:%d: expected a line of at most %d characters, got %zu",
                c->path, c->line, num - 2, n);
        free(line);
        return NULL;
    }
    if (*s == '[') {
        const char *close = strchr(s, ']');
        bool known = false;
        for (size_t i = 0; close && i < sizeof sections / sizeof *sections; i++)
            known |= strlen(sections[i]) == (size_t)(close - s - 1) &&
                     !strncmp(s + 1, sections[i], (size_t)(close - s - 1));
        if (!known) {
            char esc[96];
            set_err(c, -EINVAL,
                    "%s:%d: expected a section [model], [survey], [modeling] or [output], "
                    "got '%s'",
                    c->path, c->line, util_escape(s, n > 80 ? 80 : n, esc, sizeof esc));
            free(line);
            return NULL;
        }
    }
    memcpy(str, s, n);
    str[n] = '\n';
    str[n + 1] = '\0';
    free(line);
    return str;
}

/* inih handler: stores the raw value of a known key. Returns 1 ok, 0 error. */
static int on_key(void *user, const char *section, const char *name, const char *value)
{
    struct parse_ctx *c = user;
    if (c->rc)
        return 0;
    if (!*section) {
        set_err(c, -EINVAL,
                "%s:%d: key '%s': expected a [section] line before the first key",
                c->path, c->line, name);
        return 0;
    }
    for (int i = 0; i < K_COUNT; i++) {
        if (strcmp(keys[i].section, section) || strcmp(keys[i].key, name))
            continue;
        if (!*value) {
            set_err(c, -EINVAL, "%s:%d: key '%s': expected a value, got ''", c->path,
                    c->line, name);
            return 0;
        }
        if (c->val[i]) {
            set_err(
                c, -EINVAL,
                "%s:%d: key '%s': expected one setting, got a second (first on line %d)",
                c->path, c->line, name, c->lines[i]);
            return 0;
        }
        c->val[i] = strdup(value);
        if (!c->val[i]) {
            set_err(c, -ENOMEM, "%s: out of memory", c->path);
            return 0;
        }
        c->lines[i] = c->line;
        return 1;
    }
    char known[512] = "";
    size_t used = 0;
    for (int i = 0; i < K_COUNT; i++)
        if (!strcmp(keys[i].section, section) && used < sizeof known)
            used += (size_t)snprintf(known + used, sizeof known - used, "%s%s",
                                     used ? ", " : "", keys[i].key);
    char esc[96];
    set_err(c, -EINVAL, "%s:%d: key '%s' in [%s]: expected one of %s", c->path, c->line,
            util_escape(name, 80, esc, sizeof esc), section, known);
    return 0;
}

/* Parses a whole string as an integer in [lo, hi]. */
static bool parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* Parses a whole string as a finite double. */
static bool parse_num(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* Key id as an integer in [lo, hi] into *out. Returns 0 or -EINVAL (error recorded). */
static int get_int(struct parse_ctx *c, enum key_id id, long lo, long hi, int *out)
{
    long v;
    if (!parse_int(text_of(c, id), lo, hi, &v)) {
        char what[96];
        snprintf(what, sizeof what, "an integer in [%ld, %ld]", lo, hi);
        bad_value(c, id, what);
        return -EINVAL;
    }
    *out = (int)v;
    return 0;
}

/* Key id as a finite number > 0 into *out. Returns 0 or -EINVAL (error recorded). */
static int get_positive(struct parse_ctx *c, enum key_id id, double *out)
{
    if (!parse_num(text_of(c, id), out) || !(*out > 0.0)) {
        bad_value(c, id, "a positive number");
        return -EINVAL;
    }
    return 0;
}

/* Matches the value against a NULL-terminated list; *out = index. */
/* Index of v in a NULL-terminated list, -1 when absent. */
static int find_choice(const char *v, const char *const *choices)
{
    for (int i = 0; choices[i]; i++)
        if (!strcmp(v, choices[i]))
            return i;
    return -1;
}

static int get_choice(struct parse_ctx *c, enum key_id id, const char *const *choices,
                      const char *what, int *out)
{
    *out = find_choice(text_of(c, id), choices);
    if (*out >= 0)
        return 0;
    bad_value(c, id, what);
    return -EINVAL;
}

/* Key id as yes/no into *out. Returns 0 or -EINVAL (error recorded). */
static int get_bool(struct parse_ctx *c, enum key_id id, bool *out)
{
    static const char *const yn[] = {"no", "yes", NULL};
    int i;
    if (get_choice(c, id, yn, "yes or no", &i))
        return -EINVAL;
    *out = i == 1;
    return 0;
}

char *fd_job_resolve(const char *dir, const char *path)
{
    if (path[0] == '/' || !dir || !*dir || !strcmp(dir, "."))
        return strdup(path);
    size_t n = strlen(dir) + strlen(path) + 2;
    char *r = malloc(n);
    if (r)
        snprintf(r, n, "%s/%s", dir, path);
    return r;
}

/* Resolves a path value and checks it can be read. */
static int get_readable_path(struct parse_ctx *c, const char *dir, enum key_id id,
                             const char *what, char **out)
{
    char *p = fd_job_resolve(dir, text_of(c, id));
    if (!p) {
        set_err(c, -ENOMEM, "%s: out of memory", c->path);
        return -ENOMEM;
    }
    if (access(p, R_OK) != 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s (%s: %s)", what, p, strerror(errno));
        free(p);
        bad_value(c, id, msg);
        return -EINVAL;
    }
    *out = p;
    return 0;
}

/* "V0,V1@Z1,..." into layers. Returns false when the text is not of that form. */
static bool parse_layers(const char *s, struct fd_prop *p)
{
    size_t n = 1;
    for (const char *q = s; *q; q++)
        n += *q == ',';
    struct fd_layer *l = calloc(n, sizeof *l);
    if (!l)
        return false;
    char *copy = strdup(s);
    if (!copy) {
        free(l);
        return false;
    }
    bool ok = true;
    size_t i = 0;
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok && ok;
         tok = strtok_r(NULL, ",", &save), i++) {
        char *at = strchr(tok, '@');
        if (i == 0) {
            ok = !at && parse_num(tok, &l[0].value);
            continue;
        }
        if (!at) {
            ok = false;
            break;
        }
        *at = '\0';
        ok = parse_num(tok, &l[i].value) && parse_num(at + 1, &l[i].z) &&
             l[i].z > l[i - 1].z;
    }
    free(copy);
    if (!ok || i != n) {
        free(l);
        return false;
    }
    p->kind = FD_PROP_LAYERS;
    p->layers = l;
    p->nlayers = n;
    return true;
}

/* A model property: NUMBER, layers, or a readable file; positive: values > 0. */
static int get_prop_x(struct parse_ctx *c, const char *dir, enum key_id id,
                      struct fd_prop *p, bool positive)
{
    const char *v = text_of(c, id);
    p->line = c->lines[id];
    if (parse_num(v, &p->value)) {
        p->kind = FD_PROP_CONST;
        if (positive && !(p->value > 0.0)) {
            bad_value(c, id, "a positive number, layers V0,V1@Z1,... or a file");
            return -EINVAL;
        }
        return 0;
    }
    if (strchr(v, '@')) {
        if (!parse_layers(v, p)) {
            bad_value(c, id,
                      "layers V0,V1@Z1,V2@Z2,... with depths increasing from Z1 > 0");
            return -EINVAL;
        }
        for (size_t i = 0; i < p->nlayers; i++)
            if (positive && !(p->layers[i].value > 0.0)) {
                bad_value(c, id, "positive layer values");
                return -EINVAL;
            }
        return 0;
    }
    p->kind = FD_PROP_FILE;
    return get_readable_path(c, dir, id,
                             "a positive number, layers V0,V1@Z1,... or a readable file",
                             &p->path);
}

/* vp or rho (positive values). */
static int get_prop(struct parse_ctx *c, const char *dir, enum key_id id,
                    struct fd_prop *p)
{
    return get_prop_x(c, dir, id, p, true);
}

/* epsilon, delta, theta or phi: any number (ranges are checked with the model,
 * fd_check). */
static int get_thomsen(struct parse_ctx *c, const char *dir, enum key_id id,
                       struct fd_prop *p)
{
    return get_prop_x(c, dir, id, p, false);
}

/* aniso_taper: a finite radius >= 0 in metres. Returns 0 or -EINVAL. */
static int get_taper(struct parse_ctx *c, double *out)
{
    if (!parse_num(text_of(c, K_ANISO_TAPER), out) || !(*out >= 0.0)) {
        bad_value(c, K_ANISO_TAPER, "a radius >= 0 (m)");
        return -EINVAL;
    }
    return 0;
}

/* One survey group: either the file key or all three axis keys. */
static int get_positions(struct parse_ctx *c, const char *dir, enum key_id kx,
                         enum key_id kfile, const char *what, struct fd_point **pts,
                         size_t *n)
{
    bool any_axis = c->val[kx] || c->val[kx + 1] || c->val[kx + 2];
    if (c->val[kfile]) {
        if (any_axis) {
            enum key_id first = c->val[kx] ? kx : c->val[kx + 1] ? kx + 1 : kx + 2;
            char msg[128];
            snprintf(msg, sizeof msg, "either %s = PATH or the axis keys, not both",
                     keys[kfile].key);
            bad_value(c, first, msg);
            return -EINVAL;
        }
        char *p;
        if (get_readable_path(c, dir, kfile, "a readable file of 'x y z' lines", &p))
            return -EINVAL;
        int rc = fd_geom_read_points(p, pts, n, c->err, c->errlen);
        free(p);
        if (rc)
            c->rc = rc;
        return rc;
    }
    double *ax[3] = {NULL, NULL, NULL};
    size_t na[3] = {0, 0, 0};
    int rc = 0;
    for (int a = 0; a < 3 && !rc; a++) {
        enum key_id id = (enum key_id)((int)kx + a);
        if (!c->val[id]) {
            set_err(
                c, -EINVAL,
                "%s: [survey] key '%s' is missing: expected %s = VALUE or BEGIN:END:STEP "
                "(with the other two axes), or %s = PATH",
                c->path, keys[id].key, keys[id].key, keys[kfile].key);
            rc = -EINVAL;
            break;
        }
        char why[160];
        rc = fd_geom_parse_axis(c->val[id], &ax[a], &na[a], why, sizeof why);
        if (rc == -ENOMEM)
            set_err(c, rc, "%s: out of memory", c->path);
        else if (rc)
            bad_value(c, id, why);
    }
    if (!rc) {
        rc = fd_geom_expand(ax[0], na[0], ax[1], na[1], ax[2], na[2], pts, n);
        if (rc == -E2BIG) {
            char msg[128];
            snprintf(msg, sizeof msg, "at most %d %s in all, got %zu x %zu x %zu",
                     FD_GEOM_MAX_POINTS, what, na[0], na[1], na[2]);
            bad_value(c, kx, msg);
            rc = -EINVAL;
        } else if (rc) {
            set_err(c, rc, "%s: out of memory", c->path);
        }
    }
    for (int a = 0; a < 3; a++)
        free(ax[a]);
    return rc;
}

/* record_dt: a multiple k >= 1 of dt within 1e-9 relative; sets record_every. */
static int get_record_dt(struct parse_ctx *c, struct fd_job *job)
{
    double dt = job->params.dt;
    if (!c->val[K_RECORD_DT]) {
        job->record_dt = dt;
        job->params.record_every = 1;
        return 0;
    }
    double r;
    if (get_positive(c, K_RECORD_DT, &r))
        return -EINVAL;
    double k = nearbyint(r / dt);
    if (k < 1.0 || k > INT_MAX || fabs(k * dt - r) > 1e-9 * r) {
        char what[128];
        snprintf(what, sizeof what, "a multiple of dt = %g s (within 1e-9 relative)", dt);
        bad_value(c, K_RECORD_DT, what);
        return -EINVAL;
    }
    job->params.record_every = (int)k;
    job->record_dt = k * dt;
    return 0;
}

/* Converts every key into *job. Returns 0 or the first error (in c). */
static int convert(struct parse_ctx *c, struct fd_job *job)
{
    for (int i = 0; i < K_COUNT; i++)
        if (!keys[i].def && !c->val[i]) {
            set_err(c, -EINVAL, "%s: [%s] key '%s' is missing: expected %s = ... (%s)",
                    c->path, keys[i].section, keys[i].key, keys[i].key, keys[i].help);
            return c->rc;
        }
    const char *dir = job->dir;
    struct fd_grid *g = &job->grid;
    struct fd_params *p = &job->params;
    int order, eq, bnd, fmt;
    static const char *const orders[] = {"zxy", "xyz", NULL};
    static const char *const eqs[] = {"acoustic2", "acoustic1", "vti", "tti", NULL};
    static const char *const bnds[] = {"cpml", "sponge", NULL};
    static const char *const fmts[] = {"segy", "bin", NULL};
    static const char *const wavs[] = {"ricker", "gaussian", "dgaussian", NULL};
    if (get_int(c, K_NX, 1, 100000, &g->nx) || get_int(c, K_NY, 1, 100000, &g->ny) ||
        get_int(c, K_NZ, 1, 100000, &g->nz) || get_positive(c, K_DX, &g->dx) ||
        get_positive(c, K_DY, &g->dy) || get_positive(c, K_DZ, &g->dz) ||
        get_choice(c, K_ORDER, orders, "zxy or xyz", &order) ||
        get_prop(c, dir, K_VP, &job->vp) || get_prop(c, dir, K_RHO, &job->rho) ||
        get_thomsen(c, dir, K_EPSILON, &job->eps) ||
        get_thomsen(c, dir, K_DELTA, &job->del) ||
        get_thomsen(c, dir, K_THETA, &job->theta) ||
        get_thomsen(c, dir, K_PHI, &job->phi) ||
        get_positions(c, dir, K_SOURCE_X, K_SOURCES, "shots", &job->sources,
                      &job->nsrc) ||
        get_positions(c, dir, K_RECEIVER_X, K_RECEIVERS, "receivers", &job->receivers,
                      &job->nrec) ||
        get_choice(c, K_EQUATION, eqs, "acoustic2, acoustic1, vti or tti", &eq) ||
        get_int(c, K_NT, 1, 100000000, &p->nt) || get_positive(c, K_DT, &p->dt) ||
        get_positive(c, K_FPEAK, &p->fpeak) ||
        get_choice(c, K_BOUNDARY, bnds, "cpml or sponge", &bnd) ||
        get_int(c, K_BOUNDARY_WIDTH, 0, 500, &p->boundary_width) ||
        get_taper(c, &p->aniso_taper) || get_bool(c, K_FREE_SURFACE, &p->free_surface) ||
        get_record_dt(c, job) || get_bool(c, K_MUTE_DIRECT, &job->mute_direct) ||
        get_choice(c, K_FORMAT, fmts, "segy or bin", &fmt) ||
        get_int(c, K_SNAPSHOT_EVERY, 0, INT_MAX, &p->snapshot_every))
        return c->rc;
    job->order = (enum fd_order)order;
    p->equation = (enum fd_equation)eq;
    p->boundary = (enum fd_boundary)bnd;
    job->format = (enum fd_format)fmt;
    int w = find_choice(text_of(c, K_WAVELET), wavs);
    if (w >= 0) {
        job->wavelet = (enum fd_wavelet_kind)w;
    } else {
        job->wavelet = FD_WAVELET_FILE;
        if (get_readable_path(c, dir, K_WAVELET,
                              "ricker, gaussian, dgaussian or a readable wavelet file",
                              &job->wavelet_path))
            return c->rc;
    }
    job->out_dir = fd_job_resolve(dir, text_of(c, K_DIR));
    if (!job->out_dir || !*text_of(c, K_DIR)) {
        if (job->out_dir)
            bad_value(c, K_DIR, "a directory name");
        else
            set_err(c, -ENOMEM, "%s: out of memory", c->path);
        return c->rc;
    }
    struct fd_job_lines *l = &job->lines;
    const int *ln = c->lines;
    *l = (struct fd_job_lines){
        ln[K_NX],         ln[K_NY],        ln[K_NZ],         ln[K_DX],
        ln[K_DY],         ln[K_DZ],        ln[K_SOURCE_X],   ln[K_SOURCE_Y],
        ln[K_SOURCE_Z],   ln[K_SOURCES],   ln[K_RECEIVER_X], ln[K_RECEIVER_Y],
        ln[K_RECEIVER_Z], ln[K_RECEIVERS], ln[K_NT],         ln[K_DT],
        ln[K_RECORD_DT],  ln[K_FPEAK],     ln[K_WAVELET],    ln[K_FORMAT]};
    return 0;
}

int fd_job_load(const char *path, struct fd_job *job, char *err, size_t errlen)
{
    memset(job, 0, sizeof *job);
    struct parse_ctx c = {.path = path, .err = err, .errlen = errlen};
    err[0] = '\0';
    c.f = fopen(path, "re");
    if (!c.f) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot open job file: %s", path, strerror(e));
        return -e;
    }
    int line = ini_parse_stream(read_line, &c, on_key, &c);
    if (!c.rc && ferror(c.f))
        set_err(&c, -EIO, "%s: read error", path);
    if (!c.rc && line > 0)
        set_err(&c, -EINVAL, "%s:%d: expected 'key = value', '[section]' or a comment",
                path, line);
    fclose(c.f);
    if (!c.rc) {
        job->path = strdup(path);
        const char *slash = strrchr(path, '/');
        job->dir =
            slash ? strndup(path, (size_t)(slash - path + (slash == path))) : strdup(".");
        if (!job->path || !job->dir)
            set_err(&c, -ENOMEM, "%s: out of memory", path);
        else
            convert(&c, job);
    }
    for (int i = 0; i < K_COUNT; i++)
        free(c.val[i]);
    if (c.rc)
        fd_job_free(job);
    return c.rc;
}

/* Frees what a property owns (not the struct itself). */
static void prop_free(struct fd_prop *p)
{
    free(p->layers);
    free(p->path);
}

void fd_job_free(struct fd_job *job)
{
    free(job->path);
    free(job->dir);
    prop_free(&job->vp);
    prop_free(&job->rho);
    prop_free(&job->eps);
    prop_free(&job->del);
    prop_free(&job->theta);
    prop_free(&job->phi);
    free(job->sources);
    free(job->receivers);
    free(job->wavelet_path);
    free(job->out_dir);
    memset(job, 0, sizeof *job);
}

void fd_job_help(FILE *f)
{
    fputs("shotq model job file (INI). Keys, defaults and meanings:\n", f);
    const char *sec = "";
    for (int i = 0; i < K_COUNT; i++) {
        if (strcmp(sec, keys[i].section)) {
            sec = keys[i].section;
            fprintf(f, "\n[%s]\n", sec);
        }
        const char *def = !keys[i].def   ? "(required)"
                          : *keys[i].def ? keys[i].def
                                         : "(none)";
        fprintf(f, "  %-15s %-11s %s\n", keys[i].key, def, keys[i].help);
    }
    fputs("\nShots are numbered from 0, x fastest, then y, then z (or file order);\n"
          "give either source_x/y/z or sources (likewise for receivers).\n"
          "Relative paths resolve against the job file's directory.\n",
          f);
}

int fd_job_nsamples(const struct fd_job *job)
{
    int k = job->params.record_every > 0 ? job->params.record_every : 1;
    return (job->params.nt + k - 1) / k;
}

const char *fd_job_equation_name(enum fd_equation eq)
{
    static const char *const names[] = {"acoustic2", "acoustic1", "vti", "tti"};
    return names[eq];
}

const char *fd_job_boundary_name(enum fd_boundary b)
{
    return b == FD_BOUNDARY_SPONGE ? "sponge" : "cpml";
}

const char *fd_job_wavelet_name(enum fd_wavelet_kind w)
{
    static const char *const names[] = {"ricker", "gaussian", "dgaussian", "file"};
    return names[w];
}
