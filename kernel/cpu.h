/*
 * cpu.h - one-instruction wrappers for control registers and MSRs
 * (Intel SDM Vol. 3A 2.5, 2.8). The TLB ones live in tlb.h.
 */
#ifndef KERNEL_CPU_H
#define KERNEL_CPU_H

#include <stdint.h>
#include "x86.h"

#define DEFINE_READ_CR(n) \
    static inline uint64_t read_cr##n(void) \
    { uint64_t v; __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v)); return v; }
DEFINE_READ_CR(0)
DEFINE_READ_CR(2)
DEFINE_READ_CR(4)
#undef DEFINE_READ_CR

static inline void write_cr0(uint64_t v)
{
    __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

static inline void write_cr4(uint64_t v)
{
    __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/* RFLAGS.AC clear / set: with CR4.SMAP, supervisor data accesses to user
 * pages fault unless AC is set (SDM 4.6.1). Done with PUSHFQ/POPFQ rather
 * than CLAC/STAC: same effect in ring 0 (SDM Vol. 2, POPF), on every CPU,
 * and some virtualised CPUs (nested KVM here) advertise SMAP in CPUID yet
 * fail to emulate CLAC. RFLAGS_AC: include/x86.h. */

static inline void rflags_ac(int on)
{
    uint64_t f;
    __asm__ volatile("pushfq; popq %0" : "=r"(f));
    f = on ? (f | RFLAGS_AC) : (f & ~RFLAGS_AC);
    __asm__ volatile("pushq %0; popfq" : : "r"(f) : "memory", "cc");
}

static inline void clac(void) { rflags_ac(0); }
static inline void stac(void) { rflags_ac(1); }

/* A pointer to virtual address va that the compiler cannot trace back to
 * a constant: the experiments and tests touch page 0 and other addresses
 * they mapped on purpose, which C would otherwise treat as undefined. */
static inline volatile uint64_t *va_ptr(uint64_t va)
{
    volatile uint64_t *p;
    __asm__("" : "=r"(p) : "0"(va));
    return p;
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

#endif
