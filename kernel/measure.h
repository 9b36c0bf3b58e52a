/*
 * measure.h - what the test and bench variants count.
 *
 * Under QEMU's -icount shift=0 the guest TSC advances by exactly one per
 * retired instruction, so an RDTSC difference is an instruction count,
 * repeatable run after run; with a real clock (KVM, hardware) it is cycles.
 */
#ifndef KERNEL_MEASURE_H
#define KERNEL_MEASURE_H

#include <stdint.h>

/* Page-table frames reachable from CR3 (PML4 included; the strategy's own
 * range is not descended, and the recursive slot is not a second PML4). */
unsigned measure_tables(void);

/* RDTSC with the compiler kept from moving work across it. */
static inline uint64_t measure_now(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return ((uint64_t)hi << 32) | lo;
}

/* Median of n values (sorts them in place). */
uint64_t measure_median(uint64_t *v, unsigned n);

#endif
