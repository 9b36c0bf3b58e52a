/*
 * pt_space.c - address spaces (contract in pt.h): create, select,
 * activate, destroy, and the copies of the kernel's upper-half PML4
 * entries kept true in every space. The tables are reached through the
 * strategy like every other table (strategy.h says how each reaches an
 * inactive hierarchy); entries are written by pte_write only.
 */
#include "console.h"
#include "layout.h"
#include "pmm.h"
#include "pt_internal.h"
#include "tlb.h"

#define UPPER_FIRST (PT_ENTRIES / 2)   /* PML4 slot 256: the upper half */
#define SHARED_COUNT (1 + PT_ENTRIES / 2) /* slot 0 and the upper half */

/* The i-th shared slot: 0, then 256 .. 511. */
static unsigned shared_slot(unsigned i) { return i == 0 ? 0 : UPPER_FIRST + i - 1; }

struct pt_space pt_kernel_space;
paddr_t pt_kernel_root, pt_active_root, pt_edit_root;
struct pt_space *pt_spaces;
static const struct pt_space *selected = &pt_kernel_space, *active = &pt_kernel_space;

void pt_space_reset(paddr_t root)
{
    pt_kernel_space.root = root;
    pt_kernel_space.next = NULL;
    pt_kernel_root = pt_active_root = pt_edit_root = root;
    pt_spaces = NULL;
    selected = active = &pt_kernel_space;
    strategy_space_activated(root);
    strategy_space_selected(root);
}

/* The active PML4's shared entries (equal in every PML4), read into buf:
 * the strategy may hold one level-4 table at a time (temporary's slot), so
 * a copy goes through a buffer instead of two tables at once. Entry 0's
 * count bits are the table's own, not the entry's: left out. */
static void kernel_shared(pte_t buf[SHARED_COUNT])
{
    pte_t *k = table_get(PT_LEVELS, vaddr(0), pt_active_root);
    for (unsigned i = 0; i < SHARED_COUNT; i++)
        buf[i] = pte_get(k, shared_slot(i)) & (i == 0 ? ~PT_COUNT_MASK : ~0ULL);
}

/* Writes the shared entries of buf into the PML4 t (pte_write keeps t's
 * own count in entry 0, and counts the entry in or out of it). */
static void shared_write(pte_t *t, const pte_t buf[SHARED_COUNT])
{
    for (unsigned i = 0; i < SHARED_COUNT; i++) {
        unsigned slot = shared_slot(i);
        pte_t old = pte_get(t, slot) & (slot == 0 ? ~PT_COUNT_MASK : ~0ULL);
        if (!strategy_root_entry_shared(slot) || old == buf[i])
            continue;
        enum count_change c = pte_present(old) == pte_present(buf[i]) ? COUNT_KEPT
                              : pte_present(buf[i])                   ? COUNT_ADDED
                                                                      : COUNT_REMOVED;
        pte_write(t, slot, buf[i], c);
    }
}

void pt_root_slot_write(pte_t *pml4, unsigned index, pte_t v)
{
    if (index < UPPER_FIRST || index >= PT_ENTRIES)
        kpanic("pt_root_slot_write: PML4 slot %u is not the strategy's", index);
    pte_write(pml4, index, v, COUNT_KEPT);
}

/* The PML4 of s, selected for the write: a strategy reaches the tables
 * of an inactive space as those of the selected one (strategy.h). */
static void shared_write_to(const struct pt_space *s, const pte_t buf[SHARED_COUNT])
{
    if (s->root.pa == pt_active_root.pa)
        return;
    const struct pt_space *prev = selected;
    pt_space_select(s);
    shared_write(table_get(PT_LEVELS, vaddr(0), s->root), buf);
    pt_space_select(prev);
}

void pt_space_sync(void)
{
    pte_t buf[SHARED_COUNT];
    kernel_shared(buf);
    shared_write_to(&pt_kernel_space, buf);
    for (struct pt_space *s = pt_spaces; s; s = s->next)
        shared_write_to(s, buf);
}

