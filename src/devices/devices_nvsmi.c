/* devices_nvsmi: GPUs from the nvidia-smi program, for machines where NVML
 * cannot be loaded but the tool works (containers with the binary mounted,
 * odd driver installs). nvidia-smi is run without a shell through
 * posix_spawnp; $SHOTQ_NVIDIA_SMI replaces the program name for tests.
 *
 * Queries: the CSV --query-gpu line per GPU (always); `-q -d MEMORY` when the
 * CSV has no memory figures; --query-compute-apps for process counts. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "devices/devices_int.h"
#include "util/log.h"

extern char **environ;

#define NVSMI_TIMEOUT_MS 15000      /* default; a wedged driver can hang nvidia-smi */
#define NVSMI_MAX_OUTPUT (4u << 20) /* bytes; far above any real output */
#define CSV_FIELDS 8

static const char *const csv_field_names[CSV_FIELDS] = {"index",
                                                        "name",
                                                        "uuid",
                                                        "pci.bus_id",
                                                        "memory.total",
                                                        "memory.free",
                                                        "utilization.gpu",
                                                        "clocks.max.memory"};

/* ---- running nvidia-smi ---- */

/* An error number (errno, or a posix_spawn result) as a negative error code;
 * -EIO if a failing call left no positive number, so that a failure can never
 * read as success. */
static int neg_error(int e)
{
    return e > 0 ? -e : -EIO;
}

/* Milliseconds on the monotonic clock. */
static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How long nvidia-smi may take: $SHOTQ_NVIDIA_SMI_TIMEOUT_MS (tests use a
 * short one) or NVSMI_TIMEOUT_MS. */
static long timeout_ms(void)
{
    const char *s = getenv("SHOTQ_NVIDIA_SMI_TIMEOUT_MS");
    char *end;
    long v = s ? strtol(s, &end, 10) : 0;
    return s && *s && !*end && v > 0 && v <= 3600000 ? v : NVSMI_TIMEOUT_MS;
}

/* Reads the child's stdout from fd until EOF, the size cap or the deadline.
 * Returns 0 with a malloc'ed, NUL-terminated *text (caller frees), or -errno
 * (-ETIMEDOUT, -EFBIG, -ENOMEM, a read/poll error) with *text NULL. */
