/*
 * tlb.h - the three CPU operations the paging core needs: invalidate one
 * page's translations, invalidate everything, and read the root (CR3).
 *
 * Kernel: kernel/mm/tlb.c (inline asm). Host tests: tests/host/fake_cpu.c
 * (counts the calls, CR3 from a variable). Policy — when each is needed —
 * is the TLB rule in kernel/mm/tlb_policy.c, not here (that file says
 * why the two stay apart).
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

/* Physical address of the active PML4 (CR3 bits 51:12; SDM 4.5.2). */
paddr_t cpu_read_cr3(void);

#endif
