/*
 * pt.c - the paging core: one walker and every operation built on it
 * (translate, map, unmap, protect, their range versions, the visitor the
 * dumps use). Page-table frames are reached only through strategy.h.
 *
 * THE TLB RULE (Intel SDM Vol. 3A, 4.10.4 "Invalidation of TLBs and
 * Paging-Structure Caches"), followed by every function here and by the
 * strategies:
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
 *
 * Invalidations are collected per operation (struct batch) and executed
 * before any table is freed and before the operation returns.
 *
 * Used-entry counts: every table carries its number of present entries in
 * ignored bits of its entry 0 (PT_COUNT_MASK, pt.h), so "did this table
 * just become empty?" is one read, not a 512-entry scan — unmap of one
 * page stays O(levels) (Redox keeps such a count in unused bits too). The
 * count is read before a table's entries are written and stored once
 * after, so writing entry 0 in between may drop the bits. The cost: every
 * write to entry 0 that must keep them is a read-modify-write, which could
 * lose an Accessed/Dirty bit the CPU sets concurrently (SDM 4.8); pagelab
 * reads neither.
 */
#include <stdbool.h>
#include <stddef.h>

#include "console.h"
#include "../common/debug.h"
#include "layout.h"
#include "pmm.h"
#include "pt.h"
#include "strategy.h"
#include "tlb.h"

/* The hardware bits prot decides; pt_protect replaces exactly these. */
#define PROT_PTE_BITS (PTE_W | PTE_U | PTE_G | PTE_PCD | PTE_PWT | PTE_NX)
/* Tables deferred for freeing before a forced flush (rule 4). */
#define BATCH_TABLES 64

static struct {
    bool nx;              /* EFER.NXE usable: bit 63 means no-execute */
    bool page1g;          /* PS in a PDPT entry allowed */
    uint64_t phys_limit;  /* 1 << MAXPHYADDR */
    struct pt_region reserved;
    enum strategy_link_order order;
} cfg = { .phys_limit = 1ULL << 52, .order = STRATEGY_ZERO_THEN_LINK };

static struct pt_stats stats;
static struct pt_op_stats *cur = &stats.op[PT_OP_OTHER];
/* translate's calls and PTE reads, kept as one increment per call: how
 * many walks ended at each level (0: non-canonical, no walk). pt_stats_get
 * turns them into the usual counters. */
static uint64_t translate_ends[PT_LEVELS + 1];

static void op_begin(enum pt_op op)
{
    cur = &stats.op[op];
    cur->calls++;
}

/* ---- entries and counts ---- */

static pte_t pte_get(const pte_t *t, unsigned i)
{
    cur->pte_reads++;
    return ((const volatile pte_t *)t)[i];
}

/* One 64-bit store: the CPU may walk the table at any time. */
static void pte_set(pte_t *t, unsigned i, pte_t v)
{
    cur->pte_writes++;
    ((volatile pte_t *)t)[i] = v;
}

static unsigned count_get(const pte_t *t)
{
    pte_t e = pte_get(t, 0);
    return (unsigned)(((e >> PT_COUNT_LO_SHIFT) & 0x7F) |
                      (((e >> PT_COUNT_HI_SHIFT) & 0x7) << 7));
}

static void count_set(pte_t *t, unsigned n)
{
    pte_t e = pte_get(t, 0) & ~PT_COUNT_MASK;
    e |= ((pte_t)(n & 0x7F) << PT_COUNT_LO_SHIFT) |
         ((pte_t)(n >> 7) << PT_COUNT_HI_SHIFT);
    pte_set(t, 0, e);
}

static bool pte_present(pte_t e) { return e & PTE_P; }

/* Level-aware: bit 7 is PS at levels 3 and 2, PAT at level 1 (SDM 4.5.4). */
static bool pte_is_leaf(pte_t e, unsigned level)
{
    return level == 1 || ((level == 2 || level == 3) && (e & PTE_PS));
}

/* Frame or table address of a present entry, decoded for its level. */
static paddr_t pte_addr(pte_t e, unsigned level)
{
    if (level == 3 && (e & PTE_PS))
        return paddr(e & PTE_ADDR_MASK_1G);
    if (level == 2 && (e & PTE_PS))
        return paddr(e & PTE_ADDR_MASK_2M);
    return paddr(e & PTE_ADDR_MASK);
}

/* Hardware bits of a leaf for prot: the one place the two vocabularies
 * meet. Without NX, bit 63 is reserved (SDM 4.5.4) and stays clear. */
static pte_t prot_to_pte(uint32_t prot)
{
    pte_t e = PTE_P;
    if (prot & PT_PROT_WRITE)
        e |= PTE_W;
    if (prot & PT_PROT_USER)
        e |= PTE_U;
    if (prot & PT_PROT_GLOBAL)
        e |= PTE_G;
    if (prot & PT_PROT_NOCACHE)
        e |= PTE_PCD | PTE_PWT;
    if (!(prot & PT_PROT_EXEC) && cfg.nx)
        e |= PTE_NX;
    return e;
}

static pte_t leaf_bits(uint32_t prot, unsigned level)
{
    return prot_to_pte(prot) | (level > 1 ? PTE_PS : 0);
}

/* Effective permissions, accumulated from level 4 down (SDM 4.6.1:
 * writable/user need every level, execute-disable from any level). */
struct perm {
    bool w, u, nx;
};

static void perm_add(struct perm *p, pte_t e)
{
    p->w = p->w && (e & PTE_W);
    p->u = p->u && (e & PTE_U);
    p->nx = p->nx || (cfg.nx && (e & PTE_NX));
}