static int read_all(int fd, char **text, char *err, size_t errlen)
{
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    long limit = timeout_ms();
    long long deadline = now_ms() + limit;
    int rc = 0;
    *text = NULL;
    if (!buf)
        return -ENOMEM;
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            snprintf(err, errlen, "no answer within %ld ms", limit);
            rc = -ETIMEDOUT;
            break;
        }
        struct pollfd pfd = {fd, POLLIN, 0};
        int pr = poll(&pfd, 1, (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0) {
            rc = neg_error(errno);
            snprintf(err, errlen, "poll: %s", strerror(-rc));
            break;
        }
        if (pr == 0)
            continue; /* the deadline check above ends the loop */
        if (cap - len < 2) {
            if (cap >= NVSMI_MAX_OUTPUT) {
                snprintf(err, errlen, "output larger than %u bytes", NVSMI_MAX_OUTPUT);
                rc = -EFBIG;
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                rc = -ENOMEM;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + len, cap - len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = neg_error(errno);
            snprintf(err, errlen, "read: %s", strerror(-rc));
            break;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    if (rc < 0) {
        free(buf);
        return rc;
    }
    buf[len] = '\0';
    *text = buf;
    return 0;
}

/* Waits for pid, retrying on EINTR. Returns its wait status, or -1. */
static int wait_child(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return status;
}

/* Runs $SHOTQ_NVIDIA_SMI (default nvidia-smi) with args (NULL-terminated,
 * without argv[0]), stdin and stderr on /dev/null, and captures stdout.
 * Returns 0 with a malloc'ed *text (caller frees) when it exits with status
 * 0; otherwise -errno (-ENOENT when the program is missing, -EIO for a
 * non-zero exit or a signal) with a reason in err and *text NULL. The child
 * is always reaped; one that overruns the timeout is killed. */
static int nvsmi_run(const char *const *args, char **text, char *err, size_t errlen)
{
    const char *prog = getenv("SHOTQ_NVIDIA_SMI");
    if (!prog || !*prog)
        prog = "nvidia-smi";
    char *argv[8];
    size_t argc = 0;
    argv[argc++] = (char *)prog;
    for (size_t i = 0; args[i] && argc < 7; i++)
        argv[argc++] = (char *)args[i];
    argv[argc] = NULL;

    *text = NULL;
    int fds[2] = {-1, -1};
    if (pipe(fds) < 0) {
        int e = neg_error(errno);
        snprintf(err, errlen, "pipe: %s", strerror(-e));
        return e;
    }
    /* pipe2 is not in POSIX.1-2008; set close-on-exec at once so no other
     * child inherits the pipe. dup2 onto fd 1 in the child clears it there. */
    if (fcntl(fds[0], F_SETFD, FD_CLOEXEC) < 0 ||
        fcntl(fds[1], F_SETFD, FD_CLOEXEC) < 0) {
        int e = neg_error(errno);
        snprintf(err, errlen, "fcntl(FD_CLOEXEC): %s", strerror(-e));
        close(fds[0]);
        close(fds[1]);
        return e;
    }

    posix_spawn_file_actions_t fa;
    int rc = posix_spawn_file_actions_init(&fa);
    if (rc != 0) {
        close(fds[0]);
        close(fds[1]);
        snprintf(err, errlen, "posix_spawn_file_actions_init: %s", strerror(rc));
        return neg_error(rc);
    }
    rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (!rc)
        rc = posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    if (!rc)
        rc = posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    if (!rc)
        rc = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        snprintf(err, errlen, "cannot run %s: %s", prog, strerror(rc));
        return neg_error(rc);
    }

    rc = read_all(fds[0], text, err, errlen);
    close(fds[0]);
    if (rc < 0)
        kill(pid, SIGKILL); /* it may still be running; waited for below */
    int status = wait_child(pid);
    if (rc < 0)
        return rc;
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (status != -1 && WIFEXITED(status))
            snprintf(err, errlen, "%s exited with status %d", prog, WEXITSTATUS(status));
        else
            snprintf(err, errlen, "%s did not exit normally", prog);
        free(*text);
        *text = NULL;
        return -EIO;
    }
    return 0;
}

/* ---- parsing helpers ---- */

/* Cuts the next line off *p (terminated by '\n' or the end), strips '\r' and
 * surrounding blanks into line[size] (truncating). Returns false at the end
 * of text. */
static bool next_line(const char **p, char *line, size_t size)
{
    if (!**p)
        return false;
    const char *s = *p, *e = strchr(s, '\n');
    if (!e)
        e = s + strlen(s);
    *p = *e ? e + 1 : e;
    while (e > s && isspace((unsigned char)e[-1]))
        e--;
    size_t n = (size_t)(e - s);
    if (n >= size)
        n = size - 1;
    memcpy(line, s, n);
    line[n] = '\0';
    return true;
}

/* Trims blanks from both ends of s in place. Returns s. */
static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* The next non-blank line of *p, trimmed (in line), counting every line
 * read in *lineno; NULL at the end of the text. */
static char *next_nonblank(const char **p, char *line, size_t size, size_t *lineno)
{
    while (next_line(p, line, size)) {
        (*lineno)++;
        char *s = trim(line);
        if (*s)
            return s;
    }
    return NULL;
}

/* True for the values nvidia-smi prints when it does not know one. */
static bool is_na(const char *s)
{
    return !strcmp(s, "[N/A]") || !strcmp(s, "N/A") || !strcmp(s, "[Not Supported]") ||
           !strcmp(s, "Not Supported") || !strcmp(s, "[Unknown Error]");
}

/* Parses a non-negative integer optionally followed by " unit" (unit may be
 * NULL). Returns true and stores it; false when s is anything else. */
static bool parse_num(const char *s, const char *unit, unsigned long long *v)
{
    if (!isdigit((unsigned char)*s))
        return false;
    errno = 0;
    char *end;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno)
        return false;
    while (*end == ' ')
        end++;
    if (*end && !(unit && !strcmp(end, unit)))
        return false;
    *v = x;
    return true;
}

/* ---- CSV (--query-gpu) ---- */

