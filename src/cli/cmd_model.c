/* shotq model: seismic forward modelling with the built-in FD workload.
 *
 *   shotq model JOB.ini [SCHEDULER OPTIONS]      every shot through the scheduler
 *   shotq model JOB.ini --shot K [--device D]    one shot in this process
 *   shotq model JOB.ini --check                  pre-flight checks only
 *   shotq model JOB.ini --png-shot K OUT.png     picture of shot K's gather
 *   shotq model --help-job                       every job key with its default
 *
 * The job is loaded and checked before anything starts; any problem is one
 * line on stderr and exit status 2. Options this command does not know are
 * handed to the scheduler (run_main) untouched.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "util/atomic_file.h"
#include "devices/devices.h"
#include "fd/fd_binout.h"
#include "fd/fd_build.h"
#include "fd/fd_check.h"
#include "fd/fd_engine.h"
#include "fd/fd_job.h"
#include "fd/fd_plugin.h"
#include "fd/fd_png.h"
#include "fd/fd_segy.h"
#include "fd/fd_shot.h"
#include "journal/journal.h"
#include "util/log.h"

/* Scheduler options that take a value (DESIGN.md, "CLI"), to pass them through. */

struct model_opts {
    const char *job;     /* JOB.ini */
    long long shot;      /* --shot K, -1 = all through the scheduler */
    const char *device;  /* --device cpu[:N] | cuda:N */
    long long png_shot;  /* --png-shot K, -1 = none */
    const char *png_out; /* its OUT.png */
    double png_clip;     /* --png-clip P (percentile) */
    bool check_only;     /* --check */
    const char *devices; /* --devices SPEC seen among the scheduler options */
    char **pass;         /* scheduler options, pass[0] = "model" */
    int npass;
};

/* Prints the options of `shotq model`. */
static void usage(FILE *f)
{
    fputs(
        "usage: shotq model JOB.ini [OPTIONS]\n"
        "  (no option)           run every shot through the scheduler; scheduler "
        "options\n"
        "                        (--devices --slots --policy --run-dir --report --gantt\n"
        "                        --retries --timeout --task-mem --quiet ...) pass "
        "through;\n"
        "                        speculative copies of late shots are on (SEG-Y files\n"
        "                        are written atomically): --no-speculate turns them off\n"
        "  --shot K              run shot K in this process and exit\n"
        "  --device D            device for --shot: cpu (default), cpu:THREADS or "
        "cuda:N\n"
        "  --check               load and check the job and model, run nothing\n"
        "  --png-shot K OUT.png  draw shot K's gather (after any run) as a PNG\n"
        "  --png-clip P          clip the PNG at percentile P of |amplitude| (default "
        "99)\n"
        "  --help-job            list every job file key with its default and meaning\n",
        f);
    fprintf(f, "FD back ends in this build: %s\n", fd_build_backends());
}

/* Parses a whole non-negative integer. */
static bool parse_count(const char *s, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno || v < 0)
        return false;
    *out = v;
    return true;
}

/* Splits argv into this command's options and the scheduler's. Returns 0,
 * 1 when help was printed (exit 0), or 2 after printing one error line. */
static int parse_args(int argc, char **argv, struct model_opts *o)
{
    o->shot = -1;
    o->png_shot = -1;
    o->png_clip = 99.0;
    o->pass[o->npass++] = "model";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_val = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 1;
        }
        if (!strcmp(a, "--help-job")) {
            fd_job_help(stdout);
            return 1;
        }
        if (!strcmp(a, "--check")) {
            o->check_only = true;
        } else if (!strcmp(a, "--shot") || !strcmp(a, "--device") ||
                   !strcmp(a, "--png-clip")) {
            if (!has_val) {
                fprintf(stderr, "shotq model: option %s: expected a value, got nothing\n",
                        a);
                return 2;
            }
            const char *v = argv[++i];
            char *end;
            if (!strcmp(a, "--device")) {
                o->device = v;
            } else if (!strcmp(a, "--shot") ? !parse_count(v, &o->shot)
                                            : (o->png_clip = strtod(v, &end),
                                               *end || end == v || !(o->png_clip > 0) ||
                                                   o->png_clip > 100)) {
                fprintf(stderr, "shotq model: option %s: expected %s, got '%s'\n", a,
                        !strcmp(a, "--shot") ? "a shot number >= 0"
                                             : "a percentile in (0, 100]",
                        v);
                return 2;
            }
        } else if (!strcmp(a, "--png-shot")) {
            if (i + 2 >= argc || !parse_count(argv[i + 1], &o->png_shot)) {
                fprintf(stderr,
                        "shotq model: option --png-shot: expected K OUT.png, got '%s'\n",
                        i + 1 < argc ? argv[i + 1] : "");
                return 2;
            }
            o->png_out = argv[i + 2];
            i += 2;
        } else if ((a[0] == '-' && a[1] == '-') || !strcmp(a, "-q")) {
            o->pass[o->npass++] = argv[i];
            if (run_opt_takes_value(a) && has_val) {
                o->pass[o->npass++] = argv[++i];
                if (!strcmp(a, "--devices"))
                    o->devices = argv[i];
            }
            if (!strncmp(a, "--devices=", 10))
                o->devices = a + 10;
        } else if (!o->job) {
            o->job = a;
        } else {
            fprintf(stderr, "shotq model: expected one job file, got '%s' and '%s'\n",
                    o->job, a);
            return 2;
        }
    }
    o->pass[o->npass] = NULL;
    if (!o->job) {
        fputs("shotq model: expected a job file (JOB.ini); see --help and --help-job\n",
              stderr);
        return 2;
    }
    return 0;
}

