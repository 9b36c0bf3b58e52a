/*
 * tlb.h - the CPU operations the paging core and the strategies need:
 * invalidate one page's translations, invalidate everything, read the root
 * (CR3), and reach a virtual address that only the page tables give a
 * meaning to (a pool frame at its offset, a temporary slot).
 *
 * Kernel: kernel/mm/tlb.c (inline asm). Host tests: tests/host/fake_cpu.c
 * (counts the calls, CR3 from a variable, a software walk with a TLB for
 * cpu_ptr). Policy — when each is needed — is the TLB rule in
 * kernel/mm/tlb_policy.c, not here (that file says why the two stay apart).
 */
#ifndef KERNEL_TLB_H
#define KERNEL_TLB_H

#include "addr.h"

/* INVLPG va: drops the TLB entries for the page holding va, whatever its
 * size, and every paging-structure-cache entry of the current PCID
 * (Intel SDM Vol. 3A 4.10.4.1). Does not touch the page tables. */
void tlb_invlpg(vaddr_t va);

/* Drops every TLB and paging-structure-cache entry, global ones included
 * (SDM 4.10.4.1). Costly: the whole working set is walked again. */
void tlb_flush_all(void);

/* Drops every non-global TLB entry and the paging-structure caches: a
 * MOV to CR3 of its own value (SDM 4.10.4.1). Global entries stay. */
void tlb_flush_nonglobal(void);

/* Physical address of the active PML4 (CR3 bits 51:12; SDM 4.5.2). */
paddr_t cpu_read_cr3(void);

/* Loads root into CR3 (PCD, PWT and the PCID bits 0): the CPU walks that
 * hierarchy from the next access on, and the TLB keeps only global
 * entries (SDM 4.10.4.1, "MOV to CR3"). */
void cpu_write_cr3(paddr_t root);

/* A pointer through which the CPU reaches virtual address va. In the kernel
 * it is va itself (the MMU translates each access, through the TLB); it
 * exists so that the host tests, which have no MMU, can resolve the
 * strategies' own addresses through their simulated page tables. Checks
 * nothing: an unmapped va faults on first use, as it would anyway. */
void *cpu_ptr(vaddr_t va);

#endif
