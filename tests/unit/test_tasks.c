/* Unit tests of task sources: ranges, task files, unique ids. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tasks/tasks.h"

static void test_ranges(void **state)
{
    (void)state;
    struct taskset ts = {0};
    char err[256];
    assert_int_equal(tasks_parse_range(&ts, "0-3,10,20-26:3", err, sizeof err), 0);
    int64_t want[] = {0, 1, 2, 3, 10, 20, 23, 26};
    assert_int_equal(ts.n, 8);
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(ts.id[i], want[i]);
    assert_int_equal(tasks_check_unique(&ts, err, sizeof err), 0);
    assert_int_equal(tasks_find(&ts, 23), 6);
    assert_int_equal(tasks_find(&ts, 4), -1);
    tasks_free(&ts);

    static const struct {
        const char *in, *msg;
    } bad[] = {
        {"", "--tasks '': position 1: expected a task id, a range A-B[:STEP] or a list"},
        {"a", "--tasks 'a': position 1: expected a non-negative task id"},
        {"5-", "--tasks '5-': position 3: expected the end of the range (a non-negative "
               "integer)"},
        {"5-2", "--tasks '5-2': position 4: expected an end not below the start"},
        {"0-9:0", "--tasks '0-9:0': position 6: expected a positive step"},
        {"1,,2", "--tasks '1,,2': position 3: expected a non-negative task id"},
        {"1;2", "--tasks '1;2': position 2: expected ',' or the end of the range"},
        {"-1", "--tasks '-1': position 1: expected a non-negative task id"},
        {"99999999999999999999", "--tasks '99999999999999999999': position 1: expected a "
                                 "task id from 0 to 9007199254740991 (2^53-1)"},
        /* Ids go through doubles in report.json and the journal: 2^53 and
         * above are refused, at either end of a range. */
        {"9007199254740992", "--tasks '9007199254740992': position 1: expected a "
                             "task id from 0 to 9007199254740991 (2^53-1)"},
        {"1-9007199254740993", "--tasks '1-9007199254740993': position 3: expected the "
                               "end of the range (a task id from 0 to 9007199254740991 "
                               "(2^53-1))"},
        {"1\n2", "--tasks '1\\n2': position 2: expected ',' or the end of the range"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        struct taskset t2 = {0};
        assert_int_equal(tasks_parse_range(&t2, bad[k].in, err, sizeof err), -EINVAL);
        assert_string_equal(err, bad[k].msg);
        tasks_free(&t2);
    }
}

/* Reads the task file text `in` (named "f") and checks that it is refused
 * with exactly the message msg. */
static void expect_read_error(const char *in, const char *msg)
{
    char err[256];
    FILE *g = fmemopen((void *)in, strlen(in), "r");
    struct taskset t2 = {0};
    assert_int_equal(tasks_read(&t2, g, "f", err, sizeof err), -EINVAL);
    assert_string_equal(err, msg);
    fclose(g);
    tasks_free(&t2);
}

static void test_file(void **state)
{
    (void)state;
    const char text[] = "# shots\n"
                        "\n"
                        "3 weight=2.5 mem=100 --shot 3 x\n"
                        "  7   alpha\n"
                        "8 mem=1\n"
                        "9 gpus=2 weight=3 a\n"
                        "10 cpus=64 gpus\n";
    FILE *f = fmemopen((void *)text, sizeof text - 1, "r");
    struct taskset ts = {0};
    char err[256];
    assert_int_equal(tasks_read(&ts, f, "t.txt", err, sizeof err), 0);
    fclose(f);
    assert_int_equal(ts.n, 5);
    assert_int_equal(ts.width[0], 1);
    assert_int_equal(ts.width[3], 2);
    assert_true(ts.weight[3] == 3.0);
    assert_string_equal(tasks_args(&ts, 3), "a");
    assert_int_equal(ts.width[4], 64);
    assert_string_equal(tasks_args(&ts, 4), "gpus");
    assert_int_equal(ts.id[0], 3);
    assert_true(ts.weight[0] == 2.5);
    assert_int_equal(ts.mem[0], 100ull << 20);
    assert_string_equal(tasks_args(&ts, 0), "--shot 3 x");
    assert_int_equal(ts.id[1], 7);
    assert_true(ts.weight[1] == 1.0);
    assert_string_equal(tasks_args(&ts, 1), "alpha");
    assert_string_equal(tasks_args(&ts, 2), "");
    assert_int_equal(ts.mem[2], 1ull << 20);
    tasks_free(&ts);

    static const struct {
        const char *in, *msg;
    } bad[] = {
        {"x 1\n", "f:1: column 1: expected a non-negative task id, got 'x'"},
        {"1\n2 weight=0\n",
         "f:2: column 3: expected weight=W with W a positive number, got "
         "'weight=0'"},
        {"1 mem=-4\n",
         "f:1: column 3: expected mem=MIB with MIB a non-negative integer, got "
         "'mem=-4'"},
        {"12abc\n", "f:1: column 1: expected a non-negative task id, got '12abc'"},
        {"9007199254740993 x\n", "f:1: column 1: expected a task id from 0 to "
                                 "9007199254740991 (2^53-1), got '9007199254740993'"},
        {"-1\n", "f:1: column 1: expected a non-negative task id, got '-1'"},
        {"1 gpus=0\n",
         "f:1: column 3: expected gpus=N with N from 1 to 64, got 'gpus=0'"},
        {"1 cpus=65\n",
         "f:1: column 3: expected cpus=N with N from 1 to 64, got 'cpus=65'"},
        {"1 gpus=2 cpus=2\n",
         "f:1: column 10: expected one gpus=N or cpus=N per line, got 'cpus=2'"},
        /* Control characters from the file are escaped in the message. */
        {"1 weight=\x1b[2J\n",
         "f:1: column 3: expected weight=W with W a positive number, got "
         "'weight=\\x1b[2J'"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        expect_read_error(bad[k].in, bad[k].msg);
}

static void test_duplicates(void **state)
{
    (void)state;
    struct taskset ts = {0};
    char err[256];
    assert_int_equal(tasks_parse_range(&ts, "1-5,3", err, sizeof err), 0);
    assert_int_equal(tasks_check_unique(&ts, err, sizeof err), -EINVAL);
    assert_string_equal(err, "--tasks '1-5,3': position 5: task id 3 appears twice "
                             "(first at position 1; expected unique ids)");
    tasks_free(&ts);

    /* A file: the file and both lines, the first one's line even when the
     * duplicate sorts before it in memory. */
    const char text[] = "7 a\n# c\n\n4\n7 b\n9\n";
    FILE *f = fmemopen((void *)text, sizeof text - 1, "r");
    assert_int_equal(tasks_read(&ts, f, "shots.txt", err, sizeof err), 0);
    fclose(f);
    assert_int_equal(tasks_check_unique(&ts, err, sizeof err), -EINVAL);
    assert_string_equal(err, "shots.txt:5: task id 7 appears twice (first on line 1; "
                             "expected unique ids)");
    tasks_free(&ts);

    /* Tasks added without a source (shotq model's shots): the id alone. */
    assert_int_equal(tasks_add(&ts, 2, 1.0, 0, ""), 0);
    assert_int_equal(tasks_add(&ts, 2, 1.0, 0, ""), 0);
    assert_int_equal(tasks_check_unique(&ts, err, sizeof err), -EINVAL);
    assert_string_equal(err, "task id 2 appears twice (expected unique ids)");
    tasks_free(&ts);
}

/* The largest id is accepted exactly. */
static void test_id_max(void **state)
{
    (void)state;
    struct taskset ts = {0};
    char err[256];
    assert_int_equal(tasks_parse_range(&ts, "9007199254740990-9007199254740991", err,
                                       sizeof err),
                     0);
    assert_int_equal(ts.n, 2);
    assert_true(ts.id[1] == TASKS_ID_MAX);
    tasks_free(&ts);
}

/* Splits s and checks the words against want (n of them). */
static void check_split(const char *s, const char *const *want, long n)
{
    char buf[256];
    size_t len = 0, col = 0;
    const char *what = NULL;
    assert_int_equal(tasks_split_args(s, buf, sizeof buf, &len, &col, &what), n);
    size_t off = 0;
    for (long i = 0; i < n; i++) {
        assert_true(off < len);
        assert_string_equal(buf + off, want[i]);
        off += strlen(want[i]) + 1;
    }
    assert_int_equal(off, len);
    size_t len2 = 0; /* the checking mode counts the same bytes */
    assert_int_equal(tasks_split_args(s, NULL, 0, &len2, &col, &what), n);
    assert_int_equal(len2, len);
}

static void test_split_args(void **state)
{
    (void)state;
    check_split("", NULL, 0);
    check_split("  \t ", NULL, 0);
    check_split("--shot 3  x", (const char *[]){"--shot", "3", "x"}, 3);
    check_split("'a b' \"c d\"", (const char *[]){"a b", "c d"}, 2);
    check_split("'it''s' x'y'z", (const char *[]){"its", "xyz"}, 2);
    check_split("'a\\b \"q\" $HOME'", (const char *[]){"a\\b \"q\" $HOME"}, 1);
    check_split("\"\\\" \\\\ \\$ \\` \\n\"", (const char *[]){"\" \\ $ ` \\n"}, 1);
    check_split("a\\ b \\'c \\\\", (const char *[]){"a b", "'c", "\\"}, 3);
    check_split("'' \"\" x", (const char *[]){"", "", "x"}, 3);
    check_split("$HOME * ~ #x", (const char *[]){"$HOME", "*", "~", "#x"}, 4);

    static const struct {
        const char *in;
        size_t col;
        const char *what;
    } bad[] = {
        {"a 'b c", 3, "a closing ' for the quote opened here"},
        {"x\"y", 2, "a closing \" for the quote opened here"},
        {"\"a\\\"", 1, "a closing \" for the quote opened here"},
        {"ok \\", 4, "a character after the backslash"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        size_t len = 0, col = 0;
        const char *what = NULL;
        assert_int_equal(tasks_split_args(bad[k].in, NULL, 0, &len, &col, &what), -EINVAL);
        assert_int_equal(col, bad[k].col);
        assert_string_equal(what, bad[k].what);
    }
    char small[4];
    size_t len = 0, col;
    const char *what;
    assert_int_equal(tasks_split_args("abc", small, sizeof small, &len, &col, &what),
                     -E2BIG);
}

/* Task lines with quoted arguments: kept as written, an unterminated quote
 * refused with its file, line and column. */
static void test_file_quotes(void **state)
{
    (void)state;
    const char text[] = "1 weight=2 'a b' \"c\"\n";
    FILE *f = fmemopen((void *)text, sizeof text - 1, "r");
    struct taskset ts = {0};
    char err[256];
    assert_int_equal(tasks_read(&ts, f, "t.txt", err, sizeof err), 0);
    fclose(f);
    assert_string_equal(tasks_args(&ts, 0), "'a b' \"c\"");
    tasks_free(&ts);
    static const struct {
        const char *in, *msg;
    } bad[] = {
        {"1\n2 mem=4 x 'y z\n", "f:2: column 11: expected a closing ' for the quote "
                                "opened here, got the end of the line"},
        {"3 \"a\n", "f:1: column 3: expected a closing \" for the quote opened here, "
                    "got the end of the line"},
        {"4 a\\\n", "f:1: column 4: expected a character after the backslash, got the "
                    "end of the line"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        expect_read_error(bad[k].in, bad[k].msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_file),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_id_max),
        cmocka_unit_test(test_split_args),
        cmocka_unit_test(test_file_quotes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
