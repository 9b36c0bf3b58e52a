/*
 * tlb.c - TLB invalidation, CR3 access and cpu_ptr for the kernel (inline
 * asm and a cast): the mechanism. When each is needed is the TLB rule,
 * kernel/mm/tlb_policy.c. Used by the paging core and the strategies; the
 * host tests link tests/host/fake_cpu.c instead.
 */
#include <stdint.h>

#include "cpu.h"
#include "pte.h"
#include "tlb.h"
#include "x86.h"

void tlb_invlpg(vaddr_t va)
{
    /* "memory": the PTE store before must reach memory first (the compiler
     * may not sink it past the invalidation). */
    __asm__ volatile("invlpg (%0)" : : "r"(va.va) : "memory");
}

/*
 * A CR3 reload keeps global translations (SDM 4.10.4.1, "MOV to CR3"), and
 * pagelab lets callers map global pages (PT_PROT_GLOBAL), so a CR3 reload
 * alone is not enough once CR4.PGE is on. Clearing and setting CR4.PGE
 * drops every TLB entry, global ones included, and all paging-structure
 * caches (SDM 4.10.4.1, "MOV to CR4"). Without PGE the G bit is ignored and
 * a CR3 reload already drops everything.
 */
void tlb_flush_all(void)
{
    uint64_t cr4 = read_cr4();
    if (cr4 & CR4_PGE) {
        write_cr4(cr4 & ~(uint64_t)CR4_PGE);
        write_cr4(cr4);
        return;
    }
    uint64_t cr3;
    __asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) : : "memory");
}

void tlb_flush_nonglobal(void)
{
    uint64_t cr3;
    __asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) : : "memory");
}

void cpu_write_cr3(paddr_t root)
{
    /* "memory": the new hierarchy's entries are written before the load */
    __asm__ volatile("mov %0, %%cr3" : : "r"(root.pa) : "memory");
}

paddr_t cpu_read_cr3(void)
{
    uint64_t cr3;
    __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
    return paddr(cr3 & PTE_ADDR_MASK);
}

/* The MMU does the resolving: LTO inlines this into a plain cast. */
void *cpu_ptr(vaddr_t va)
{
    return (void *)(uintptr_t)va.va;
}