enum pt_status pt_space_create(struct pt_space *as)
{
    op_begin(PT_OP_OTHER);
    paddr_t root;
    if (pmm_alloc(strategy_table_zone(), &root) != PMM_OK)
        return PT_ERR_NO_FRAMES;
    pt_cur->tables_allocated++;
    table_admit(PT_LEVELS, root);
    pte_t buf[SHARED_COUNT];
    kernel_shared(buf);
    /* selected while it is written (strategy.h: how an inactive space is
     * reached); a struct of its own, as `as` is not a live space yet */
    const struct pt_space *prev = selected;
    struct pt_space fresh = { root, NULL };
    pt_space_select(&fresh);
    pte_t *t = table_get(PT_LEVELS, vaddr(0), root);
    for (unsigned i = 0; i < PT_ENTRIES; i++)
        entry_store(t, i, 0);             /* a fresh frame: count 0 included */
    pt_cur->pte_writes += PT_ENTRIES;
    shared_write(t, buf);
    strategy_space_init(t, root);
    pt_space_select(prev);
    as->root = root;
    as->next = pt_spaces;
    pt_spaces = as;
    return PT_OK;
}

void pt_space_select(const struct pt_space *as)
{
    selected = as ? as : &pt_kernel_space;
    pt_edit_root = selected->root;
    strategy_space_selected(pt_edit_root);
}

const struct pt_space *pt_space_selected(void) { return selected; }

void pt_space_activate(const struct pt_space *as)
{
    active = as ? as : &pt_kernel_space;
    if (active->root.pa == pt_active_root.pa)
        return;
    cpu_write_cr3(active->root);
    pt_active_root = active->root;
    strategy_space_activated(active->root);
    strategy_space_selected(pt_edit_root);
}

const struct pt_space *pt_space_active(void) { return active; }

/* ---- destroy ---- */

struct teardown {
    void (*leaf)(vaddr_t va, paddr_t frame, uint64_t size, void *ctx);
    void (*swapped)(vaddr_t va, pte_t entry, void *ctx);
    void *ctx;
};

/* A swap entry of the space being torn down: its slot's reference goes
 * with it, through swapped(); without one the slot would leak, a broken
 * invariant (the caller said the space has none). */
static void teardown_swap(struct teardown *td, vaddr_t va, pte_t e)
{
    if (!td->swapped)
        kpanic("pt_space_destroy: swap entry 0x%lx (slot %u) at 0x%lx, and no swapped()"
               " to drop its slot", e, pte_swap_slot(e), va.va);
    td->swapped(va, e, td->ctx);
}

/* Every table below a level-`level` table t of the space being torn down
 * (the selected one), bottom up: leaves and swap entries reported, tables
 * retired and freed. The strategy holds one table per level, so t stays
 * valid while its children are visited one level down. */
static void teardown_table(struct teardown *td, unsigned level, pte_t *t, uint64_t base,
                           unsigned first, unsigned end)
{
    for (unsigned i = first; i < end; i++) {
        pte_t e = pte_get(t, i) & (i == 0 ? ~PT_COUNT_MASK : ~0ULL);
        if (!pte_present(e)) {
            if (level == 1 && pte_is_swap(e))
                teardown_swap(td, vaddr(entry_va(base, level, i)), e);
            continue;
        }
        vaddr_t va = vaddr(entry_va(base, level, i));
        paddr_t frame = pte_addr(e, level);
        if (pte_is_leaf(e, level)) {
            if (td->leaf)
                td->leaf(va, frame, span_of(level), td->ctx);
            continue;
        }
        teardown_table(td, level - 1, table_get(level - 1, va, frame), va.va, 0, PT_ENTRIES);
        strategy_table_retire(level - 1, va, frame);
        if (pmm_free(strategy_table_zone(), frame) != PMM_OK)
            kpanic("pt_space_destroy: level-%u table 0x%lx was not allocated", level - 1,
                   frame.pa);
        pt_cur->tables_freed++;
    }
}