/* Host memory in bytes, 0 if unknown. */
static uint64_t host_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : 0;
}

/* Checks that some device can hold a shot. Returns 0 or 2 (message printed). */
static int check_memory(const struct fd_job *job, const struct model_opts *o)
{
    char err[2048];
    if (o->shot >= 0) {
        if (o->device && !strncmp(o->device, "cuda", 4))
            return 0; /* fd_engine_create checks the GPU's memory */
        struct fd_check_device d = {"cpu (host memory)", host_memory()};
        bool ok;
        if (d.mem_total && fd_check_devices(job, &d, 1, &ok, err, sizeof err)) {
            fprintf(stderr, "shotq model: %s\n", err);
            return 2;
        }
        return 0;
    }
    struct dev_list list = {NULL, 0};
    if (dev_discover(o->devices, &list, err, sizeof err) != 0)
        return 0; /* the scheduler reports a bad device spec itself */
    struct fd_check_device *d = calloc(list.n + 1, sizeof *d);
    bool *ok = calloc(list.n + 1, sizeof *ok);
    int rc = 0;
    if (d && ok) {
        for (size_t i = 0; i < list.n; i++)
            d[i] = (struct fd_check_device){list.v[i].name, list.v[i].mem_total};
        if (fd_check_devices(job, d, list.n, ok, err, sizeof err)) {
            fprintf(stderr, "shotq model: %s\n", err);
            rc = 2;
        }
    }
    free(d);
    free(ok);
    dev_list_free(&list);
    return rc;
}

/* Parses --device into a worker's device description. Returns false if malformed. */
static bool device_info(const char *spec, struct shotq_device_info *dev)
{
    *dev = (struct shotq_device_info){.index = 0,
                                      .cuda_ordinal = -1,
                                      .uuid = "",
                                      .name = "cpu",
                                      .kind = "cpu",
                                      .mem_total = 0,
                                      .speed = 1.0};
    long long n = 0;
    if (!spec || !strcmp(spec, "cpu"))
        return true;
    if (!strncmp(spec, "cpu:", 4) && parse_count(spec + 4, &n) && n >= 1 &&
        n <= INT_MAX) {
        dev->ncpus = (int)n;
        return true;
    }
    if (!strncmp(spec, "cuda:", 5) && parse_count(spec + 5, &n) && n <= INT_MAX) {
        dev->kind = "gpu";
        dev->name = "cuda";
        dev->cuda_ordinal = (int)n;
        return true;
    }
    return false;
}

/* Progress hook for --shot: nothing to report to. */
static void no_progress(void *ctx, double fraction)
{
    (void)ctx;
    (void)fraction;
}

/* Runs one shot in this process through the plugin, as a worker would. */
static int run_one(const char *job_path, const struct model_opts *o)
{
    struct shotq_device_info dev;
    if (!device_info(o->device, &dev)) {
        fprintf(stderr,
                "shotq model: option --device: expected cpu, cpu:THREADS or cuda:N, got "
                "'%s'\n",
                o->device);
        return 2;
    }
    if (dev.cuda_ordinal >= 0 && !fd_cuda_available()) {
        fprintf(stderr,
                "shotq model: option --device: expected a usable CUDA device, got '%s' "
                "(FD back "
                "ends in this build: %s; no CUDA device found)\n",
                o->device, fd_build_backends());
        return 2;
    }
    const struct shotq_plugin *pl = fd_plugin();
    void *state;
    /* The pre-flight already showed the job's warnings; init repeats the checks. */
    log_set_level(LOG_ERROR);
    int irc = pl->init(&dev, job_path, &state);
    log_set_level(LOG_INFO);
    if (irc != 0)
        return 1;
    struct shotq_task_info task = {.id = o->shot,
                                   .args = "",
                                   .weight = 1.0,
                                   .attempt = 1,
                                   .run_dir = ".",
                                   .progress = no_progress};
    int rc = pl->run(state, &task);
    pl->fini(state);
    return rc ? 1 : 0;
}

