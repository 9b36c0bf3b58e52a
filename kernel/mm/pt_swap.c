/*
 * pt_swap.c - the paging core's side of page replacement (contract in
 * pt.h, "what page replacement needs"): read a level-1 entry, turn a
 * present 4 KiB leaf into a swap entry and back, clear a swap entry.
 * Used by kernel/proc/replace.c. Built on the walker (walk_down,
 * pt_walk.c), the one entry writer (pte_write) and, for the tables
 * pt_swap_clear empties, pt_unmap's own pruning (walk_prune) and batch.
 *
 * A swap entry (include/pte.h) is a level-1 entry with P = 0 that the
 * CPU ignores whole (SDM Vol. 3A 4.5.4), so the core alone gives it a
 * meaning: it is a used entry of its table, like a leaf. swap_out and
 * swap_in therefore keep the table's count (COUNT_KEPT), and only
 * swap_clear removes one, freeing what that empties as pt_unmap would.
 *
 * TLB (the rule in tlb_policy.c): swap_out removes a present leaf, so its
 * translation is invalidated if the space is the active one (rule 2), and
 * not otherwise (rule 6); swap_in makes a not-present entry present, which
 * needs nothing (rule 1: the CPU caches nothing from an entry with P = 0,
 * SDM Vol. 3A 4.10.2.3), nor does a swap entry cleared where the table
 * stays; tables swap_clear frees cost what pt_unmap's cost (rule 4). The
 * strategies' own views (temporary's slots, recursive's windows) are
 * kept by their table getter and, for freed tables, by batch_finish's
 * strategy_table_retire, as for every other operation.
 */
#include "layout.h"
#include "pt_internal.h"

/* The checks of a page address, in map_args_check's order: canonical,
 * aligned, clear of the strategy's range. */
static enum pt_status page_check(vaddr_t va)
{
    if (!va_is_canonical(va.va))
        return PT_ERR_NONCANONICAL;
    if (PAGE_OFFSET(va.va))
        return PT_ERR_MISALIGNED;
    return check_range(va, PAGE_SIZE);
}

/* A swap entry as pt_swap_out takes it: PTE_SWAP set, and nothing but the
 * slot besides (P clear: the CPU must not use it). */
static bool swap_valid(pte_t swap)
{
    return pte_is_swap(swap) && !(swap & ~(PTE_SWAP | PTE_SWAP_SLOT_MASK));
}

enum pt_status pt_entry_get(vaddr_t va, pte_t *e)
{
    struct walk w;
    op_begin(PT_OP_SWAP);
    *e = 0;
    enum pt_status st = page_check(va);
    if (st == PT_OK)
        st = walk_down(&w, va, 1);
    if (st == PT_OK)
        *e = walk_entry_bare(&w);
    return st;
}

enum pt_status pt_swap_out(vaddr_t va, pte_t swap, pte_t *old)
{
    struct walk w;
    op_begin(PT_OP_SWAP);
    if (!swap_valid(swap))
        return PT_ERR_BAD_PROT;
    enum pt_status st = page_check(va);
    if (st != PT_OK)
        return st;
    st = leaf_of_size(&w, walk_down(&w, va, 1));
    if (st != PT_OK)
        return st;
    /* The leaf as it was, A and D included: with one CPU nothing can set
     * D between this read and the store below (no instruction touches the
     * page meanwhile); with several, the two would have to be one locked
     * exchange (SDM Vol. 3A 4.8: the CPU sets A and D with locked
     * read-modify-writes of the entry). */
    if (old)
        *old = walk_entry_bare(&w);
    /* in entry 0 pte_write keeps the table's count, which does not change:
     * the swap entry is as used as the leaf was */
    pte_write(walk_table(&w), walk_index(&w), swap, COUNT_KEPT);
    if (va_live(va))
        pt_invlpg(va); /* rule 2; an inactive space has nothing cached (rule 6) */
    return PT_OK;
}

/* walk_down's result st for an operation that needs a swap entry at va:
 * PT_OK if w's entry is one; `mapped` if a present leaf holds va (4 KiB
 * or huge); PT_ERR_UNMAPPED for an empty entry or no table. */
static enum pt_status swap_at(const struct walk *w, enum pt_status st, enum pt_status mapped)
{
    if (st == PT_ERR_HUGE_IN_WAY)
        return mapped;
    if (st != PT_OK)
        return st;
    if (pte_present(w->entry))
        return mapped;
    return pte_is_swap(w->entry) ? PT_OK : PT_ERR_UNMAPPED;
}

enum pt_status pt_swap_in(vaddr_t va, paddr_t pa, uint32_t prot, pte_t *old)
{
    struct walk w;
    op_begin(PT_OP_SWAP);
    enum pt_status st = check_map_args(va, pa, PAGE_SIZE, PAGE_SIZE, prot);
    if (st != PT_OK)
        return st;
    st = swap_at(&w, walk_down(&w, va, 1), PT_ERR_ALREADY_MAPPED);
    if (st != PT_OK)
        return st;
    if (old)
        *old = walk_entry_bare(&w);
    /* the count stays (a used entry stays used); rule 1: no invalidation */
    pte_write(walk_table(&w), walk_index(&w), pa.pa | leaf_bits(prot, 1), COUNT_KEPT);
    return PT_OK;
}

enum pt_status pt_swap_clear(vaddr_t va, pte_t *old)
{
    struct walk w;
    op_begin(PT_OP_SWAP);
    enum pt_status st = page_check(va);
    if (st != PT_OK)
        return st;
    st = swap_at(&w, walk_down(&w, va, 1), PT_ERR_UNMAPPED);
    if (st != PT_OK)
        return st;
    if (old)
        *old = walk_entry_bare(&w);
    unsigned left = pte_write(walk_table(&w), walk_index(&w), 0, COUNT_REMOVED);
    if (left == 0) {
        /* the tables it emptied go as pt_unmap's do: unhooked, one INVLPG
         * for the paging-structure caches (the entry itself, not present,
         * was never cached), retired, freed (rule 4) */
        struct batch b;
        batch_init(&b, NULL);
        walk_prune(&w, 0, &b);
        batch_finish(&b);
    }
    return PT_OK;
}
