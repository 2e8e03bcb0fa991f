/* Unit tests of src/util: escaping input echoed in messages, error texts. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/escape.h"

static void test_escape(void **state)
{
    (void)state;
    char out[64];
    assert_string_equal(util_escape("plain text", UTIL_ESC_ALL, out, sizeof out),
                        "plain text");
    assert_string_equal(util_escape("a\nb\rc\td", UTIL_ESC_ALL, out, sizeof out),
                        "a\\nb\\rc\\td");
    assert_string_equal(util_escape("\x1b[31mred\x7f", UTIL_ESC_ALL, out, sizeof out),
                        "\\x1b[31mred\\x7f");
    assert_string_equal(util_escape("back\\slash", UTIL_ESC_ALL, out, sizeof out),
                        "back\\\\slash");
    assert_string_equal(util_escape("\x01", UTIL_ESC_ALL, out, sizeof out), "\\x01");
    /* UTF-8 is kept as it is. */
    assert_string_equal(util_escape("caf\xc3\xa9", UTIL_ESC_ALL, out, sizeof out),
                        "caf\xc3\xa9");
    /* len bounds the copy; a NUL ends it earlier. */
    assert_string_equal(util_escape("abcdef", 3, out, sizeof out), "abc");
    assert_string_equal(util_escape("ab\0cd", 5, out, sizeof out), "ab");
    assert_string_equal(util_escape("", UTIL_ESC_ALL, out, sizeof out), "");
}

static void test_escape_truncates(void **state)
{
    (void)state;
    char out[8];
    /* Fits exactly: 7 characters and the NUL. */
    assert_string_equal(util_escape("1234567", UTIL_ESC_ALL, out, sizeof out),
                        "1234567");
    /* Too long: whole characters, then "...", never past the buffer. */
    assert_string_equal(util_escape("12345678", UTIL_ESC_ALL, out, sizeof out),
                        "1234...");
    /* An escape is never cut in half. */
    assert_string_equal(util_escape("12\x1b\x1b", UTIL_ESC_ALL, out, sizeof out),
                        "12...");
    char tiny[3];
    assert_string_equal(util_escape("abcdef", UTIL_ESC_ALL, tiny, sizeof tiny), "..");
    char one[1];
    assert_string_equal(util_escape("abc", UTIL_ESC_ALL, one, sizeof one), "");
}

static void test_errtext(void **state)
{
    (void)state;
    assert_string_equal(util_errtext(-ENOMEM), "out of memory");
    assert_string_equal(util_errtext(-ENOSPC), strerror(ENOSPC));
    char err[64] = "";
    assert_int_equal(util_fill_err(err, sizeof err, "jobs.txt", -ENOMEM), -ENOMEM);
    assert_string_equal(err, "jobs.txt: out of memory");
    /* A message already there is kept. */
    assert_int_equal(util_fill_err(err, sizeof err, "other", -EIO), -EIO);
    assert_string_equal(err, "jobs.txt: out of memory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_escape_truncates),
        cmocka_unit_test(test_errtext),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
