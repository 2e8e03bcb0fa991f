/* Unit tests of durable files through the sysio fault table: for the atomic
 * writer, report.json, the journal's creation and SEG-Y output, the Nth call
 * of every kind (open, write, fsync, fdatasync, rename, link, close) is made
 * to fail with ENOSPC in turn. Each time the error must name the file and say
 * "No space left on device", the file must hold its old content or the whole
 * new one (never a part, never missing), and no temp file may stay behind.
 * Also: planted symlinks are never written through, an empty journal is
 * refused on resume, and segyio's errno reaches the message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fd/fd_binout.h"
#include "fd/fd_segy.h"
#include "journal/journal.h"
#include "report/report.h"
#include "util/atomic_file.h"
#include "util/sysio.h"

#include "test_tmpdir.h"


/* The whole content of path into buf (NUL-terminated); its length or -1. */
static long slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return (long)n;
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* Number of entries of directory d whose name holds ".tmp.". */
static int temps_left(const char *d)
{
    DIR *dd = opendir(d);
    assert_non_null(dd);
    int n = 0;
    for (struct dirent *e; (e = readdir(dd));)
        n += strstr(e->d_name, ".tmp.") != NULL;
    closedir(dd);
    return n;
}

/* A writer under test: writes its new content to path. 0 or -errno. */
typedef int (*writer_fn)(const char *path, char *err, size_t errlen);

/* Runs w with the nth call of every kind failing in turn, for every n the
 * writer reaches; checks the contract above. old is path's content before
 * each try; is_new says whether a content is the writer's whole new one. */
static void sweep(writer_fn w, const char *path, const char *old,
                  bool (*is_new)(const char *text, long len))
{
    char err[1024], text[1 << 16];
    int failures = 0;
    for (int k = 0; k < SYSIO_NCALLS; k++) {
        put(path, old);
        sysio_reset();
        assert_int_equal(w(path, err, sizeof err), 0);
        unsigned calls = sysio_calls((enum sysio_call)k);
        for (unsigned n = 1; n <= calls; n++) {
            put(path, old);
            sysio_fail((enum sysio_call)k, n, ENOSPC, false);
            int rc = w(path, err, sizeof err);
            sysio_reset();
            assert_int_equal(rc, -ENOSPC);
            if (!strstr(err, "No space left on device") || !strstr(err, tmpdir))
                fail_msg("call kind %d #%u: message '%s' lacks the file or errno", k, n,
                         err);
            long len = slurp(path, text, sizeof text);
            assert_true(len >= 0);
            if (strcmp(text, old) != 0 && !is_new(text, len))
                fail_msg("call kind %d #%u: %s holds a part", k, n, path);
            assert_int_equal(temps_left(tmpdir), 0);
            failures++;
        }
    }
    assert_true(failures >= 5); /* open, write, fsync, rename, close at least */
}

static int write_hello(const char *path, char *err, size_t errlen)
{
    struct atomic_chunk c[2] = {{"hello ", 6}, {"world", 5}};
    return atomic_write(path, c, 2, err, errlen);
}

static bool is_hello(const char *text, long len)
{
    return len == 11 && !memcmp(text, "hello world", 11);
}

static void test_atomic_write_faults(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/a.bin", tmpdir);
    sweep(write_hello, path, "OLD", is_hello);
    unlink(path);
}

static int write_stdio(const char *path, char *err, size_t errlen)
{
    struct atomic_file a;
    int rc = atomic_open(&a, path, err, errlen);
    if (rc)
        return rc;
    fprintf(a.f, "%s %d", "stdio", 42);
    return atomic_close(&a, true, err, errlen);
}

static bool is_stdio(const char *text, long len)
{
    return len == 8 && !strcmp(text, "stdio 42");
}

static void test_atomic_stdio_faults(void **state)
{
    (void)state;
    char path[128], err[512], text[64];
    snprintf(path, sizeof path, "%s/s.txt", tmpdir);
    sweep(write_stdio, path, "OLD", is_stdio);
    /* Without ok nothing changes and nothing stays behind. */
    put(path, "OLD");
    struct atomic_file a;
    assert_int_equal(atomic_open(&a, path, err, sizeof err), 0);
    fputs("discarded", a.f);
    assert_int_equal(atomic_close(&a, false, err, sizeof err), 0);
    assert_int_equal(slurp(path, text, sizeof text), 3);
    assert_int_equal(temps_left(tmpdir), 0);
    unlink(path);
}

static int write_report(const char *path, char *err, size_t errlen)
{
    struct run_record r = {0};
    r.policy = "lpt";
    r.run_dir = tmpdir;
    r.makespan_s = 1.5;
    return report_write_json(path, &r, err, errlen);
}

static bool is_report(const char *text, long len)
{
    return len > 10 && text[0] == '{' && strstr(text, "\"makespan_s\":1.5") &&
           !strcmp(text + len - 2, "}\n");
}

static void test_report_faults(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/report.json", tmpdir);
    sweep(write_report, path, "{}", is_report);
    unlink(path);
}

static void test_symlinks_not_followed(void **state)
{
    (void)state;
    char path[128], tmp[192], victim[128], err[512], text[64];
    snprintf(path, sizeof path, "%s/out.bin", tmpdir);
    snprintf(victim, sizeof victim, "%s/victim", tmpdir);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    put(victim, "precious");
    /* A temp name planted as a symlink: the link goes, the victim stays. */
    assert_int_equal(symlink(victim, tmp), 0);
    assert_int_equal(write_hello(path, err, sizeof err), 0);
    assert_int_equal(slurp(victim, text, sizeof text), 8);
    assert_string_equal(text, "precious");
    assert_int_equal(slurp(path, text, sizeof text), 11);
    /* The final name as a symlink is replaced, not written through. */
    unlink(path);
    assert_int_equal(symlink(victim, path), 0);
    assert_int_equal(write_stdio(path, err, sizeof err), 0);
    assert_string_equal((slurp(victim, text, sizeof text), text), "precious");
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    unlink(path);
    unlink(victim);
    assert_int_equal(temps_left(tmpdir), 0);
}