enum pt_status pt_space_destroy(struct pt_space *as,
                                void (*leaf)(vaddr_t va, paddr_t frame, uint64_t size,
                                             void *ctx),
                                void *ctx)
{
    return pt_space_destroy_swapped(as, leaf, NULL, ctx);
}

enum pt_status pt_space_destroy_swapped(struct pt_space *as,
                                        void (*leaf)(vaddr_t va, paddr_t frame, uint64_t size,
                                                     void *ctx),
                                        void (*swapped)(vaddr_t va, pte_t entry, void *ctx),
                                        void *ctx)
{
    if (as == &pt_kernel_space || as == active || as == selected)
        return PT_ERR_SPACE_IN_USE;
    struct pt_space **p = &pt_spaces;
    while (*p && *p != as)
        p = &(*p)->next;
    if (!*p)
        return PT_ERR_SPACE_IN_USE;       /* not a live space: never created, or gone */
    op_begin(PT_OP_OTHER);
    struct teardown td = { leaf, swapped, ctx };
    const struct pt_space *prev = selected;
    /* The walk reads the space's own slots only (1-255): the others are the
     * kernel's. Selected for the duration, so the strategy reaches it as an
     * edit of the inactive space (rule 6: nothing to invalidate). */
    pt_space_select(as);
    teardown_table(&td, PT_LEVELS, table_get(PT_LEVELS, vaddr(0), as->root), 0, 1, UPPER_FIRST);
    strategy_table_retire(PT_LEVELS, vaddr(0), as->root);
    pt_space_select(prev);
    if (pmm_free(strategy_table_zone(), as->root) != PMM_OK)
        kpanic("pt_space_destroy: PML4 0x%lx was not allocated", as->root.pa);
    pt_cur->tables_freed++;
    *p = as->next;
    as->next = NULL;
    as->root = paddr(0);
    return PT_OK;
}

/* ---- the next leaf ---- */

/* In the level-`level` table t whose first address is base: the first
 * leaf starting at or above from and below limit, among entries [first,
 * end). One table held per level (the strategy's rule), t stays valid
 * while the level below is searched. The limit stops the search where
 * the caller's range ends, instead of reading every empty entry up to
 * the next leaf anywhere (the stack, near the top of the lower half). */
static bool find_leaf(unsigned level, pte_t *t, uint64_t base, uint64_t from, uint64_t limit,
                      unsigned first, unsigned end, struct perm perm, struct pt_leaf *out)
{
    uint64_t span = span_of(level);
    unsigned i = from > base ? (unsigned)((from - base) >> PT_LEVEL_SHIFT(level)) : 0;
    if (i < first)
        i = first;
    for (; i < end; i++) {
        uint64_t va = base + (uint64_t)i * span;
        if (va >= limit)
            return false;
        pte_t e = pte_get(t, i) & (i == 0 ? ~PT_COUNT_MASK : ~0ULL);
        if (!pte_present(e))
            continue;
        struct perm p = perm;
        perm_add(&p, e);
        if (pte_is_leaf(e, level)) {
            if (va < from)
                continue;                 /* straddles from: not "at or above" */
            out->va = vaddr(va);
            out->frame = pte_addr(e, level);
            out->size = span;
            out->prot = perm_prot(&p, e);
            return true;
        }
        pte_t *child = table_get(level - 1, vaddr(va), pte_addr(e, level));
        if (find_leaf(level - 1, child, va, from, limit, 0, PT_ENTRIES, p, out))
            return true;
    }
    return false;
}

enum pt_status pt_space_next_leaf(const struct pt_space *as, vaddr_t from, struct pt_leaf *out)
{
    return pt_space_next_leaf_below(as, from, vaddr(USER_END), out);
}

enum pt_status pt_space_next_leaf_below(const struct pt_space *as, vaddr_t from, vaddr_t limit,
                                        struct pt_leaf *out)
{
    op_begin(PT_OP_OTHER);
    if (from.va >= USER_END || from.va >= limit.va)
        return PT_ERR_UNMAPPED;
    const struct pt_space *prev = selected;
    pt_space_select(as);
    struct perm perm = { true, true, false };
    bool found = find_leaf(PT_LEVELS, table_get(PT_LEVELS, vaddr(0), as->root), 0, from.va,
                           limit.va, 1, UPPER_FIRST, perm, out);
    pt_space_select(prev);
    return found ? PT_OK : PT_ERR_UNMAPPED;
}

