/*
 * divmod10.h - n /= 10 with the remainder, for the console's decimal
 * output, without __udivdi3: neither stage links libgcc. A header so that
 * the host test (tests/host/test_divmod10.c) checks the 32-bit path too.
 */
#ifndef COMMON_DIVMOD10_H
#define COMMON_DIVMOD10_H

#include <stdint.h>

/* 16 bits at a time: each step's dividend is below 10 << 16, so 32-bit
 * arithmetic is exact, and gcc turns the constant divisor into a multiply.
 * The shift-and-subtract loop over 64 bits this replaces cost ~800
 * instructions a digit in stage2, most of its printing. */
static inline unsigned divmod10_by16(uint64_t *n)
{
    uint32_t r = 0;
    uint64_t q = 0;
    for (int shift = 48; shift >= 0; shift -= 16) {
        uint32_t part = (r << 16) | (uint32_t)((*n >> shift) & 0xFFFF);
        q |= (uint64_t)(part / 10) << shift;
        r = part % 10;
    }
    *n = q;
    return r;
}

/* The 64-bit kernel divides natively (again a multiply). */
static inline unsigned divmod10(uint64_t *n)
{
#if UINTPTR_MAX > 0xFFFFFFFFu
    unsigned r = (unsigned)(*n % 10);
    *n /= 10;
    return r;
#else
    return divmod10_by16(n);
#endif
}

#endif
