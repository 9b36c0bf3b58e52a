/*
 * variant_none.c - the normal kernel: nothing after the experiments, no
 * extra final translations (see variant.h).
 */
#include "variant.h"

void variant_run(const struct boot_info *bi)
{
    (void)bi;
}

unsigned variant_oracle_addresses(uint64_t *out, unsigned cap)
{
    (void)out;
    (void)cap;
    return 0;
}
