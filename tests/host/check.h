/*
 * check.h - the tiny unit-test harness shared by every host test program.
 *
 * A test is a void function whose name (or table entry) says its intent in
 * one sentence. CHECK records a failure with file:line and keeps going;
 * check_main runs a table of tests and prints exactly one line per test on
 * stdout, which the top-level `make test` counts:
 *
 *     PASS: <suite>: <name>
 *     FAIL: <suite>: <name>: <file>:<line>: <first failure> (+N more)
 *
 * Every failure (not only the first) is also printed to stderr. The program
 * exits 1 when any test failed. Header-only, host libc, one test at a time.
 *
 *     static void test_empty_map_gives_nothing(void)
 *     {
 *         CHECK(e820_sanitize(NULL, 0, out, 4) == 0, "want 0 entries");
 *     }
 *     static const struct check_test tests[] = {
 *         CHECK_TEST(test_empty_map_gives_nothing),
 *     };
 *     int main(void) { return check_main("e820", tests, CHECK_COUNT(tests)); }
 */
#ifndef TESTS_HOST_CHECK_H
#define TESTS_HOST_CHECK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define CHECK_REASON_MAX 512

struct check_test {
    const char *name;   /* one-sentence intent, printed in the result line */
    void (*fn)(void);
};

/* A table entry named after the function; check_main drops a "test_"
 * prefix when printing. */
#define CHECK_TEST(fn) { #fn, fn }
#define CHECK_NAME_PREFIX "test_"
#define CHECK_COUNT(table) (sizeof(table) / sizeof((table)[0]))

/* State of the test that is running. */
static struct {
    unsigned failures;               /* failed checks in the current test */
    char reason[2 * CHECK_REASON_MAX]; /* the first of them, with file:line */
} check_current;

/* Records one check; returns cond so callers can bail out early:
 *     if (!CHECK(p != NULL, "open failed")) return;                       */
__attribute__((format(printf, 4, 5), unused))
static bool check_record(bool cond, const char *file, int line,
                         const char *fmt, ...)
{
    if (cond)
        return true;
    char msg[CHECK_REASON_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "  %s:%d: %s\n", file, line, msg);
    if (check_current.failures++ == 0)
        snprintf(check_current.reason, sizeof(check_current.reason),
                 "%.200s:%d: %s", file, line, msg);
    return false;
}

/* CHECK(cond, fmt, ...): an expression, true when cond holds. */
#define CHECK(cond, ...) check_record(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

/* Equality of two integers, printing both values on failure. */
#define CHECK_EQ(got, want)                                                 \
    CHECK((unsigned long long)(got) == (unsigned long long)(want),          \
          "%s == %llu (0x%llx), want %s == %llu (0x%llx)", #got,            \
          (unsigned long long)(got), (unsigned long long)(got), #want,      \
          (unsigned long long)(want), (unsigned long long)(want))

/* Runs the table; prints one line per test; returns the exit status. */
__attribute__((unused))
static int check_main(const char *suite, const struct check_test *tests,
                      size_t count)
{
    unsigned failed = 0;
    size_t prefix = strlen(CHECK_NAME_PREFIX);
    for (size_t i = 0; i < count; i++) {
        const char *name = tests[i].name;
        if (strncmp(name, CHECK_NAME_PREFIX, prefix) == 0)
            name += prefix;
        check_current.failures = 0;
        check_current.reason[0] = '\0';
        fflush(stdout);
        tests[i].fn();
        if (check_current.failures == 0) {
            printf("PASS: %s: %s\n", suite, name);
            continue;
        }
        failed++;
        printf("FAIL: %s: %s: %s", suite, name, check_current.reason);
        if (check_current.failures > 1)
            printf(" (+%u more)", check_current.failures - 1);
        printf("\n");
    }
    fflush(stdout);
    return failed == 0 ? 0 : 1;
}

#endif