/* Parses one numeric CSV field: [N/A]-style values give *v = 0 and *known =
 * false. Returns 0, or -EINVAL with "line L: field F (NAME): ..." in err. */
static int csv_num(const char *f, int field, const char *unit, size_t lineno,
                   unsigned long long *v, bool *known, char *err, size_t errlen)
{
    *v = 0;
    *known = false;
    if (is_na(f))
        return 0;
    if (!parse_num(f, unit, v)) {
        snprintf(err, errlen,
                 "line %zu: field %d (%s): expected a number or [N/A], got '%s'", lineno,
                 field + 1, csv_field_names[field], f);
        return -EINVAL;
    }
    *known = true;
    return 0;
}

/* Fills d from the CSV_FIELDS trimmed fields f of line lineno. Sets *mem_known
 * false when memory.total or memory.free is unknown. Returns 0 or -EINVAL. */
static int csv_gpu(char **f, size_t lineno, struct dev_info *d, bool *mem_known,
                   char *err, size_t errlen)
{
    unsigned long long idx, tot, fre, util, clk;
    bool k_idx, k_tot, k_fre, k_util, k_clk;
    if (csv_num(f[0], 0, NULL, lineno, &idx, &k_idx, err, errlen) ||
        csv_num(f[4], 4, "MiB", lineno, &tot, &k_tot, err, errlen) ||
        csv_num(f[5], 5, "MiB", lineno, &fre, &k_fre, err, errlen) ||
        csv_num(f[6], 6, "%", lineno, &util, &k_util, err, errlen) ||
        csv_num(f[7], 7, "MHz", lineno, &clk, &k_clk, err, errlen))
        return -EINVAL;
    if (!k_idx || idx > 65535) {
        snprintf(err, errlen, "line %zu: field 1 (index): expected a GPU index, got '%s'",
                 lineno, f[0]);
        return -EINVAL;
    }
    if (!*f[1]) {
        snprintf(err, errlen, "line %zu: field 2 (name): expected a GPU name, got ''",
                 lineno);
        return -EINVAL;
    }
    *d = (struct dev_info){0};
    dev_strlcpy(d->name, is_na(f[1]) ? "NVIDIA GPU" : f[1], sizeof d->name);
    dev_strlcpy(d->uuid, is_na(f[2]) ? "" : f[2], sizeof d->uuid);
    dev_strlcpy(d->pci_bus_id, is_na(f[3]) ? "" : f[3], sizeof d->pci_bus_id);
    dev_strlcpy(d->source, "nvidia-smi", sizeof d->source);
    d->kind = DEV_GPU;
    d->ordinal = (int)idx;
    d->mem_total = (uint64_t)tot << 20;
    d->mem_free = (uint64_t)fre << 20;
    d->util_pct = k_util && util <= 100 ? (int)util : -1;
    d->nprocs = -1;
    d->mem_clock_mhz = k_clk && clk < 1000000 ? (int)clk : 0;
    d->speed = dev_gpu_speed_prior(d->mem_bus_width, d->mem_clock_mhz);
    *mem_known = k_tot && k_fre;
    return 0;
}

/* dev_nvsmi_parse_csv, also telling through *mem_known whether every GPU had
 * both memory figures. */
static int parse_csv(const char *text, struct dev_list *out, bool *mem_known, char *err,
                     size_t errlen)
{
    char line[1024];
    size_t lineno = 0;
    *out = (struct dev_list){0};
    *mem_known = true;
    for (char *s; (s = next_nonblank(&text, line, sizeof line, &lineno));) {
        char *f[CSV_FIELDS];
        int nf = 0;
        /* GPU names contain spaces but never commas, and nvidia-smi does not
         * quote; split on every comma. */
        for (char *tok = s;; nf++) {
            char *comma = strchr(tok, ',');
            if (nf < CSV_FIELDS)
                f[nf] = tok;
            if (!comma) {
                nf++;
                break;
            }
            *comma = '\0';
            tok = comma + 1;
        }
        if (nf != CSV_FIELDS) {
            snprintf(err, errlen, "line %zu: expected %d comma-separated fields, got %d",
                     lineno, CSV_FIELDS, nf);
            dev_list_free(out);
            return -EINVAL;
        }
        for (int i = 0; i < CSV_FIELDS; i++)
            f[i] = trim(f[i]);
        struct dev_info d;
        bool known;
        int rc = csv_gpu(f, lineno, &d, &known, err, errlen);
        if (rc == 0)
            rc = dev_list_append(out, &d);
        if (rc < 0) {
            dev_list_free(out);
            return rc;
        }
        *mem_known = *mem_known && known;
    }
    return 0;
}

