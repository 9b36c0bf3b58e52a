/*
 * test_uprintf.c - host unit tests for the user library's formatter
 * (user/lib/printf.c's vsnprintf, renamed here so that it does not replace
 * the C library's): every conversion and flag it supports gives what the
 * C library gives, and output that does not fit is cut and counted.
 */
#include <stdarg.h>
#include "check.h"

int user_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int user_snprintf(char *buf, size_t size, const char *fmt, ...);
long user_write(const void *buf, size_t len);

/* printf.c's SYS_WRITE: not called by these tests (snprintf only). */
long user_write(const void *buf, size_t len)
{
    (void)buf;
    return (long)len;
}

/* Formats with both and compares text and length. */
#define SAME(...)                                                                  \
    do {                                                                           \
        char got_[128], want_[128];                                                \
        int g_ = user_snprintf(got_, sizeof(got_), __VA_ARGS__);                   \
        int w_ = snprintf(want_, sizeof(want_), __VA_ARGS__);                      \
        CHECK(g_ == w_ && strcmp(got_, want_) == 0, "%s: \"%s\" (%d), want \"%s\" (%d)", \
              #__VA_ARGS__, got_, g_, want_, w_);                                  \
    } while (0)

static void test_integers_match_the_c_library(void)
{
    SAME("%d %d %d", 0, -1, 2147483647);
    SAME("%d", (int)-2147483647 - 1);
    SAME("%u %x", 4294967295u, 0xdeadbeefu);
    SAME("%ld %lu %lx", -5L, 18446744073709551615UL, 0xffffffffffffUL);
    SAME("%lld %llu %llx", -9223372036854775807LL - 1, 12345ULL, 0xfedcba9876543210ULL);
}

static void test_width_and_zero_padding_match_the_c_library(void)
{
    SAME("[%5d] [%05d] [%1d]", 42, 42, 7);
    SAME("[%5d] [%05d]", -42, -42);
    SAME("[%08x] [%016llx] [%2x]", 0xabcu, 0x1234ULL, 0x12345u);
    SAME("[%10s] [%3s]", "abc", "abcdef");
    SAME("%c%c %% %s", 'o', 'k', "done");
}

static void test_pointers_are_0x_and_hex(void)
{
    SAME("%p", (void *)0x401000);
    SAME("%p", (void *)0x7fffffff0000);
}

static void test_output_that_does_not_fit_is_cut_and_counted(void)
{
    char buf[8];
    memset(buf, 'X', sizeof(buf));
    CHECK_EQ(user_snprintf(buf, sizeof(buf), "%s", "0123456789"), 10);
    CHECK(strcmp(buf, "0123456") == 0, "\"%s\"", buf);
    CHECK_EQ(user_snprintf(buf, 1, "%d", 123), 3);
    CHECK_EQ(buf[0], '\0');
    CHECK_EQ(user_snprintf(NULL, 0, "%d", 12345), 5);
}

static const struct check_test tests[] = {
    CHECK_TEST(test_integers_match_the_c_library),
    CHECK_TEST(test_width_and_zero_padding_match_the_c_library),
    CHECK_TEST(test_pointers_are_0x_and_hex),
    CHECK_TEST(test_output_that_does_not_fit_is_cut_and_counted),
};

int main(void)
{
    return check_main("uprintf", tests, CHECK_COUNT(tests));
}