/* ---- the next swap entry ---- */

/* find_leaf's search for a swap entry: in the level-`level` table t whose
 * first address is base, the first one at or above from and below limit,
 * among entries [first, end), into *va and *out. Swap entries are level-1
 * entries only (include/pte.h): above, only table entries are followed. */
static bool find_swap(unsigned level, pte_t *t, uint64_t base, uint64_t from, uint64_t limit,
                      unsigned first, unsigned end, vaddr_t *va, pte_t *out)
{
    uint64_t span = span_of(level);
    unsigned i = from > base ? (unsigned)((from - base) >> PT_LEVEL_SHIFT(level)) : 0;
    if (i < first)
        i = first;
    for (; i < end; i++) {
        uint64_t at = base + (uint64_t)i * span;
        if (at >= limit)
            return false;
        pte_t e = pte_get(t, i) & (i == 0 ? ~PT_COUNT_MASK : ~0ULL);
        if (level == 1) {
            if (!pte_is_swap(e) || at < from)
                continue;                 /* from inside its page: not "at or above" */
            *va = vaddr(at);
            *out = e;
            return true;
        }
        if (!pte_present(e) || pte_is_leaf(e, level))
            continue;
        pte_t *child = table_get(level - 1, vaddr(at), pte_addr(e, level));
        if (find_swap(level - 1, child, at, from, limit, 0, PT_ENTRIES, va, out))
            return true;
    }
    return false;
}

enum pt_status pt_space_next_swap_below(const struct pt_space *as, vaddr_t from, vaddr_t limit,
                                        vaddr_t *va, pte_t *e)
{
    op_begin(PT_OP_OTHER);
    if (from.va >= USER_END || from.va >= limit.va)
        return PT_ERR_UNMAPPED;
    const struct pt_space *prev = selected;
    pt_space_select(as);
    bool found = find_swap(PT_LEVELS, table_get(PT_LEVELS, vaddr(0), as->root), 0, from.va,
                           limit.va, 1, UPPER_FIRST, va, e);
    pt_space_select(prev);
    return found ? PT_OK : PT_ERR_UNMAPPED;
}

/* Adds the tables below the level-`level` table t (entries [first, end))
 * to n[level - 1] .. n[1], one level down at a time (the strategy holds
 * one table per level, so t stays valid while its children are read). */
static void count_tables(unsigned level, pte_t *t, uint64_t base, unsigned first, unsigned end,
                         uint64_t n[PT_LEVELS + 1])
{
    for (unsigned i = first; i < end; i++) {
        pte_t e = pte_get(t, i) & (i == 0 ? ~PT_COUNT_MASK : ~0ULL);
        if (!pte_present(e) || pte_is_leaf(e, level))
            continue;
        uint64_t va = base + ((uint64_t)i << PT_LEVEL_SHIFT(level));
        n[level - 1]++;
        count_tables(level - 1, table_get(level - 1, vaddr(va), pte_addr(e, level)), va, 0,
                     PT_ENTRIES, n);
    }
}

void pt_space_tables_by_level(const struct pt_space *as, uint64_t n[PT_LEVELS + 1])
{
    op_begin(PT_OP_OTHER);
    for (unsigned l = 0; l <= PT_LEVELS; l++)
        n[l] = 0;
    n[PT_LEVELS] = 1;
    const struct pt_space *prev = selected;
    pt_space_select(as);
    count_tables(PT_LEVELS, table_get(PT_LEVELS, vaddr(0), as->root), 0, 1, UPPER_FIRST, n);
    pt_space_select(prev);
}

uint64_t pt_space_tables(const struct pt_space *as)
{
    uint64_t n[PT_LEVELS + 1];
    pt_space_tables_by_level(as, n);
    return n[3] + n[2] + n[1];
}