int dev_nvsmi_parse_csv(const char *text, struct dev_list *out, char *err, size_t errlen)
{
    bool mem_known;
    return parse_csv(text, out, &mem_known, err, errlen);
}

/* ---- -q -d MEMORY ---- */

int dev_nvsmi_parse_query_memory(const char *text, struct dev_list *out, char *err,
                                 size_t errlen)
{
    char line[1024];
    size_t lineno = 0;
    bool in_fb = false; /* inside the current GPU's "FB Memory Usage" block */
    *out = (struct dev_list){0};
    while (next_line(&text, line, sizeof line)) {
        lineno++;
        size_t indent = strspn(line, " \t");
        bool indented = indent > 0;
        char *s = trim(line);
        if (!*s)
            continue;
        if (!indented) {
            /* A top-level line: a new GPU section, or the log header. */
            in_fb = false;
            if (strncmp(s, "GPU ", 4) != 0)
                continue;
            struct dev_info d = {0};
            dev_strlcpy(d.pci_bus_id, trim(s + 4), sizeof d.pci_bus_id);
            d.kind = DEV_GPU;
            d.ordinal = (int)out->n;
            d.util_pct = -1;
            d.nprocs = -1;
            d.speed = 1.0;
            dev_strlcpy(d.source, "nvidia-smi", sizeof d.source);
            if (dev_list_append(out, &d) < 0) {
                dev_list_free(out);
                return -ENOMEM;
            }
            continue;
        }
        char *colon = strchr(s, ':');
        if (!colon) {
            /* A block header such as "FB Memory Usage" or "BAR1 Memory Usage".
             * The GPU's own blocks are indented 4; deeper ones belong to
             * sub-devices (MIG instances) and must not replace its figures. */
            in_fb = indent <= 4 && !strcmp(s, "FB Memory Usage");
            if (in_fb && out->n == 0) {
                snprintf(err, errlen, "line %zu: 'FB Memory Usage' before any GPU line",
                         lineno);
                dev_list_free(out);
                return -EINVAL;
            }
            continue;
        }
        if (!in_fb)
            continue;
        *colon = '\0';
        const char *key = trim(s), *val = trim(colon + 1);
        struct dev_info *d = &out->v[out->n - 1];
        uint64_t *dst = !strcmp(key, "Total")      ? &d->mem_total
                        : !strcmp(key, "Reserved") ? &d->mem_reserved
                        : !strcmp(key, "Free")     ? &d->mem_free
                                                   : NULL;
        unsigned long long mib;
        if (!dst || is_na(val))
            continue; /* "Used", or a line a newer driver added */
        if (!parse_num(val, "MiB", &mib)) {
            snprintf(err, errlen, "line %zu: %s: expected a number of MiB, got '%s'",
                     lineno, key, val);
            dev_list_free(out);
            return -EINVAL;
        }
        *dst = (uint64_t)mib << 20;
    }
    return 0;
}

/* ---- --query-compute-apps ---- */

int dev_nvsmi_parse_apps(const char *text, struct dev_list *list, char *err,
                         size_t errlen)
{
    char line[512];
    size_t lineno = 0;
    int *count = calloc(list->n ? list->n : 1, sizeof *count);
    if (!count)
        return -ENOMEM;
    for (char *s; (s = next_nonblank(&text, line, sizeof line, &lineno));) {
        char *comma = strchr(s, ',');
        if (!comma || strncmp(s, "GPU-", 4) != 0) {
            snprintf(err, errlen, "line %zu: expected 'GPU-UUID, PID', got '%s'", lineno,
                     s);
            free(count);
            return -EINVAL;
        }
        *comma = '\0';
        const char *uuid = trim(s);
        for (size_t i = 0; i < list->n; i++)
            if (!strcmp(list->v[i].uuid, uuid))
                count[i]++;
    }
    for (size_t i = 0; i < list->n; i++)
        list->v[i].nprocs = count[i];
    free(count);
    return 0;
}

