/* lib.h - memcpy and friends: the shared freestanding set (common/mem.h),
 * and the kernel's whole-page fill and copy. */
#ifndef KERNEL_LIB_H
#define KERNEL_LIB_H
#include "../common/mem.h"
#include "layout.h"

/* One page (PAGE_SIZE) zeroed / copied with REP STOSQ / REP MOVSQ (SDM Vol. 2B,
 * "REP/REPE/REPZ/REPNE/REPNZ"): 512 iterations of one instruction, where
 * memset's unrolled loop retires about 770 instructions and memcpy's about
 * 1300 (and under -icount each iteration counts as one, which is how the
 * fault-cost benches compare with Linux's clear_page / copy_page). CLD
 * first: an interrupt or exception taken in ring 3 enters the kernel with
 * the user's DF (SDM Vol. 3A 6.12.1 clears only TF, NT, RF and, for an
 * interrupt gate, IF), and a set DF would run the copy backwards. */
static inline void page_zero(void *page)
{
    void *d = page;
    unsigned long n = PAGE_SIZE / 8;
    __asm__ volatile("cld; rep stosq" : "+D"(d), "+c"(n) : "a"(0UL) : "memory");
}

static inline void page_copy(void *dst, const void *src)
{
    void *d = dst;
    const void *s = src;
    unsigned long n = PAGE_SIZE / 8;
    __asm__ volatile("cld; rep movsq" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}
#endif