static uint32_t perm_prot(const struct perm *p, pte_t leaf)
{
    uint32_t prot = 0;
    if (p->w)
        prot |= PT_PROT_WRITE;
    if (p->u)
        prot |= PT_PROT_USER;
    if (!p->nx)
        prot |= PT_PROT_EXEC;
    if (leaf & PTE_G)
        prot |= PT_PROT_GLOBAL;
    if (leaf & PTE_PCD)
        prot |= PT_PROT_NOCACHE;
    return prot;
}

/* A frame becomes a table of the hierarchy (pt_init, table_create): the
 * one place strategy_table_get's trust in its frame is earned. */
static void table_admit(unsigned level, paddr_t frame)
{
    if (!strategy_table_reachable(frame))
        kpanic("pt: level-%u table 0x%lx is out of the %s strategy's reach", level, frame.pa,
               strategy_name());
}

static pte_t *table_get(unsigned level, vaddr_t va, paddr_t frame)
{
    cur->table_visits++;
    pte_t *t = strategy_table_get(level, va, frame);
    /* debug builds: the Bochs tour's stop at the first table (strategy.h) */
    PAGELAB_BREAK_ONCE_CALL(strategy_tour_stop, strategy_tour_look, level, va, frame, t);
    return t;
}

static uint64_t span_of(unsigned level) { return PT_LEVEL_SPAN(level); }

static uint64_t align_down(uint64_t x, uint64_t a) { return x & ~(a - 1); }

/* ---- the TLB batch (rules 2-4) ---- */

struct deferred_table {
    paddr_t frame;
    vaddr_t va;      /* an address the table translated */
    unsigned level;  /* the table's level */
};

struct batch {
    unsigned n_va;
    bool full;       /* past the threshold: one full flush */
    vaddr_t va[PT_FLUSH_THRESHOLD];
    unsigned n_tables;
    struct deferred_table tables[BATCH_TABLES];
    const struct pt_frame_source *src; /* where deferred tables go */
};

static void batch_init(struct batch *b, const struct pt_frame_source *src)
{
    b->n_va = 0;
    b->full = false;
    b->n_tables = 0;
    b->src = src;
}

