/* Unit tests of report/status: the journal's counting rules (done is sticky,
 * otherwise the last event decides), the total from state.json or the
 * header, failed tasks' last stderr line from their highest attempt's log,
 * run events, the state file round trip, and a directory without journal. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "report/status.h"

/* Writes text to DIR/name. */
static void put_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static const char journal[] =
    "{\"shotq_journal\":1,\"fingerprint\":\"00000000000000aa\",\"what\":\"command sh, 7 "
    "tasks\"}\n"
    "{\"ev\":\"start\",\"task\":0,\"attempt\":1,\"dev\":0,\"t\":0.1}\n"
    "{\"ev\":\"done\",\"task\":0,\"attempt\":1,\"dev\":0,\"t\":0.2,\"exit\":0}\n"
    "{\"ev\":\"start\",\"task\":1,\"attempt\":1,\"dev\":1,\"t\":0.1}\n"
    "{\"ev\":\"retry\",\"task\":1,\"attempt\":1,\"dev\":1,\"t\":0.3,\"exit\":2}\n"
    "{\"ev\":\"quarantine\",\"dev\":1,\"t\":0.3,\"detail\":\"quarantined after 3\"}\n"
    "{\"ev\":\"start\",\"task\":2,\"attempt\":1,\"dev\":0,\"t\":0.3}\n"
    "{\"ev\":\"fail\",\"task\":2,\"attempt\":2,\"dev\":0,\"t\":0.4,\"exit\":1}\n"
    "{\"ev\":\"start\",\"task\":3,\"attempt\":1,\"dev\":0,\"t\":0.5}\n"
    /* a resumed run: task 2 failed before, now done; a done task started again */
    "{\"ev\":\"start\",\"task\":2,\"attempt\":3,\"dev\":0,\"t\":0.1}\n"
    "{\"ev\":\"done\",\"task\":2,\"attempt\":3,\"dev\":0,\"t\":0.2,\"exit\":0}\n"
    "{\"ev\":\"start\",\"task\":4,\"attempt\":1,\"dev\":0,\"t\":0.2}\n"
    "{\"ev\":\"fail\",\"task\":4,\"attempt\":1,\"dev\":0,\"t\":0.3,\"exit\":1}\n"
    "{\"ev\":\"start\",\"task\":0,\"attempt\":2,\"dev\":0,\"t\":0.3}\n"
    "{\"ev\":\"start\",\"task\":5,\"attempt\":1,\"dev\":0,\"t\":0.4,\"tor";

static void test_counts(void **state)
{
    (void)state;
    char dir[] = "/tmp/shotq-status-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct status_report r;
    char err[1024];
    assert_int_equal(status_collect(dir, &r, err, sizeof err), -ENOTDIR);
    char want[1200];
    snprintf(want, sizeof want,
             "'%s' is not a run directory (expected a directory with a journal written "
             "by shotq run)",
             dir);
    assert_string_equal(err, want);

    put_file(dir, "journal", journal);
    char logs[512];
    snprintf(logs, sizeof logs, "%s/logs", dir);
    assert_int_equal(mkdir(logs, 0777), 0);
    put_file(dir, "logs/task-4.1.err", "first\nlast words\n\n");
    put_file(dir, "logs/task-4.2.err", "a later attempt\n"); /* the highest present */
    assert_int_equal(status_collect(dir, &r, err, sizeof err), 0);
    /* done: 0, 2 (sticky across a later start); running: 3 (task 5's torn
     * line is skipped); failed: 4; pending: 1 (retry) and the rest of 7. */
    assert_int_equal(r.done, 2);
    assert_int_equal(r.running, 1);
    assert_int_equal(r.failed, 1);
    assert_int_equal(r.total, 7); /* from the header: no state.json */
    assert_int_equal(r.pending, 3);
    assert_false(r.have_state);
    assert_int_equal(r.coord, STATUS_GONE); /* no lock: no coordinator */
    assert_int_equal(r.nfails, 1);
    assert_int_equal(r.fails[0].task, 4);
    assert_int_equal(r.fails[0].log_attempt, 2);
    assert_string_equal(r.fails[0].last_line, "a later attempt");
    assert_int_equal(r.nevents, 1);
    assert_string_equal(r.events[0].ev, "quarantine");
    assert_int_equal(r.events[0].dev, 1);
    status_free(&r);

    /* state.json: written and read back; its total wins over the header's. */
    struct status_dev dv = {.name = "gpu0",
                            .state = "resting",
                            .speed = 2.5,
                            .busy_s = 3,
                            .utilisation = 0.5,
                            .probe_at = 12,
                            .slots = 2,
                            .done = 4,
                            .failed = 1,
                            .nrunning = 1,
                            .queued = 2,
                            .running = {3}};
    struct status_state st = {.pid = 1,
                              .host = "h",
                              .started = 100,
                              .updated = 110,
                              .elapsed = 10,
                              .eta = 5,
                              .total = 9,
                              .finished = false,
                              .devs = &dv,
                              .ndevs = 1};
    assert_int_equal(status_write_state(dir, &st, err, sizeof err), 0);
    assert_int_equal(status_collect(dir, &r, err, sizeof err), 0);
    assert_true(r.have_state);
    assert_int_equal(r.total, 9);
    assert_int_equal(r.pending, 5);
    assert_int_equal(r.st.ndevs, 1);
    assert_string_equal(r.st.devs[0].name, "gpu0");
    assert_string_equal(r.st.devs[0].state, "resting");
    assert_true(r.st.devs[0].speed == 2.5 && r.st.devs[0].probe_at == 12);
    assert_int_equal(r.st.devs[0].queued, 2);
    assert_int_equal(r.st.devs[0].running[0], 3);
    char *text = status_text(dir, &r, 111);
    assert_non_null(text);
    assert_non_null(
        strstr(text, "tasks: 2 done, 1 failed, 1 interrupted, 5 pending (of 9)\n"));
    assert_non_null(strstr(text, "  task 4 (attempt 1): a later attempt\n"));
    free(text);
    status_free(&r);

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
