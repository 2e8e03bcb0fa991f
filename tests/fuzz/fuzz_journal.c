/* fuzz_journal: journal replay (jrnl_open with resume, and jrnl_open_run
 * with per-task records for --resume and --retry-failed) over arbitrary
 * journal files. Inputs whose header names fingerprint 0000000000000001
 * get past the fingerprint check into event replay; with "command"
 * 0000000000000001 and defs of tasks 0..2 ("", "a", "b c") they match the
 * task set below. */
#include "fuzz_common.h"
#include "journal/journal.h"
#include "tasks/tasks.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char run_dir[64];

/* Counts replayed done events (the callback the coordinator would use). */
static void on_done(void *ctx, int64_t task)
{
    (void)task;
    (*(size_t *)ctx)++;
}

/* Counts replayed attempts (the attempt replay of --resume). */
static void on_attempt(void *ctx, int64_t id, int attempt)
{
    (void)id;
    (void)attempt;
    (*(size_t *)ctx)++;
}

/* One fuzz input: replay it as RUN_DIR/journal. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!run_dir[0]) {
        snprintf(run_dir, sizeof run_dir, "/tmp/shotq-fuzz-jrnl-XXXXXX");
        if (!mkdtemp(run_dir))
            abort();
    }
    char path[128];
    snprintf(path, sizeof path, "%s/journal", run_dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        abort();
    if (write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);
    struct jrnl *j = NULL;
    size_t done = 0;
    char err[512];
    if (jrnl_open(run_dir, 1, "fuzz", true, on_done, &done, &j, err, sizeof err) == 0)
        jrnl_close(j);
    static struct taskset ts;
    if (ts.n == 0) {
        static const char *const args[] = {"", "a", "b c"};
        for (int k = 0; k < 3; k++)
            if (tasks_add(&ts, k, 1.0, 0, args[k]))
                abort();
        if (tasks_check_unique(&ts, err, sizeof err))
            abort();
    }
    struct jrnl_run run = {.fingerprint = 1, .command = 1, .what = "fuzz", .tasks = &ts};
    /* Each mode may append defs and an epoch: replay a fresh copy for each. */
    for (int mode = JRNL_RESUME; mode <= JRNL_RETRY_FAILED; mode++) {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, data, size) != (ssize_t)size)
            abort();
        close(fd);
        if (jrnl_open_run(run_dir, &run, (enum jrnl_mode)mode, on_done, &done, &j, err,
                          sizeof err) == 0)
            jrnl_close(j);
    }
    jrnl_attempts(run_dir, on_attempt, &done); /* the attempt replay of --resume */
    return 0;
}