/* One line of --query-compute-apps=gpu_uuid,pid,used_memory into out.
 * Returns 0 or -EINVAL. */
static int procs_line(char *s, const struct dev_list *list, struct dev_proc *out,
                      size_t cap, size_t *n)
{
    char *f[3] = {s, NULL, NULL};
    for (int k = 1; k < 3 && f[k - 1]; k++) {
        char *c = strchr(f[k - 1], ',');
        if (c)
            *c = '\0';
        f[k] = c ? c + 1 : NULL;
    }
    char *end;
    long pid = f[1] ? strtol(trim(f[1]), &end, 10) : -1;
    if (strncmp(trim(f[0]), "GPU-", 4) != 0 || !f[1] || *end || pid <= 0)
        return -EINVAL;
    uint64_t mem = DEV_MEM_UNKNOWN;
    unsigned long long mib;
    if (f[2] && !is_na(trim(f[2])) && parse_num(trim(f[2]), "MiB", &mib))
        mem = (uint64_t)mib << 20;
    for (size_t i = 0; i < list->n; i++)
        if (!strcmp(list->v[i].uuid, trim(f[0])))
            dev_proc_add(out, cap, n, i, pid, mem);
    return 0;
}

/* Parses --query-compute-apps output into out[*n ..] (see
 * dev_nvsmi_parse_procs). Returns 0 or -EINVAL with err set. */
static int parse_procs(const char *text, const struct dev_list *list,
                       struct dev_proc *out, size_t cap, size_t *n, char *err,
                       size_t errlen)
{
    char line[512];
    size_t lineno = 0;
    for (char *s; (s = next_nonblank(&text, line, sizeof line, &lineno));) {
        char copy[512];
        dev_strlcpy(copy, s, sizeof copy);
        if (procs_line(s, list, out, cap, n) < 0) {
            snprintf(err, errlen, "line %zu: expected 'GPU-UUID, PID, MiB', got '%s'",
                     lineno, copy);
            return -EINVAL;
        }
    }
    return 0;
}

long dev_nvsmi_parse_procs(const char *text, const struct dev_list *list,
                           struct dev_proc *out, size_t cap, char *err, size_t errlen)
{
    size_t n = 0;
    int rc = parse_procs(text, list, out, cap, &n, err, errlen);
    return rc < 0 ? rc : (long)n;
}

/* ---- back end ---- */

/* Takes total, reserved and free memory of each GPU in list from `-q -d
 * MEMORY`, matching by PCI bus id (by position when the CSV had none).
 * Failures leave list as it was and are only logged: the CSV figures stand. */
static void fill_memory_from_query(struct dev_list *list)
{
    static const char *const args[] = {"-q", "-d", "MEMORY", NULL};
    char err[256] = "";
    char *text;
    struct dev_list q = {0};
    int rc = nvsmi_run(args, &text, err, sizeof err);
    if (rc == 0) {
        rc = dev_nvsmi_parse_query_memory(text, &q, err, sizeof err);
        free(text);
    }
    if (rc < 0) {
        log_msg(LOG_DEBUG, "devices: nvidia-smi -q -d MEMORY: %s", err);
        return;
    }
    for (size_t i = 0; i < list->n; i++) {
        struct dev_info *d = &list->v[i];
        for (size_t j = 0; j < q.n; j++) {
            bool match = d->pci_bus_id[0] ? !strcasecmp(d->pci_bus_id, q.v[j].pci_bus_id)
                                          : q.v[j].ordinal == d->ordinal;
            if (!match)
                continue;
            d->mem_total = q.v[j].mem_total;
            d->mem_reserved = q.v[j].mem_reserved;
            d->mem_free = q.v[j].mem_free;
        }
    }
    dev_list_free(&q);
}

/* Sets nprocs of each GPU from --query-compute-apps; leaves -1 on failure. */
static void fill_nprocs(struct dev_list *list)
{
    static const char *const args[] = {"--query-compute-apps=gpu_uuid,pid",
                                       "--format=csv,noheader", NULL};
    char err[256] = "";
    char *text;
    int rc = nvsmi_run(args, &text, err, sizeof err);
    if (rc == 0) {
        rc = dev_nvsmi_parse_apps(text, list, err, sizeof err);
        free(text);
    }
    if (rc < 0)
        log_msg(LOG_DEBUG, "devices: nvidia-smi --query-compute-apps: %s", err);
}