static void no_done(void *ctx, int64_t id)
{
    (void)id;
    ++*(int *)ctx;
}

/* Creating a journal with each call failing leaves no journal, names the
 * file and the errno; then a clean create and a resume work. */
static void test_journal_create_faults(void **state)
{
    (void)state;
    char run[128], path[160], err[1024];
    snprintf(run, sizeof run, "%s/run", tmpdir);
    snprintf(path, sizeof path, "%s/journal", run);
    int done = 0, failures = 0;
    struct jrnl *j;
    for (int k = 0; k < SYSIO_NCALLS; k++) {
        sysio_reset();
        assert_int_equal(jrnl_open(run, 7, "t", false, no_done, &done, &j, err, sizeof err),
                         0);
        unsigned calls = sysio_calls((enum sysio_call)k); /* jrnl_open's alone */
        jrnl_close(j);
        unlink(path);
        for (unsigned n = 1; n <= calls; n++) {
            sysio_fail((enum sysio_call)k, n, ENOSPC, false);
            int rc = jrnl_open(run, 7, "t", false, no_done, &done, &j, err, sizeof err);
            sysio_reset();
            if (rc == 0)
                fail_msg("kind %d #%u: journal created despite a fault", k, n);
            assert_int_equal(rc, -ENOSPC);
            assert_non_null(strstr(err, "No space left on device"));
            assert_non_null(strstr(err, run));
            assert_int_equal(access(path, F_OK), -1); /* no journal at all */
            assert_int_equal(temps_left(run), 0);
            failures++;
        }
    }
    assert_true(failures >= 5); /* open, write, fdatasync, link, dir fsync */
    assert_int_equal(jrnl_open(run, 7, "t", false, no_done, &done, &j, err, sizeof err), 0);
    jrnl_record(j, JRNL_DONE, 3, 1, 0, 0.5, 0);
    assert_int_equal(jrnl_close(j), 0);
    assert_int_equal(jrnl_open(run, 7, "t", true, no_done, &done, &j, err, sizeof err), 0);
    assert_int_equal(done, 1);
    jrnl_close(j);
    unlink(path);
}

static void test_journal_empty_and_symlink(void **state)
{
    (void)state;
    char run[128], path[160], victim[160], err[1024];
    snprintf(run, sizeof run, "%s/run2", tmpdir);
    snprintf(path, sizeof path, "%s/journal", run);
    snprintf(victim, sizeof victim, "%s/victim", tmpdir);
    assert_int_equal(mkdir(run, 0777), 0);
    int done = 0;
    struct jrnl *j;
    /* What an older shotq left when its header write failed. */
    put(path, "");
    assert_int_equal(jrnl_open(run, 7, "t", true, no_done, &done, &j, err, sizeof err),
                     -EINVAL);
    assert_non_null(strstr(err, "expected a journal header, found an empty file"));
    assert_non_null(strstr(err, path));
    unlink(path);
    /* A journal planted as a symlink is refused, not appended through. */
    put(victim, "{}\n");
    assert_int_equal(symlink(victim, path), 0);
    assert_int_equal(jrnl_open(run, 7, "t", true, no_done, &done, &j, err, sizeof err),
                     -ELOOP);
    unlink(path);
    unlink(victim);
}

static const char *const segy_text[] = {"durable test"};

static int write_segy(const char *path, char *err, size_t errlen)
{
    static float data[2 * 8];
    static struct fd_point rec[2] = {{0, 0, 0}, {10, 0, 0}};
    struct fd_gather g = {1, {5, 5, 5}, rec, 2, 8, 0.004, data};
    return fd_segy_write(path, &g, segy_text, 1, err, errlen);
}

static bool is_segy(const char *text, long len)
{
    (void)text;
    return len == 3600 + 2 * (240 + 8 * 4);
}

static void test_segy_faults(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/shot.sgy", tmpdir);
    sweep(write_segy, path, "OLD", is_segy);
    unlink(path);
}

/* A write refused by the kernel inside segyio (here: the file size limit,
 * EFBIG) is reported with its errno, not as "Input/output error". */
static void test_segy_errno(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char path[128], err[1024];
        snprintf(path, sizeof path, "%s/big.sgy", tmpdir);
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit lim = {4000, 4000};
        setrlimit(RLIMIT_FSIZE, &lim);
        static float data[4 * 1000];
        static struct fd_point rec[4];
        struct fd_gather g = {1, {5, 5, 5}, rec, 4, 1000, 0.004, data};
        int rc = fd_segy_write(path, &g, NULL, 0, err, sizeof err);
        bool ok = rc == -EFBIG && strstr(err, "File too large") && strstr(err, path) &&
                  access(path, F_OK) != 0 && temps_left(tmpdir) == 0;
        if (!ok)
            fprintf(stderr, "rc %d: %s\n", rc, err);
        _exit(ok ? 0 : 1);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_atomic_write_faults),
        cmocka_unit_test(test_atomic_stdio_faults),
        cmocka_unit_test(test_report_faults),
        cmocka_unit_test(test_symlinks_not_followed),
        cmocka_unit_test(test_journal_create_faults),
        cmocka_unit_test(test_journal_empty_and_symlink),
        cmocka_unit_test(test_segy_faults),
        cmocka_unit_test(test_segy_errno),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
