/*
 * ring.c - SYSCALL/SYSRET's MSRs and the kernel stack of ring 3's entries
 * (contract in ring.h). SDM Vol. 3A 5.8.8 "Fast System Calls in 64-Bit
 * Mode", Vol. 2B SYSCALL and SYSRET.
 */
#include <stdint.h>
#include "ring.h"
#include "cpu.h"
#include "gdt.h"
#include "x86.h"

extern void syscall_entry(void);
extern uint64_t ring_kernel_rsp;

#define STAR_SYSCALL_SHIFT 32
#define STAR_SYSRET_SHIFT  48

void ring_init(void)
{
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
    wrmsr(MSR_STAR, ((uint64_t)STAR_SYSRET_BASE << STAR_SYSRET_SHIFT) |
                    ((uint64_t)STAR_SYSCALL_BASE << STAR_SYSCALL_SHIFT));
    wrmsr(MSR_LSTAR, (uint64_t)(uintptr_t)syscall_entry);
    wrmsr(MSR_FMASK, RING_FMASK);
}

void ring_set_kernel_stack(uint64_t top)
{
    gdt_set_rsp0(top);
    ring_kernel_rsp = top;
}