/* Rule 2: va's translation changed or went away. */
static void batch_add_va(struct batch *b, vaddr_t va)
{
    if (b->full)
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
        tlb_flush_all();
        cur->full_flushes++;
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
static void batch_finish(struct batch *b)
{
    batch_flush(b);
    for (unsigned i = 0; i < b->n_tables; i++) {
        struct deferred_table *d = &b->tables[i];
        strategy_table_retire(d->level, d->va, d->frame);
        source_free(b->src, d->frame);
        cur->tables_freed++;
    }
    b->n_tables = 0;
}

/* Rule 4: the table was just unhooked. One pending INVLPG (any address) is
 * enough for the paging-structure caches. */
static void batch_defer_table(struct batch *b, paddr_t frame, vaddr_t va,
                              unsigned level)
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

void pt_invlpg(vaddr_t va)
{
    tlb_invlpg(va);
    cur->invlpgs++;
}

void pt_invlpg_translate(vaddr_t va)
{
    tlb_invlpg(va);
    stats.op[PT_OP_TRANSLATE].invlpgs++;
}

/* ---- the walker ---- */

struct walk {
    vaddr_t va;
    unsigned level;                 /* level of `entry` */
    pte_t entry;                    /* tables[level][index of va] */
    pte_t *tables[PT_LEVELS + 1];   /* held: levels PT_LEVELS .. level */
    paddr_t frames[PT_LEVELS + 1];
};

static void walk_start(struct walk *w, vaddr_t va)
{
    w->va = va;
    w->level = PT_LEVELS;
    w->frames[PT_LEVELS] = cpu_read_cr3();
    w->tables[PT_LEVELS] = table_get(PT_LEVELS, va, w->frames[PT_LEVELS]);
    w->entry = pte_get(w->tables[PT_LEVELS], PT_INDEX(va.va, PT_LEVELS));
}

/* Steps into the table w->entry points to (present, not a leaf). */
static void walk_step(struct walk *w)
{
    unsigned l = w->level - 1;
    w->frames[l] = pte_addr(w->entry, w->level);
    w->tables[l] = table_get(l, w->va, w->frames[l]);
    w->entry = pte_get(w->tables[l], PT_INDEX(w->va.va, l));
    w->level = l;
}

/*
 * Walks va's path down to level `stop`. PT_OK: w->entry is the stop-level
 * entry (present or not, leaf or table). PT_ERR_UNMAPPED: a non-present
 * entry above stop; PT_ERR_HUGE_IN_WAY: a leaf above stop;
 * PT_ERR_PS_AT_L4. w->level/entry say where.
 */
static enum pt_status walk_down(struct walk *w, vaddr_t va, unsigned stop)
{
    walk_start(w, va);
    for (;;) {
        if (w->level == PT_LEVELS && (w->entry & PTE_PS) && pte_present(w->entry))
            return PT_ERR_PS_AT_L4;
        if (w->level == stop)
            return PT_OK;
        if (!pte_present(w->entry))
            return PT_ERR_UNMAPPED;
        if (pte_is_leaf(w->entry, w->level))
            return PT_ERR_HUGE_IN_WAY;
        walk_step(w);
    }
}

static pte_t *walk_table(struct walk *w) { return w->tables[w->level]; }
static unsigned walk_index(struct walk *w) { return PT_INDEX(w->va.va, w->level); }

/* ---- argument checks ---- */

static enum pt_status size_level(uint64_t size, unsigned *level)
{
    if (size == PAGE_SIZE)
        *level = 1;
    else if (size == PAGE_SIZE_2M)
        *level = 2;
    else if (size == PAGE_SIZE_1G && cfg.page1g)
        *level = 3;
    else
        return PT_ERR_BAD_SIZE;
    return PT_OK;
}

/* [va, va + len) canonical, in one half, not wrapping, clear of the
 * strategy's range. */
static enum pt_status check_range(vaddr_t va, uint64_t len)
{
    uint64_t last = va.va + len - 1;
    if (len == 0 || last < va.va)
        return PT_ERR_BAD_RANGE;
    if (!va_is_canonical(va.va) || !va_is_canonical(last) || (va.va >> 47) != (last >> 47))
        return PT_ERR_NONCANONICAL;
    uint64_t rb = cfg.reserved.base.va, rlast = rb + cfg.reserved.size - 1;
    if (cfg.reserved.size && va.va <= rlast && rb <= last)
        return PT_ERR_RESERVED_RANGE;
    return PT_OK;
}

/* The first failing check wins, in this order: prot, canonical va,
 * alignment of va/pa/len, the range, the physical width. */
static enum pt_status check_map_args(vaddr_t va, paddr_t pa, uint64_t len,
                                     uint64_t align, uint32_t prot)
{
    if (prot & ~PT_PROT_ALL)
        return PT_ERR_BAD_PROT;
    if (!va_is_canonical(va.va))
        return PT_ERR_NONCANONICAL;
    if ((va.va | pa.pa | len) & (align - 1))
        return PT_ERR_MISALIGNED;
    enum pt_status st = check_range(va, len);
    if (st != PT_OK)
        return st;
    if (pa.pa + len - 1 < pa.pa || pa.pa + len - 1 >= cfg.phys_limit)
        return PT_ERR_BAD_PHYS;
    return PT_OK;
}

/* ---- table creation (the link order of strategy.h) ---- */

static void table_zero(pte_t *t)
{
    for (unsigned i = 0; i < PT_ENTRIES; i++)
        ((volatile pte_t *)t)[i] = 0;
    cur->pte_writes += PT_ENTRIES;
}

static enum pt_status source_alloc(const struct pt_frame_source *src, paddr_t *out)
{
    enum pt_status st = PT_ERR_NO_FRAMES;
    if (src)
        st = src->alloc(src->ctx, out);
    else if (pmm_alloc(strategy_table_zone(), out) == PMM_OK)
        st = PT_OK;
    if (st == PT_OK)
        cur->tables_allocated++;
    return st;
}

/*
 * Makes a zeroed level-(level - 1) table and links it at parent[index]
 * with P|W (|U for a user leaf below). Returns the held child pointer in
 * *child. Does not update the parent's count. LINK_THEN_ZERO marks the
 * batch full (rule 5).
 */
static enum pt_status table_create(pte_t *parent, unsigned level, vaddr_t va,
                                   pte_t link_u, const struct pt_frame_source *src,
                                   struct batch *b, pte_t **child, paddr_t *frame)
{
    enum pt_status st = source_alloc(src, frame);
    if (st != PT_OK)
        return PT_ERR_NO_FRAMES;
    table_admit(level - 1, *frame);
    pte_t link = frame->pa | PTE_TABLE_LINK | link_u;
    if (cfg.order == STRATEGY_ZERO_THEN_LINK) {
        *child = table_get(level - 1, va, *frame);
        table_zero(*child);
        pte_set(parent, PT_INDEX(va.va, level), link);
        return PT_OK;
    }
    pte_set(parent, PT_INDEX(va.va, level), link);
    *child = table_get(level - 1, va, *frame);
    table_zero(*child);
    b->full = true;
    return PT_OK;
}

/* ---- translate ---- */

/*
 * translate is the hot read path (the benchmark's target is 60
 * instructions for a 4 KiB page), so it does not use struct walk: it keeps
 * no table pointers (nothing is unlinked or pruned), holds one table at a
 * time, records each entry in out->path (one store; permissions are folded
 * from the path only when pt_tr_prot asks), and is written out level by
 * level so that each way out knows its level at compile time (a loop, even
 * unrolled, had its four ends merged into one with a variable shift).
 */

/* The entry for va in the level-`level` table at frame, recorded in the
 * path. One aligned 64-bit load: what the CPU's walk reads. */
static inline __attribute__((always_inline)) pte_t
tr_read(struct pt_translation *out, unsigned level, vaddr_t va, paddr_t frame)
{
    const pte_t *p = strategy_entry_get(level, va, frame);
    pte_t e = *p;
    out->path[level] = e;
    return e;
}

/*
 * Go down when the entry is present and not a leaf: P = 1 and PS = 0, i.e.
 * (e & (P|PS)) == P. Tested as ((e - 1) & (P|PS)) == 0: when P = 1, e - 1
 * only clears bit 0 and leaves PS as it was; when P = 0 the subtraction
 * borrows and sets bit 0. One test instead of two. Bit 7 is PS at levels 3
 * and 2 (a PS at level 4 is reserved and reported) but PAT at level 1,
 * which is never asked (SDM Vol. 3A 4.5.4, tables 4-15 to 4-20).
 */
static inline bool tr_descend(pte_t e)
{
    return !((e - 1) & (PTE_P | PTE_PS));
}

/* The walk ended at `level` (a constant at each call site). */
static inline __attribute__((always_inline)) enum pt_status
tr_end(struct pt_translation *out, vaddr_t va, pte_t e, unsigned level)
{
    out->level = level;
    translate_ends[level]++;
    if (!(e & PTE_P))
        return PT_ERR_UNMAPPED;
    if (level == PT_LEVELS)
        return PT_ERR_PS_AT_L4;
    uint64_t off = PT_LEVEL_SPAN(level) - 1;
    out->pa = paddr((e & PTE_ADDR_MASK & ~off) | (va.va & off));
    return PT_OK;
}

/* Tail merging would fold the four ends back into one (see above). The
 * early ends (unmapped above level 1, huge pages) are marked unlikely so
 * that the 4 KiB walk runs straight through without a taken branch. */
__attribute__((optimize("no-tree-tail-merge", "no-crossjumping", "no-tree-sink")))
enum pt_status pt_translate(vaddr_t va, struct pt_translation *out)
{
    out->va = va;
    if (!va_is_canonical(va.va)) {
        translate_ends[0]++;
        return PT_ERR_NONCANONICAL;
    }
    pte_t e = tr_read(out, 4, va, cpu_read_cr3());
    if (__builtin_expect(!tr_descend(e), 0))
        return tr_end(out, va, e, 4);
    e = tr_read(out, 3, va, paddr(e & PTE_ADDR_MASK));
    if (__builtin_expect(!tr_descend(e), 0))
        return tr_end(out, va, e, 3);
    e = tr_read(out, 2, va, paddr(e & PTE_ADDR_MASK));
    if (__builtin_expect(!tr_descend(e), 0))
        return tr_end(out, va, e, 2);
    e = tr_read(out, 1, va, paddr(e & PTE_ADDR_MASK));
    return tr_end(out, va, e, 1);
}

/* The same rule as the dumps (perm_add), folded over the recorded path. */
uint32_t pt_tr_prot(const struct pt_translation *t)
{
    struct perm perm = { true, true, false };
    for (unsigned level = PT_LEVELS; level >= t->level && level >= 1; level--)
        perm_add(&perm, t->path[level]);
    return perm_prot(&perm, t->path[t->level]);
}

/* ---- map, unmap, protect one page ---- */

/* Clears t[i] and keeps the count; returns the table's new count. */
static unsigned entry_clear(pte_t *t, unsigned i)
{
    unsigned n = count_get(t) - 1;
    pte_set(t, i, 0);
    count_set(t, n);
    return n;
}

/* Adds U to the table entries above level `below` on w's path that lack
 * it. Returns true if any changed (rule 2: the caller invalidates). */
static bool widen_user(struct walk *w, unsigned below)
{
    bool changed = false;
    for (unsigned l = PT_LEVELS; l > below; l--) {
        unsigned i = PT_INDEX(w->va.va, l);
        pte_t e = pte_get(w->tables[l], i);
        if (!(e & PTE_U)) {
            pte_set(w->tables[l], i, e | PTE_U);
            changed = true;
        }
    }
    return changed;
}

/* Makes a zeroed table below w's entry and steps into it. */
static enum pt_status walk_grow(struct walk *w, pte_t link_u,
                                const struct pt_frame_source *src, struct batch *b)
{
    pte_t *parent = walk_table(w), *child;
    paddr_t frame;
    unsigned n = count_get(parent);
    enum pt_status st = table_create(parent, w->level, w->va, link_u, src, b,
                                     &child, &frame);
    if (st != PT_OK)
        return st;
    count_set(parent, n + 1);
    w->level--;
    w->tables[w->level] = child;
    w->frames[w->level] = frame;
    w->entry = 0; /* fresh table: every entry is zero */
    return PT_OK;
}

/* Descends from w's level to `leaf`, creating missing tables; *made_top
 * is the level of the highest table made (0: none). */
static enum pt_status walk_create(struct walk *w, unsigned leaf, pte_t link_u,
                                  const struct pt_frame_source *src,
                                  struct batch *b, unsigned *made_top)
{
    *made_top = 0;
    while (w->level > leaf) {
        if (!pte_present(w->entry)) {
            enum pt_status st = walk_grow(w, link_u, src, b);
            if (st != PT_OK)
                return st;
            if (*made_top == 0)
                *made_top = w->level;
            continue;
        }
        if (w->level == PT_LEVELS && (w->entry & PTE_PS))
            return PT_ERR_PS_AT_L4;
        if (pte_is_leaf(w->entry, w->level))
            return PT_ERR_HUGE_IN_WAY;
        walk_step(w);
    }
    return PT_OK;
}

/* Undoes walk_create: unhooking the highest new table cuts the whole new
 * chain off; all of it is freed after the invalidation (rule 4). */
static void walk_uncreate(struct walk *w, unsigned made_top, struct batch *b)
{
    entry_clear(w->tables[made_top + 1], PT_INDEX(w->va.va, made_top + 1));
    for (unsigned l = made_top; l >= w->level; l--)
        batch_defer_table(b, w->frames[l], w->va, l);
}

/* Writes the new leaf at w's entry (rule 1: no flush, unless U had to be
 * added above it). */
static enum pt_status leaf_install(struct walk *w, paddr_t pa, uint32_t prot,
                                   struct batch *b)
{
    if (pte_present(w->entry))
        return (w->level > 1 && !(w->entry & PTE_PS)) ? PT_ERR_TABLE_IN_WAY
                                                      : PT_ERR_ALREADY_MAPPED;
    pte_t *t = walk_table(w);
    unsigned n = count_get(t);
    pte_set(t, walk_index(w), pa.pa | leaf_bits(prot, w->level));
    count_set(t, n + 1);
    if ((prot & PT_PROT_USER) && widen_user(w, w->level))
        batch_add_va(b, w->va);
    return PT_OK;
}

enum pt_status pt_map(vaddr_t va, paddr_t pa, uint64_t size, uint32_t prot,
                      const struct pt_frame_source *src)
{
    unsigned leaf, made_top;
    struct walk w;
    struct batch b;
    op_begin(PT_OP_MAP);
    enum pt_status st = size_level(size, &leaf);
    if (st == PT_OK)
        st = check_map_args(va, pa, size, size, prot);
    if (st != PT_OK)
        return st;
    batch_init(&b, src);
    walk_start(&w, va);
    st = walk_create(&w, leaf, (prot & PT_PROT_USER) ? PTE_U : 0, src, &b, &made_top);
    if (st == PT_OK)
        st = leaf_install(&w, pa, prot, &b);
    if (st != PT_OK && made_top)
        walk_uncreate(&w, made_top, &b);
    batch_finish(&b);
    return st;
}

/* Frees the tables on w's path that the removal emptied, bottom up. */
static void walk_prune(struct walk *w, unsigned left, struct batch *b)
{
    for (unsigned l = w->level; left == 0 && l < PT_LEVELS; l++) {
        left = entry_clear(w->tables[l + 1], PT_INDEX(w->va.va, l + 1));
        batch_defer_table(b, w->frames[l], w->va, l);
    }
}

static enum pt_status leaf_remove(struct walk *w, paddr_t *frame, uint64_t *size,
                                  struct batch *b)
{
    uint64_t span = span_of(w->level);
    if (w->va.va & (span - 1))
        return PT_ERR_MISALIGNED;
    if (frame)
        *frame = pte_addr(w->entry, w->level);
    if (size)
        *size = span;
    unsigned left = entry_clear(walk_table(w), walk_index(w));
    batch_add_va(b, w->va);
    walk_prune(w, left, b);
    return PT_OK;
}

enum pt_status pt_unmap(vaddr_t va, paddr_t *frame, uint64_t *size)
{
    struct walk w;
    struct batch b;
    op_begin(PT_OP_UNMAP);
    enum pt_status st = check_range(va, PAGE_SIZE);
    if (st != PT_OK)
        return st;
    batch_init(&b, NULL);
    st = walk_down(&w, va, 1);
    if (st == PT_ERR_HUGE_IN_WAY || (st == PT_OK && pte_present(w.entry)))
        st = leaf_remove(&w, frame, size, &b);
    else if (st == PT_OK)
        st = PT_ERR_UNMAPPED;
    batch_finish(&b);
    return st;
}

/* New leaf value: prot's bits replace PROT_PTE_BITS, the rest (address,
 * PS, PAT, A, D, bookkeeping) stays. */
static pte_t leaf_reprot(pte_t e, pte_t bits)
{
    return (e & ~PROT_PTE_BITS) | (bits & PROT_PTE_BITS);
}

static void leaf_protect(struct walk *w, uint32_t prot, struct batch *b)
{
    pte_t v = leaf_reprot(w->entry, prot_to_pte(prot));
    bool changed = v != w->entry;
    if (changed)
        pte_set(walk_table(w), walk_index(w), v);
    if ((prot & PT_PROT_USER) && widen_user(w, w->level))
        changed = true;
    if (changed)
        batch_add_va(b, w->va); /* rule 2 */
}

/* Is w's stop-level entry a present leaf of exactly that level? The check
 * the x86_64 crate's update_flags lacks. */
static enum pt_status leaf_of_size(struct walk *w, enum pt_status st)
{
    if (st == PT_ERR_HUGE_IN_WAY)
        return PT_ERR_NOT_LEAF_OF_SIZE; /* mapped by a bigger page */
    if (st != PT_OK)
        return st;
    if (!pte_present(w->entry))
        return PT_ERR_UNMAPPED;
    return pte_is_leaf(w->entry, w->level) ? PT_OK : PT_ERR_NOT_LEAF_OF_SIZE;
}

enum pt_status pt_protect(vaddr_t va, uint64_t size, uint32_t prot)
{
    unsigned leaf;
    struct walk w;
    struct batch b;
    op_begin(PT_OP_PROTECT);
    enum pt_status st = size_level(size, &leaf);
    if (st == PT_OK && (prot & ~PT_PROT_ALL))
        st = PT_ERR_BAD_PROT;
    if (st == PT_OK)
        st = check_range(va, size);
    if (st == PT_OK && (va.va & (size - 1)))
        st = PT_ERR_MISALIGNED;
    if (st != PT_OK)
        return st;
    batch_init(&b, NULL);
    st = leaf_of_size(&w, walk_down(&w, va, leaf));
    if (st == PT_OK)
        leaf_protect(&w, prot, &b);
    batch_finish(&b);
    return st;
}

/* ---- ranges: each table fetched once, its entries handled in one loop ---- */

enum range_kind { RANGE_MAP, RANGE_UNMAP, RANGE_PROTECT };

struct range {
    enum range_kind kind;
    vaddr_t va;         /* next address to handle */
    uint64_t left;      /* bytes left */
    paddr_t pa;         /* RANGE_MAP: where va goes */
    uint32_t prot;
    pte_t bits;         /* prot_to_pte(prot) */
    pte_t link_u;       /* PTE_U if user: new and existing table entries get it */
    uint32_t opts;
    const struct pt_frame_source *src;
    struct batch *b;
    enum pt_status st;
};

/* Bytes from r->va to the end of its level-`level` entry, capped by left. */
static uint64_t range_step(const struct range *r, unsigned level)
{
    uint64_t span = span_of(level), n = span - (r->va.va & (span - 1));
    return n < r->left ? n : r->left;
}

static void range_advance(struct range *r, uint64_t n)
{
    r->va.va += n;
    r->pa.pa += n;
    r->left -= n;
}

static unsigned map_entries(struct range *r, unsigned level, pte_t *t);

/* The 4 KiB inner loop: consecutive entries of one table, written
 * directly; stats added once. Returns the new count. */
static unsigned map_4k(struct range *r, pte_t *t, unsigned used)
{
    unsigned i = PT_INDEX(r->va.va, 1), n = PT_ENTRIES - i, k = 0;
    if ((uint64_t)n > r->left / PAGE_SIZE)
        n = (unsigned)(r->left / PAGE_SIZE);
    volatile pte_t *e = (volatile pte_t *)t + i;
    pte_t v = r->pa.pa | leaf_bits(r->prot, 1);
    for (; k < n && !(e[k] & PTE_P); k++, v += PAGE_SIZE)
        e[k] = v;
    cur->pte_reads += k + (k < n);
    cur->pte_writes += k;
    range_advance(r, (uint64_t)k * PAGE_SIZE);
    if (k < n)
        r->st = PT_ERR_ALREADY_MAPPED;
    return used + k;
}

static bool huge_fits(const struct range *r, unsigned level)
{
    if (!(r->opts & PT_RANGE_ALLOW_HUGE) || level > 3 || (level == 3 && !cfg.page1g))
        return false;
    uint64_t span = span_of(level);
    return ((r->va.va | r->pa.pa) & (span - 1)) == 0 && r->left >= span;
}

/* Descends into the existing table at t[i] (adding U for a user range). */
static void map_into(struct range *r, unsigned level, pte_t *t, unsigned i, pte_t e)
{
    if (r->link_u && !(e & PTE_U)) {
        pte_set(t, i, e | PTE_U);
        batch_add_va(r->b, r->va); /* rule 2 */
    }
    pte_t *child = table_get(level - 1, r->va, pte_addr(e, level));
    map_entries(r, level - 1, child);
}

/* Makes a table at t[i] and fills it; returns 1 if it stays linked. A new
 * table the failure left empty is taken out again at once (rule 4). */
static unsigned map_into_new(struct range *r, unsigned level, pte_t *t, unsigned i)
{
    pte_t *child;
    paddr_t frame;
    vaddr_t at = r->va;
    r->st = table_create(t, level, at, r->link_u, r->src, r->b, &child, &frame);
    if (r->st != PT_OK)
        return 0;
    unsigned used = map_entries(r, level - 1, child);
    if (used > 0)
        return 1;
    pte_set(t, i, 0);
    batch_defer_table(r->b, frame, at, level - 1);
    return 0;
}

/* One entry of a level >= 2 table; returns how many entries it added. */
static unsigned map_entry(struct range *r, unsigned level, pte_t *t, unsigned i)
{
    pte_t e = pte_get(t, i);
    if (!pte_present(e) && huge_fits(r, level)) {
        pte_set(t, i, r->pa.pa | leaf_bits(r->prot, level));
        range_advance(r, span_of(level));
        return 1;
    }
    if (!pte_present(e))
        return map_into_new(r, level, t, i);
    if (level == PT_LEVELS && (e & PTE_PS))
        r->st = PT_ERR_PS_AT_L4;
    else if (pte_is_leaf(e, level))
        r->st = huge_fits(r, level) ? PT_ERR_ALREADY_MAPPED : PT_ERR_HUGE_IN_WAY;
    else
        map_into(r, level, t, i, e);
    return 0;
}

/* Maps from r->va on in table t until the range or the table ends, or an
 * error; stores the table's count once. Returns the count. */
static unsigned map_entries(struct range *r, unsigned level, pte_t *t)
{
    unsigned used = count_get(t), before = used;
    if (level == 1)
        used = map_4k(r, t, used);
    for (unsigned i = PT_INDEX(r->va.va, level);
         level > 1 && r->left && r->st == PT_OK && i < PT_ENTRIES; i++)
        used += map_entry(r, level, t, i);
    if (used != before)
        count_set(t, used);
    return used;
}

static unsigned edit_entries(struct range *r, unsigned level, pte_t *t);

/* A present leaf inside the range: remove or re-protect it. Returns 1 if
 * it was removed. */
static unsigned edit_leaf(struct range *r, pte_t *t, unsigned i, pte_t e)
{
    pte_t v = r->kind == RANGE_UNMAP ? 0 : leaf_reprot(e, r->bits);
    if (v != e) {
        pte_set(t, i, v);
        batch_add_va(r->b, r->va); /* rule 2 */
    }
    return r->kind == RANGE_UNMAP;
}

/* A present table entry: descend; after an unmap, unhook the child if it
 * emptied (rule 4). Returns 1 if it was unhooked. */
static unsigned edit_table(struct range *r, unsigned level, pte_t *t, unsigned i,
                           pte_t e)
{
    vaddr_t at = r->va;
    paddr_t frame = pte_addr(e, level);
    if (r->kind == RANGE_PROTECT && r->link_u && !(e & PTE_U)) {
        pte_set(t, i, e | PTE_U);
        batch_add_va(r->b, at); /* rule 2 */
    }
    pte_t *child = table_get(level - 1, at, frame);
    unsigned left = edit_entries(r, level - 1, child);
    if (r->kind != RANGE_UNMAP || left > 0)
        return 0;
    pte_set(t, i, 0);
    batch_defer_table(r->b, frame, at, level - 1);
    return 1;
}

/* Unmap or protect from r->va on in table t; holes (and a PS PML4 entry,
 * which pagelab never makes) are stepped over. Returns the new count. */
static unsigned edit_entries(struct range *r, unsigned level, pte_t *t)
{
    unsigned used = count_get(t), before = used;
    for (unsigned i = PT_INDEX(r->va.va, level); r->left && i < PT_ENTRIES; i++) {
        pte_t e = pte_get(t, i);
        uint64_t step = range_step(r, level);
        if (!pte_present(e) || (level == PT_LEVELS && (e & PTE_PS))) {
            range_advance(r, step);
        } else if (pte_is_leaf(e, level)) {
            used -= edit_leaf(r, t, i, e);
            range_advance(r, step);
        } else {
            used -= edit_table(r, level, t, i, e);
        }
    }
    if (used != before)
        count_set(t, used);
    return used;
}

static void range_run(struct range *r)
{
    pte_t *root = table_get(PT_LEVELS, r->va, cpu_read_cr3());
    if (r->kind == RANGE_MAP)
        map_entries(r, PT_LEVELS, root);
    else
        edit_entries(r, PT_LEVELS, root);
}

static void range_edit(vaddr_t va, uint64_t len, enum range_kind kind,
                       uint32_t prot, struct batch *b)
{
    struct range r = {
        .kind = kind, .va = va, .left = len, .prot = prot,
        .bits = prot_to_pte(prot), .link_u = (prot & PT_PROT_USER) ? PTE_U : 0,
        .b = b, .st = PT_OK,
    };
    range_run(&r);
}

enum pt_status pt_map_range(vaddr_t va, paddr_t pa, uint64_t len, uint32_t prot,
                            uint32_t opts, const struct pt_frame_source *src)
{
    struct batch b;
    op_begin(PT_OP_MAP_RANGE);
    enum pt_status st = check_map_args(va, pa, len, PAGE_SIZE, prot);
    if (st == PT_OK && (opts & ~PT_RANGE_ALLOW_HUGE))
        st = PT_ERR_BAD_PROT;
    if (st != PT_OK)
        return st;
    batch_init(&b, src);
    struct range r = {
        .kind = RANGE_MAP, .va = va, .left = len, .pa = pa, .prot = prot,
        .bits = prot_to_pte(prot), .link_u = (prot & PT_PROT_USER) ? PTE_U : 0,
        .opts = opts, .src = src, .b = &b, .st = PT_OK,
    };
    range_run(&r);
    if (r.st != PT_OK && r.va.va != va.va)
        range_edit(va, r.va.va - va.va, RANGE_UNMAP, 0, &b); /* roll back */
    batch_finish(&b);
    return r.st;
}

/* A huge leaf holding `at` must lie inside [first, last]: pagelab does not
 * split huge pages. Checked before any change. */
static enum pt_status check_edge(vaddr_t at, uint64_t first, uint64_t last)
{
    struct walk w;
    enum pt_status st = walk_down(&w, at, 1);
    if (st == PT_ERR_PS_AT_L4)
        return st;
    if (st != PT_ERR_HUGE_IN_WAY)
        return PT_OK;
    uint64_t span = span_of(w.level), start = align_down(at.va, span);
    return (start < first || start + (span - 1) > last) ? PT_ERR_HUGE_IN_WAY : PT_OK;
}

static enum pt_status check_edit_args(vaddr_t va, uint64_t len)
{
    enum pt_status st = check_range(va, len);
    if (st == PT_OK && ((va.va | len) & (PAGE_SIZE - 1)))
        st = PT_ERR_MISALIGNED;
    uint64_t last = va.va + len - 1;
    if (st == PT_OK)
        st = check_edge(va, va.va, last);
    if (st == PT_OK)
        st = check_edge(vaddr(last), va.va, last);
    return st;
}

enum pt_status pt_unmap_range(vaddr_t va, uint64_t len)
{
    struct batch b;
    op_begin(PT_OP_UNMAP_RANGE);
    enum pt_status st = check_edit_args(va, len);
    if (st != PT_OK)
        return st;
    batch_init(&b, NULL);
    range_edit(va, len, RANGE_UNMAP, 0, &b);
    batch_finish(&b);
    return PT_OK;
}

enum pt_status pt_protect_range(vaddr_t va, uint64_t len, uint32_t prot)
{
    struct batch b;
    op_begin(PT_OP_PROTECT_RANGE);
    if (prot & ~PT_PROT_ALL)
        return PT_ERR_BAD_PROT;
    enum pt_status st = check_edit_args(va, len);
    if (st != PT_OK)
        return st;
    batch_init(&b, NULL);
    range_edit(va, len, RANGE_PROTECT, prot, &b);
    batch_finish(&b);
    return PT_OK;
}

/* ---- whole-hierarchy walks: counts at init, the visitor ---- */

static uint64_t entry_va(uint64_t base, unsigned level, unsigned i)
{
    return va_canonicalize(base | ((uint64_t)i << PT_LEVEL_SHIFT(level)));
}

/* The entry's whole span lies in the strategy's range. */
static bool span_reserved(uint64_t va, unsigned level)
{
    uint64_t rb = cfg.reserved.base.va;
    return cfg.reserved.size && va >= rb &&
           va + (span_of(level) - 1) <= rb + (cfg.reserved.size - 1);
}

static bool descends(pte_t e, unsigned level, uint64_t va)
{
    return pte_present(e) && level > 1 && !pte_is_leaf(e, level) &&
           !(level == PT_LEVELS && (e & PTE_PS)) && !span_reserved(va, level);
}

/* Writes every table's count, children first. */
static enum pt_status recount(unsigned level, pte_t *t, uint64_t base)
{
    enum pt_status st = PT_OK;
    unsigned used = 0;
    for (unsigned i = 0; i < PT_ENTRIES; i++) {
        pte_t e = pte_get(t, i);
        uint64_t va = entry_va(base, level, i);
        used += pte_present(e);
        if (level == PT_LEVELS && pte_present(e) && (e & PTE_PS))
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
    cfg.nx = bi->cpu_features & (1u << CPU_NX);
    cfg.page1g = bi->cpu_features & (1u << CPU_PAGE1GB);
    unsigned bits = bi->phys_addr_bits;
    cfg.phys_limit = 1ULL << ((bits == 0 || bits > 52) ? 52 : bits);
    cfg.reserved = strategy_reserved();
    cfg.order = strategy_link_order();
    vaddr_t any = vaddr(0);
    table_admit(PT_LEVELS, cpu_read_cr3());
    pte_t *root = table_get(PT_LEVELS, any, cpu_read_cr3());
    enum pt_status st = recount(PT_LEVELS, root, 0);
    return st;
}

enum pt_status pt_drop_window(const struct boot_info *bi)
{
    /* A window above 512 GiB spans several PML4 slots (stage2/paging.c). */
    uint64_t slots = (bi->phys_window_size + PT_LEVEL_SPAN(PT_LEVELS) - 1) / PT_LEVEL_SPAN(PT_LEVELS);
    op_begin(PT_OP_OTHER);
    vaddr_t va = vaddr(entry_va(0, PT_LEVELS, PHYS_WINDOW_PML4_INDEX));
    pte_t *t = table_get(PT_LEVELS, va, cpu_read_cr3());
    for (unsigned index = PHYS_WINDOW_PML4_INDEX; index < PHYS_WINDOW_PML4_INDEX + slots; index++)
        pte_set(t, index, pte_get(t, index) & PT_COUNT_MASK); /* keep bookkeeping */
    tlb_flush_all(); /* rule 3; and rule 4: before the frames go back */
    cur->full_flushes++;
    if (pmm_release_loader_ranges(bi, LOADER_RANGE_WINDOW_TABLES) != PMM_OK)
        return PT_ERR_BOOT_INFO;
    return PT_OK;
}

int pt_table_used(unsigned level, vaddr_t va)
{
    struct walk w;
    if (level < 1 || level > PT_LEVELS || !va_is_canonical(va.va))
        return -1;
    op_begin(PT_OP_OTHER);
    enum pt_status st = walk_down(&w, va, level);
    int n = (st == PT_OK) ? (int)count_get(walk_table(&w)) : -1;
    return n;
}

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
        return PT_VISIT_NOT_PRESENT;
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
    pte_t *root = table_get(PT_LEVELS, vaddr(0), cpu_read_cr3());
    visit_table(&v, PT_LEVELS, root, 0, perm);
}

/* ---- frame sources, counters, names ---- */

static enum pt_status no_frames_alloc(void *ctx, paddr_t *out)
{
    (void)ctx;
    (void)out;
    return PT_ERR_NO_FRAMES;
}

static void no_frames_free(void *ctx, paddr_t frame)
{
    (void)ctx;
    kpanic("no_frames_free: frame 0x%lx was never handed out", frame.pa);
}

const struct pt_frame_source pt_no_frames = { no_frames_alloc, no_frames_free, NULL };

void pt_stats_get(struct pt_stats *out)
{
    *out = stats;
    /* translate counts where each walk ended (tr_end); a walk that ended
     * at level L read 5 - L entries; ends[0] are non-canonical calls */
    struct pt_op_stats *t = &out->op[PT_OP_TRANSLATE];
    for (unsigned level = 0; level <= PT_LEVELS; level++) {
        t->calls += translate_ends[level];
        if (level)
            t->pte_reads += translate_ends[level] * (PT_LEVELS + 1 - level);
    }
}

void pt_stats_reset(void)
{
    struct pt_stats zero = { { { 0 } } };
    stats = zero;
    for (unsigned level = 0; level <= PT_LEVELS; level++)
        translate_ends[level] = 0;
}

const char *pt_status_name(enum pt_status status)
{
    static const char *const names[PT_STATUS_COUNT] = {
        [PT_OK] = "ok",
        [PT_ERR_NONCANONICAL] = "non-canonical",
        [PT_ERR_UNMAPPED] = "unmapped",
        [PT_ERR_ALREADY_MAPPED] = "already mapped",
        [PT_ERR_HUGE_IN_WAY] = "huge page in the way",
        [PT_ERR_TABLE_IN_WAY] = "table in the way",
        [PT_ERR_NO_FRAMES] = "out of frames",
        [PT_ERR_MISALIGNED] = "misaligned",
        [PT_ERR_NOT_LEAF_OF_SIZE] = "not a leaf of that size",
        [PT_ERR_BAD_SIZE] = "bad page size",
        [PT_ERR_BAD_PROT] = "bad prot or opts",
        [PT_ERR_BAD_PHYS] = "physical address too wide",
        [PT_ERR_BAD_RANGE] = "bad range",
        [PT_ERR_RESERVED_RANGE] = "strategy's reserved range",
        [PT_ERR_PS_AT_L4] = "PS set in a PML4 entry",
        [PT_ERR_BOOT_INFO] = "boot info unusable",
    };
    return (unsigned)status < PT_STATUS_COUNT ? names[status] : "unknown";
}

const char *pt_op_name(enum pt_op op)
{
    static const char *const names[PT_OP_COUNT] = {
        [PT_OP_TRANSLATE] = "translate",
        [PT_OP_MAP] = "map",
        [PT_OP_UNMAP] = "unmap",
        [PT_OP_PROTECT] = "protect",
        [PT_OP_MAP_RANGE] = "map_range",
        [PT_OP_UNMAP_RANGE] = "unmap_range",
        [PT_OP_PROTECT_RANGE] = "protect_range",
        [PT_OP_DUMP] = "dump",
        [PT_OP_OTHER] = "other",
    };
    return (unsigned)op < PT_OP_COUNT ? names[op] : "unknown";
}
