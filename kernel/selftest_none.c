/*
 * selftest_none.c - what normal (non-test) kernels link in place of
 * selftest.c: no suite, no oracle mappings.
 */
#include "selftest.h"

void selftest_run(const struct boot_info *bi)
{
    (void)bi;
}

unsigned selftest_oracle_addresses(uint64_t *out, unsigned cap)
{
    (void)out;
    (void)cap;
    return 0;
}