/* Lists every GPU nvidia-smi reports into a new list *gpus. Returns 0,
 * -ENODEV (program missing or failing, output unreadable; reason in err), or
 * -ENOMEM. */
static int nvsmi_list(struct dev_list *gpus, char *err, size_t errlen)
{
    static const char *const args[] = {
        "--query-gpu=index,name,uuid,pci.bus_id,memory.total,memory.free,"
        "utilization.gpu,clocks.max.memory",
        "--format=csv,noheader,nounits", NULL};
    char *text;
    bool mem_known;
    *gpus = (struct dev_list){0};
    int rc = nvsmi_run(args, &text, err, errlen);
    if (rc == -ENOMEM)
        return rc;
    if (rc != 0)
        return -ENODEV;
    rc = parse_csv(text, gpus, &mem_known, err, errlen);
    free(text);
    if (rc < 0)
        return rc == -ENOMEM ? rc : -ENODEV;
    if (!mem_known)
        fill_memory_from_query(gpus);
    fill_nprocs(gpus);
    for (size_t i = 0; i < gpus->n; i++)
        dev_fill_node(&gpus->v[i]);
    return 0;
}

/* Appends every GPU nvidia-smi reports to out. Returns 0, -ENODEV or -ENOMEM
 * (out as it was). */
static int nvsmi_probe(const struct dev_request *req, struct dev_list *out, char *err,
                       size_t errlen)
{
    (void)req;
    struct dev_list gpus;
    int rc = nvsmi_list(&gpus, err, errlen);
    size_t n0 = out->n;
    for (size_t i = 0; rc == 0 && i < gpus.n; i++)
        rc = dev_list_append(out, &gpus.v[i]);
    if (rc < 0)
        dev_list_truncate(out, n0);
    dev_list_free(&gpus);
    return rc;
}

/* Re-reads free memory, utilisation and process counts of the nvidia-smi
 * GPUs in list, matched by UUID. Returns 0 or -ENODEV/-ENOMEM (list as it
 * was). */
static int nvsmi_refresh(struct dev_list *list)
{
    struct dev_list now;
    char err[256] = "";
    int rc = nvsmi_list(&now, err, sizeof err);
    if (rc < 0) {
        log_msg(LOG_DEBUG, "devices: nvidia-smi refresh: %s", err);
        return rc;
    }
    for (size_t i = 0; i < list->n; i++) {
        struct dev_info *d = &list->v[i];
        if (strcmp(d->source, "nvidia-smi") != 0)
            continue;
        for (size_t j = 0; j < now.n; j++)
            if (!strcmp(now.v[j].uuid, d->uuid)) {
                d->mem_free = now.v[j].mem_free;
                d->util_pct = now.v[j].util_pct;
                d->nprocs = now.v[j].nprocs;
            }
    }
    dev_list_free(&now);
    return 0;
}

/* Appends the compute processes of the GPUs in list (one nvidia-smi call;
 * the front end calls it only when list has nvidia-smi GPUs, and UUIDs are
 * unique, so another back end's GPU is never named). Returns 0 or -ENODEV. */
static int nvsmi_procs(const struct dev_list *list, struct dev_proc *out, size_t cap,
                       size_t *n)
{
    static const char *const args[] = {"--query-compute-apps=gpu_uuid,pid,used_memory",
                                       "--format=csv,noheader,nounits", NULL};
    char err[256] = "";
    char *text;
    int rc = nvsmi_run(args, &text, err, sizeof err);
    if (rc == 0) {
        rc = parse_procs(text, list, out, cap, n, err, sizeof err);
        free(text);
    }
    if (rc < 0) {
        log_msg(LOG_DEBUG, "devices: nvidia-smi --query-compute-apps: %s", err);
        return -ENODEV;
    }
    return 0;
}

const struct dev_ops dev_nvsmi_ops = {"nvidia-smi", nvsmi_probe, nvsmi_refresh, NULL,
                                      nvsmi_procs};
