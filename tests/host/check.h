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
 * Every failure (not only the first) is also printed to stderr. A test
 * that hangs is reported as FAIL after CHECK_TIMEOUT_SECONDS. The program
 * exits 1 when any test failed. Header-only, POSIX host, one test at a time.
 * Table-driven tests use CHECK_CASE: one function, one argument per row,
 * still one result line per row. check_random and check_read_file are
 * small helpers most suites need.
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

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK_REASON_MAX 512

struct check_test {
    const char *name;   /* one-sentence intent, printed in the result line */
    void (*fn)(void);                    /* either this... */
    void (*fn_arg)(const void *arg);     /* ...or this, called with arg */
    const void *arg;
};

/* A table entry named after the function; check_main drops a "test_"
 * prefix when printing. */
#define CHECK_TEST(fn) { #fn, fn, NULL, NULL }
/* A table-driven entry: fn(arg), printed as name. */
#define CHECK_CASE(name, fn, arg) { name, NULL, fn, arg }
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

/* Equality of two integers, printing both values (signed decimal and hex)
 * on failure. Each argument is evaluated once (a GNU statement expression),
 * so CHECK_EQ(fat_read(...), 0) reads once. */
#define CHECK_EQ(got, want)                                                 \
    ({                                                                      \
        unsigned long long check_got_ = (unsigned long long)(got);          \
        unsigned long long check_want_ = (unsigned long long)(want);        \
        CHECK(check_got_ == check_want_,                                    \
              "%s == %lld (0x%llx), want %s == %lld (0x%llx)", #got,        \
              (long long)check_got_, check_got_, #want,                     \
              (long long)check_want_, check_want_);                         \
    })

/* A deterministic pseudo-random number below bound (xorshift64, fixed
 * seed), so that a failing randomised test fails the same way again. */
__attribute__((unused))
static uint32_t check_random(uint32_t bound)
{
    static uint64_t state = 0x9E3779B97F4A7C15ULL;
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return bound == 0 ? 0 : (uint32_t)(state % bound);
}

/* Reads a whole file into a malloc'd buffer (one spare byte at the end);
 * records a failure and returns NULL when it cannot. */
__attribute__((unused))
static uint8_t *check_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!CHECK(f != NULL, "cannot open %s", path))
        return NULL;
    uint8_t *buf = NULL;
    long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (size >= 0 && fseek(f, 0, SEEK_SET) == 0)
        buf = malloc((size_t)size + 1);
    if (buf != NULL && fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (!CHECK(buf != NULL, "cannot read %s", path))
        return NULL;
    *len = (size_t)size;
    return buf;
}

/* Checks that every error code in [lo, hi] has a message of its own:
 * none is the strerror function's "unknown error" fallback, no two agree. */
__attribute__((unused))
static void check_distinct_messages(const char *(*strerror_fn)(int), int lo,
                                    int hi, const char *unknown)
{
    for (int a = lo; a <= hi; a++) {
        CHECK(strcmp(strerror_fn(a), unknown) != 0, "code %d has no message", a);
        for (int b = a + 1; b <= hi; b++)
            CHECK(strcmp(strerror_fn(a), strerror_fn(b)) != 0,
                  "codes %d and %d share a message", a, b);
    }
}

/* strerror_fn gives `unknown` just outside its codes lo..hi (each side,
 * and at the ends of int) and a message at lo and hi themselves. */
__attribute__((unused))
static void check_unknown_outside(const char *(*strerror_fn)(int), int lo, int hi,
                                  const char *unknown)
{
    const int outside[] = { lo - 1, hi + 1, INT32_MIN, INT32_MAX };
    for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++)
        CHECK(strcmp(strerror_fn(outside[i]), unknown) == 0, "code %d: \"%s\"", outside[i],
              strerror_fn(outside[i]));
    CHECK(strcmp(strerror_fn(lo), unknown) != 0, "code %d (lo) has no message", lo);
    CHECK(strcmp(strerror_fn(hi), unknown) != 0, "code %d (hi) has no message", hi);
}

/* A test that runs longer than this has hung (a loop the code under test
 * failed to bound): it is reported as failed and the program exits. */
#define CHECK_TIMEOUT_SECONDS 60

/* The FAIL line to print if the running test times out, built beforehand
 * because a signal handler may only write(). */
static char check_timeout_line[CHECK_REASON_MAX];

__attribute__((unused))
static void check_on_timeout(int sig)
{
    (void)sig;
    ssize_t ignored = write(STDOUT_FILENO, check_timeout_line,
                            strlen(check_timeout_line));
    (void)ignored;
    _exit(1);
}

/* Prints the result line of one finished test; returns true if it passed. */
__attribute__((unused))
static bool check_report(const char *suite, const char *name)
{
    if (check_current.failures == 0) {
        printf("PASS: %s: %s\n", suite, name);
        return true;
    }
    printf("FAIL: %s: %s: %s", suite, name, check_current.reason);
    if (check_current.failures > 1)
        printf(" (+%u more)", check_current.failures - 1);
    printf("\n");
    return false;
}

/* Runs the table; prints one line per test; returns the exit status. */
__attribute__((unused))
static int check_main(const char *suite, const struct check_test *tests,
                      size_t count)
{
    unsigned failed = 0;
    size_t prefix = strlen(CHECK_NAME_PREFIX);
    signal(SIGALRM, check_on_timeout);
    for (size_t i = 0; i < count; i++) {
        const char *name = tests[i].name;
        if (strncmp(name, CHECK_NAME_PREFIX, prefix) == 0)
            name += prefix;
        check_current.failures = 0;
        check_current.reason[0] = '\0';
        snprintf(check_timeout_line, sizeof(check_timeout_line),
                 "FAIL: %s: %.200s: timed out after %d s\n", suite, name,
                 CHECK_TIMEOUT_SECONDS);
        fflush(stdout);
        alarm(CHECK_TIMEOUT_SECONDS);
        if (tests[i].fn != NULL)
            tests[i].fn();
        else
            tests[i].fn_arg(tests[i].arg);
        alarm(0);
        failed += !check_report(suite, name);
    }
    fflush(stdout);
    return failed == 0 ? 0 : 1;
}

#endif
