/* test_divmod10.c - both paths of common/divmod10.h (the 32-bit stage's
 * 16-bit steps and the 64-bit kernel's native division) against the host's
 * 64-bit division: each limit of the steps at, below and above it, and a
 * million pseudo-random values. */
#include "check.h"
#include "divmod10.h"

static int agrees(uint64_t v)
{
    uint64_t a = v, b = v;
    unsigned ra = divmod10_by16(&a), rb = divmod10(&b);
    int ok = a == v / 10 && ra == v % 10 && b == v / 10 && rb == v % 10;
    CHECK(ok, "%llu: 16-bit steps %llu r %u, native %llu r %u", (unsigned long long)v,
          (unsigned long long)a, ra, (unsigned long long)b, rb);
    return ok;
}

static void test_each_limit_at_below_and_above(void)
{
    static const uint64_t limits[] = {
        0, 9, 10, 0xFFFF, 0x10000, 10ull << 16, 0xFFFFFFFFull, 0x100000000ull,
        0xFFFFFFFFFFFFull, 0x1000000000000ull, 10000000000000000000ull, UINT64_MAX,
    };
    for (unsigned i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
        for (int d = -1; d <= 1; d++)
            agrees(limits[i] + (uint64_t)(int64_t)d);
}

static void test_a_million_random_values(void)
{
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < 1000000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;      /* xorshift64 */
        if (!agrees(x) || !agrees(x >> (x & 63)))
            return;
    }
}

static const struct check_test tests[] = {
    CHECK_TEST(test_each_limit_at_below_and_above),
    CHECK_TEST(test_a_million_random_values),
};

int main(void)
{
    return check_main("divmod10", tests, CHECK_COUNT(tests));
}