/* Draws shot k's output file as a PNG. */
static int draw_png(const struct fd_job *job, long long k, const char *out, double clip)
{
    char path[4200], err[4600];
    fd_shot_path(job, k, path, sizeof path);
    float *data = NULL;
    size_t ntr = 0;
    int ns = 0, rc;
    double dt;
    if (job->format == FD_FORMAT_SEGY) {
        rc = fd_segy_read(path, &data, &ntr, &ns, &dt, err, sizeof err);
    } else {
        void *buf;
        size_t len;
        rc = fd_read_file(path, &buf, &len, err, sizeof err);
        ns = fd_job_nsamples(job);
        ntr = job->nrec;
        if (!rc && len != ntr * (size_t)ns * sizeof(float)) {
            snprintf(err, sizeof err, "%s: expected %zu bytes, got %zu", path,
                     ntr * (size_t)ns * sizeof(float), len);
            free(buf);
            rc = -EINVAL;
        }
        if (!rc)
            data = buf;
    }
    if (!rc)
        rc = fd_png_write_gather(out, data, ntr, ns, clip, err, sizeof err);
    free(data);
    if (rc) {
        fprintf(stderr, "shotq model: %s\n", err);
        return 1;
    }
    printf("wrote %s (%zu traces x %d samples, clip at percentile %g)\n", out, ntr, ns,
           clip);
    return 0;
}

/* True when the scheduler options passed through include the flag name. */
static bool wants(const struct model_opts *o, const char *name)
{
    for (int k = 1; k < o->npass; k++)
        if (!strcmp(o->pass[k], name))
            return true;
    return false;
}

/* FNV-1a of the bytes of the file at path (JRNL_FNV_INIT chained), or 0 when
 * it cannot be read (then the path alone identifies the job). */
static uint64_t file_digest(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    uint64_t h = JRNL_FNV_INIT;
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        h = jrnl_hash(h, buf, n);
    bool bad = ferror(f);
    fclose(f);
    return bad ? 0 : h;
}

/* The job path made absolute (workers may run elsewhere). Returns a malloc'ed
 * string or NULL with errno set. */
static char *absolute_path(const char *path)
{
    if (path[0] == '/')
        return strdup(path);
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd))
        return NULL;
    size_t n = strlen(cwd) + strlen(path) + 2;
    char *r = malloc(n);
    if (r)
        snprintf(r, n, "%s/%s", cwd, path);
    return r;
}

int cmd_model(int argc, char **argv)
{
    char **pass = calloc((size_t)argc + 2, sizeof *pass);
    if (!pass) {
        fputs("shotq model: out of memory\n", stderr);
        return 2;
    }
    struct model_opts o = {.pass = pass};
    int rc = parse_args(argc, argv, &o);
    if (rc) {
        free(pass);
        return rc == 1 ? 0 : 2;
    }
    char *abs = absolute_path(o.job);
    char err[2048];
    struct fd_prepared prep;
    if (!abs) {
        fprintf(stderr, "shotq model: %s: cannot resolve the job file's path: %s\n",
                o.job, strerror(errno));
        free(pass);
        return 2;
    }
    /* Memory first: a grid too large for every device must not be loaded. */
    struct fd_job job;
    rc = fd_job_load(abs, &job, err, sizeof err);
    if (!rc) {
        rc = check_memory(&job, &o);
        fd_job_free(&job);
        if (rc)
            goto out;
    }
    rc = fd_prepare_dirs(abs, &prep, !wants(&o, "--dry-run"), err, sizeof err);
    if (rc) {
        fprintf(stderr, "shotq model: %s\n", err);
        rc = 2;
        goto out;
    }
    if (o.shot >= 0 && (uint64_t)o.shot >= prep.job.nsrc) {
        fprintf(
            stderr,
            "shotq model: option --shot: expected a shot number in [0, %zu], got %lld\n",
            prep.job.nsrc - 1, o.shot);
        rc = 2;
        goto out_prep;
    }
    if (o.check_only) {
        printf("%s: ok: %zu shots, %zu receivers, %d samples, vp %g..%g m/s, %.1f "
               "MiB per shot\n",
               o.job, prep.job.nsrc, prep.job.nrec, fd_job_nsamples(&prep.job), prep.vmin,
               prep.vmax, (double)fd_check_shot_mem(&prep.job) / 1048576.0);
        goto out_prep;
    }
    if (o.shot >= 0) {
        rc = run_one(abs, &o);
    } else if (o.png_shot < 0 || o.npass > 1) {
        /* The job's contents are part of what the run does: a changed job
         * is a new command (refused by --resume, an epoch of --retry-failed). */
        struct run_preset preset = {"builtin:fd", abs, (int64_t)prep.job.nsrc,
                                    file_digest(abs)};
        /* Shots half-written by a killed run are computed again: drop them. */
        if (wants(&o, "--resume") || wants(&o, "--retry-failed"))
            atomic_clean_stale(prep.job.out_dir);
        rc = run_main(o.npass, o.pass, &preset);
        /* A speculative copy killed mid-shot leaves its temp file behind. */
        atomic_clean_stale(prep.job.out_dir);
    }
    if (!rc && o.png_shot >= 0)
        rc = draw_png(&prep.job, o.png_shot, o.png_out, o.png_clip);
out_prep:
    fd_prepared_free(&prep);
out:
    free(abs);
    free(pass);
    return rc;
}

const struct shotq_plugin *builtin_plugin(const char *name)
{
    return name && !strcmp(name, "fd") ? fd_plugin() : NULL;
}
