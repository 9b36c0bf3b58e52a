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
/* Those of them under the frame records' slot (FRAME_META_BASE): kept for
 * good once a record page is mapped (kernel/mm/frame_meta.h). */
unsigned measure_record_tables(void);

/* RDTSC with the compiler kept from moving work across it. */
static inline uint64_t measure_now(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return ((uint64_t)hi << 32) | lo;
}

/*
 * RDTSC difference around exactly one call fn(a0, ..., a4) (integer
 * arguments in the System V registers; a function with fewer ignores the
 * rest). The asm loads the arguments itself, so the sequence between the
 * two RDTSCs is fixed: 3 instructions to keep the first reading, 5 argument
 * loads, the CALL, then everything fn retires up to and including its RET.
 * How the caller's compiler happened to set up the arguments does not
 * count. Kernel code only: no red zone, no SSE state to keep.
 */
static inline uint64_t measure_call_raw(const void *fn, uint64_t a0, uint64_t a1, uint64_t a2,
                                        uint64_t a3, uint64_t a4)
{
    uint64_t t0, lo, hi;
    __asm__ volatile("rdtsc\n\t"
                     "shl $32, %%rdx\n\t"
                     "or %%rax, %%rdx\n\t"
                     "mov %%rdx, %%rbx\n\t"
                     "mov %[a0], %%rdi\n\t"
                     "mov %[a1], %%rsi\n\t"
                     "mov %[a2], %%rdx\n\t"
                     "mov %[a3], %%rcx\n\t"
                     "mov %[a4], %%r8\n\t"
                     "call *%[fn]\n\t"
                     "rdtsc"
                     : "=&b"(t0), "=&a"(lo), "=&d"(hi)
                     : [fn] "m"(fn), [a0] "m"(a0), [a1] "m"(a1), [a2] "m"(a2), [a3] "m"(a3),
                       [a4] "m"(a4)
                     : "rcx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "cc");
    return ((hi << 32) | (uint32_t)lo) - t0;
}

/*
 * What one call of fn costs: measure_call_raw minus the same around
 * measure_empty (a bare RET; measure_calibrate), plus that CALL and RET,
 * so the figure is fn's instructions from the CALL to its RET, both
 * included. Under -icount shift=0 it is exact and the same every run.
 */
uint64_t measure_call(const void *fn, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                      uint64_t a4);

/* Measures the empty call's raw cost (median of many); call once before
 * measure_call. Returns it. */
uint64_t measure_calibrate(void);

/* Median of n values (sorts them in place). */
uint64_t measure_median(uint64_t *v, unsigned n);

#endif
