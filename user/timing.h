/*
 * timing.h - the timed windows of the ring-3 benchmarks (user/faultbench.c,
 * user/swapbench.c). Under QEMU's -icount shift=0 the TSC counts retired
 * instructions (RDTSC works in ring 3: CR4.TSD is clear), so a window's
 * difference is guest instructions.
 *
 * Each window is one asm block: RDTSC, two MOVs keeping its result, the
 * one access, then RDTSC again. The same block on a page that no longer
 * faults (the access's second touch) is the baseline a benchmark takes
 * out, so that its figure is the fault's instructions alone: the
 * exception entry, the kernel's resolution, IRETQ and nothing of the
 * access itself.
 */
#ifndef USER_TIMING_H
#define USER_TIMING_H

#include "pagelab.h"

#define TSC_JOIN(lo, hi) (((unsigned long long)(hi) << 32) | (lo))

/* One byte stored at p, between two RDTSCs. */
static inline unsigned long long time_store(volatile char *p)
{
    unsigned lo0, hi0, lo1, hi1;
    __asm__ volatile("rdtsc\n\t"
                     "mov %%eax, %0\n\t"
                     "mov %%edx, %1\n\t"
                     "movb $1, (%4)\n\t"
                     "rdtsc"
                     : "=&r"(lo0), "=&r"(hi0), "=&a"(lo1), "=&d"(hi1)
                     : "r"(p)
                     : "memory");
    return TSC_JOIN(lo1, hi1) - TSC_JOIN(lo0, hi0);
}

/* One byte read at p (a compare with memory: no register written). */
static inline unsigned long long time_load(const volatile char *p)
{
    unsigned lo0, hi0, lo1, hi1;
    __asm__ volatile("rdtsc\n\t"
                     "mov %%eax, %0\n\t"
                     "mov %%edx, %1\n\t"
                     "cmpb $0, (%4)\n\t"
                     "rdtsc"
                     : "=&r"(lo0), "=&r"(hi0), "=&a"(lo1), "=&d"(hi1)
                     : "r"(p)
                     : "memory", "cc");
    return TSC_JOIN(lo1, hi1) - TSC_JOIN(lo0, hi0);
}

/* The median of v[0..n) (n > 0), which it sorts in place: medians keep
 * out the few samples a timer tick lands in. */
static inline unsigned long long median(unsigned long long *v, unsigned n)
{
    for (unsigned i = 1; i < n; i++) {          /* insertion sort: n is small */
        unsigned long long x = v[i];
        unsigned j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif
