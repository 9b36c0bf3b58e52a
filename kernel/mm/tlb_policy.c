/*
 * tlb_policy.c - when the paging core invalidates, and the batch that
 * does it: the one place to read for "when is INVLPG needed?". tlb.c next
 * to it is the mechanism (the INVLPG, the full flush, CR3), and stays
 * apart on purpose: it is the one file the host tests replace
 * (tests/host/fake_cpu.c counts the calls instead of executing them), so
 * the policy here runs, and is tested, the same on the host as in the
 * kernel. Used by the core (pt_walk.c, pt_range.c), the strategies
 * (pt_invlpg) and phys_window_drop (pt_flush_all).
 *
 * THE TLB RULE (Intel SDM Vol. 3A, 4.10.4 "Invalidation of TLBs and
 * Paging-Structure Caches"), followed by every function of the paging
 * core and by the strategies:
 *
 *  1. Not present -> present needs no invalidation: the CPU caches neither
 *     TLB entries nor paging-structure-cache entries from an entry whose
 *     P flag is 0 (4.10.2.3, 4.10.3.1; 4.10.4.3 lists the case).
 *  2. Any change to a present entry (removal, other frame, other bits —
 *     widening too, as pagelab has no page-fault handler to retry a
 *     spurious fault) needs INVLPG of an address it translates (4.10.4.2).
 *     INVLPG drops the TLB entries of that page whatever its size and all
 *     paging-structure-cache entries of the current PCID (4.10.4.1).
 *  3. More than PT_FLUSH_THRESHOLD (32) addresses in one operation: one full
 *     flush instead (tlb_flush_all, which also drops global entries).
 *     Linux's ceiling is 33 and Zircon's 32: past that, refilling the TLB
 *     is cheaper than the INVLPGs.
 *  4. Freeing a table: unhook (clear the parent entry), invalidate, free.
 *     Its leaves were removed first under rules 2-3, and one INVLPG of any
 *     address drops every paging-structure-cache entry still pointing into
 *     it (4.10.4.1). Then strategy_table_retire drops the strategy's own
 *     view (temporary slot, recursive-window address), and only then is
 *     the frame freed: a walk through a stale cached entry would otherwise
 *     read whatever the next owner writes (Linux mmu_gather's order).
 *  5. A table linked before it is zeroed (STRATEGY_LINK_THEN_ZERO,
 *     recursive) was visible to speculative walks while it held garbage
 *     (4.10.2.3: translations may be cached for accesses that never
 *     retire), so its whole span (>= 512 pages) may hold garbage
 *     translations: one full flush (rule 3) before the operation returns.
 *     The same holds for a table linked into an inactive space through
 *     recursive's second slot (pt_space_clone making dst's tables): a
 *     garbage PDPT or PD there is read as paging structures for
 *     second-slot addresses, which are translations of the active space.
 *  6. An address space that is not the active one (CR3) has no TLB or
 *     paging-structure-cache entries: the MOV to CR3 that left it dropped
 *     them all, and its lower half holds no global page (the kernel maps
 *     none there). So editing its lower half needs no invalidation at all
 *     (batch_add_va drops those addresses). The strategy's own view of its
 *     tables is another matter: rule 4's strategy_table_retire still runs
 *     (temporary: the slot; recursive: the second recursive slot's
 *     addresses, which are translations of the active space). So
 *     pt_remap costs one INVLPG in the active space and none in another,
 *     and pt_space_clone invalidates only src's leaves that lost W, and
 *     only when src is the active space (rules 2 and 3 for those). With PCIDs
 *     this rule would not hold: a space would keep its entries under its
 *     PCID, and pagelab would need INVPCID or a PCID flush here (QEMU's
 *     TCG refuses PCID, so pagelab does not use it).
 *
 * Invalidations are collected per operation (struct batch) and executed
 * before any table is freed and before the operation returns (pt_remap,
 * which changes one leaf and frees nothing, invalidates it directly).
 */
#include "console.h"
#include "pmm.h"
#include "pt_internal.h"
#include "tlb.h"

void batch_init(struct batch *b, const struct pt_frame_source *src)
{
    b->n_va = 0;
    b->full = false;
    b->n_tables = 0;
    b->src = src;
    b->sync = false;
}

void batch_add_va(struct batch *b, vaddr_t va)
{
    if (b->full || !va_live(va))      /* rule 6 */
        return;
    if (b->n_va == PT_FLUSH_THRESHOLD) {
        b->full = true;
        return;
    }
    b->va[b->n_va++] = va;
}

static void batch_flush(struct batch *b)
{
    if (b->full) {
        pt_flush_all();
    } else {
        for (unsigned i = 0; i < b->n_va; i++)
            pt_invlpg(b->va[i]);
    }
    b->n_va = 0;
    b->full = false;
}

static void source_free(const struct pt_frame_source *src, paddr_t frame)
{
    if (src) {
        src->free(src->ctx, frame);
        return;
    }
    enum pmm_status st = pmm_free(strategy_table_zone(), frame);
    if (st != PMM_OK)
        kpanic("source_free: table 0x%lx: %s", frame.pa, pmm_status_name(st));
}

/* Rule 4, last two steps, for every deferred table. */
void batch_finish(struct batch *b)
{
    batch_flush(b);
    for (unsigned i = 0; i < b->n_tables; i++) {
        struct deferred_table *d = &b->tables[i];
        strategy_table_retire(d->level, d->va, d->frame);
        source_free(b->src, d->frame);
        pt_cur->tables_freed++;
    }
    b->n_tables = 0;
}

/* Rule 4: one pending INVLPG (any address) is enough for the
 * paging-structure caches. */
void batch_defer_table(struct batch *b, paddr_t frame, vaddr_t va, unsigned level)
{
    if (b->n_tables == BATCH_TABLES)
        batch_finish(b);
    if (b->n_va == 0 && !b->full)
        batch_add_va(b, va);
    b->tables[b->n_tables].frame = frame;
    b->tables[b->n_tables].va = va;
    b->tables[b->n_tables].level = level;
    b->n_tables++;
}

/* Every invalidation since boot, whatever operation did it: pt_tlb_counts
 * reads two words instead of summing the per-operation stats (it is on
 * the page-fault path, kernel/proc/vm.c). pt_stats_reset leaves them. */
static struct {
    uint64_t invlpgs, flushes;
} tlb_total;

void pt_tlb_counts(uint64_t *invlpgs, uint64_t *flushes)
{
    *invlpgs = tlb_total.invlpgs;
    *flushes = tlb_total.flushes;
}

void pt_invlpg(vaddr_t va)
{
    tlb_invlpg(va);
    pt_cur->invlpgs++;
    tlb_total.invlpgs++;
}

void pt_invlpg_translate(vaddr_t va)
{
    tlb_invlpg(va);
    pt_all_stats.op[PT_OP_TRANSLATE].invlpgs++;
    tlb_total.invlpgs++;
}

void pt_flush_nonglobal(void)
{
    tlb_flush_nonglobal();
    pt_cur->full_flushes++;
    tlb_total.flushes++;
}

void pt_flush_all(void)
{
    tlb_flush_all();
    pt_cur->full_flushes++;
    tlb_total.flushes++;
}
