/*
 * pt_accessed.c - pt_clear_accessed (contract in pt.h): the Accessed bit
 * of one 4 KiB leaf, read and cleared for the replacement policies that
 * sample it (Clock's second chance, NRU's classes, aging's counters).
 *
 * Why the invalidation: the CPU sets A when it walks to a page and loads
 * the translation into the TLB (SDM Vol. 3A 4.8), and never caches a
 * translation from an entry whose A is 0 (4.10.4.3): a cached translation
 * is a stale A = 1, and while it lives, further accesses use it and do
 * not write A again. So an A bit
 * cleared under a cached translation stays 0 however often the page is
 * used until the entry is evicted: the page looks idle when it is not.
 * In the active space pagelab therefore invalidates the page after
 * clearing its A (one INVLPG, rule 2 of tlb_policy.c), so the next access
 * walks and sets A again: the policies see every reference, which is what
 * lets tests/replacement_sim.py predict their faults exactly. In an
 * inactive space nothing is cached (a CR3 write drops every non-global
 * translation, SDM Vol. 3A 4.10.4.1, and user pages are not global;
 * no PCIDs: rule 6), so no invalidation is needed. Linux on x86 does
 * not flush here (ptep_clear_flush_young): a stale A = 0 costs it only
 * an early eviction, which it trades for the INVLPG.
 */
#include "pt_internal.h"

enum pt_status pt_clear_accessed(vaddr_t va, pte_t *old)
{
    struct walk w;
    op_begin(PT_OP_SWAP);
    if (PAGE_OFFSET(va.va))
        return PT_ERR_MISALIGNED;
    enum pt_status st = check_range(va, PAGE_SIZE);
    if (st != PT_OK)
        return st;
    st = walk_down(&w, va, 1);
    if (st == PT_ERR_HUGE_IN_WAY)
        return PT_ERR_NOT_LEAF_OF_SIZE;       /* mapped by a bigger page */
    if (st != PT_OK)
        return st;
    if (!pte_present(w.entry))
        return PT_ERR_UNMAPPED;              /* empty, or a swap entry */
    if (old)
        *old = w.entry & (walk_index(&w) == 0 ? ~PT_COUNT_MASK : ~0ULL);
    if (!(w.entry & PTE_A))
        return PT_OK;                   /* nothing to clear, nothing cached to drop */
    pte_write(walk_table(&w), walk_index(&w), w.entry & ~PTE_A, COUNT_KEPT);
    if (va_live(va))
        pt_invlpg(va);
    return PT_OK;
}
