/*
 * pt_visit.c - the paging core's walks of the whole tree: pt_init, which
 * records the CPU's paging features and writes every table's used-entry
 * count (the loader keeps none), and pt_visit, which reports every
 * non-empty entry in address order (the listings of pt_dump.c and the
 * host tests' snapshots are built on it). Both stop at the strategy's
 * own range and at a PS bit in a PML4 entry. The counts are written by
 * count_set (pt_internal.h).
 */
#include "pt_internal.h"
#include "tlb.h"

/* ---- pt_init: the counts ---- */

/* The entry's whole span lies in the strategy's range. */
static bool span_reserved(uint64_t va, unsigned level)
{
    uint64_t rb = pt_cfg.reserved.base.va;
    return pt_cfg.reserved.size && va >= rb &&
           va + (span_of(level) - 1) <= rb + (pt_cfg.reserved.size - 1);
}

static bool descends(pte_t e, unsigned level, uint64_t va)
{
    return pte_present(e) && level > 1 && !pte_is_leaf(e, level) &&
           !(level == PT_LEVELS && (e & PTE_PS)) && !span_reserved(va, level);
}

/* Writes every table's count, children first: its present entries and,
 * at level 1, its swap entries (include/pte.h: used like leaves). Most
 * entries are empty: for them the loop does nothing but the test. */
static enum pt_status recount(unsigned level, pte_t *t, uint64_t base)
{
    enum pt_status st = PT_OK;
    unsigned used = 0;
    for (unsigned i = 0; i < PT_ENTRIES; i++) {
        pte_t e = pte_get(t, i);
        if (!pte_present(e)) {
            used += level == 1 && pte_is_swap(e);
            continue;
        }
        used++;
        uint64_t va = entry_va(base, level, i);
        if (level == PT_LEVELS && (e & PTE_PS))
            st = PT_ERR_PS_AT_L4;
        if (!descends(e, level, va))
            continue;
        table_admit(level - 1, pte_addr(e, level));
        pte_t *child = table_get(level - 1, vaddr(va), pte_addr(e, level));
        enum pt_status cst = recount(level - 1, child, va);
        st = (st == PT_OK) ? cst : st;
    }
    count_set(t, used);
    return st;
}

enum pt_status pt_init(const struct boot_info *bi)
{
    op_begin(PT_OP_OTHER);
    pt_cfg.nx = BOOT_CPU_HAS(bi, CPU_NX);
    pt_cfg.page1g = BOOT_CPU_HAS(bi, CPU_PAGE1GB);
    unsigned bits = bi->phys_addr_bits; /* 0: not reported */
    if (bits == 0 || bits > PTE_PHYS_BITS_MAX)
        bits = PTE_PHYS_BITS_MAX;
    pt_cfg.phys_limit = 1ULL << bits;
    pt_cfg.reserved = strategy_reserved();
    pt_cfg.order = strategy_link_order();
    pt_space_reset(cpu_read_cr3());
    table_admit(PT_LEVELS, pt_kernel_root);
    pte_t *root = table_get(PT_LEVELS, vaddr(0), pt_kernel_root);
    return recount(PT_LEVELS, root, 0);
}

/* ---- pt_visit ---- */

struct visit {
    unsigned lowest;
    pt_visit_fn fn;
    void *ctx;
};

static void visit_table(struct visit *v, unsigned level, pte_t *t, uint64_t base,
                        struct perm perm);

static enum pt_visit_kind visit_kind(pte_t e, unsigned level, uint64_t va)
{
    if (!pte_present(e))
        return level == 1 && pte_is_swap(e) ? PT_VISIT_SWAP : PT_VISIT_NOT_PRESENT;
    if (level == PT_LEVELS && (e & PTE_PS))
        return PT_VISIT_BAD;
    if (pte_is_leaf(e, level))
        return PT_VISIT_LEAF;
    return span_reserved(va, level) ? PT_VISIT_RESERVED : PT_VISIT_TABLE;
}

static void visit_entry(struct visit *v, struct pt_visit_entry *x, struct perm perm)
{
    perm_add(&perm, x->entry);
    x->kind = visit_kind(x->entry, x->level, x->va.va);
    x->phys = pte_addr(x->entry, x->level);
    x->prot = perm_prot(&perm, x->entry);
    if (x->kind != PT_VISIT_TABLE) {
        v->fn(x, v->ctx);
        return;
    }
    pte_t *child = table_get(x->level - 1, x->va, x->phys);
    x->used = count_get(child);
    v->fn(x, v->ctx);
    if (x->level - 1 >= v->lowest)
        visit_table(v, x->level - 1, child, x->va.va, perm);
}

static void visit_table(struct visit *v, unsigned level, pte_t *t, uint64_t base,
                        struct perm perm)
{
    for (unsigned i = 0; i < PT_ENTRIES; i++) {
        pte_t e = pte_get(t, i) & (i == 0 ? ~PT_COUNT_MASK : ~0ULL);
        if (e == 0)
            continue;
        struct pt_visit_entry x = {
            .level = level, .index = i, .va = vaddr(entry_va(base, level, i)),
            .span = span_of(level), .entry = e,
        };
        visit_entry(v, &x, perm);
    }
}

void pt_visit(unsigned lowest_level, pt_visit_fn fn, void *ctx)
{
    struct visit v = { lowest_level < 1 ? 1 : lowest_level, fn, ctx };
    struct perm perm = { true, true, false };
    op_begin(PT_OP_DUMP);
    pte_t *root = table_get(PT_LEVELS, vaddr(0), pt_edit_root);
    visit_table(&v, PT_LEVELS, root, 0, perm);
}
