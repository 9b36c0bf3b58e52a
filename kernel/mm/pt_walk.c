/*
 * pt_walk.c - the paging core's walk of one path: the walker (struct
 * walk), translate, map / unmap / protect of one page, the creation of
 * tables on the way down, the argument checks the range engine shares,
 * and the core's counters and status names. Page-table frames are
 * reached only through strategy.h; every entry is written by pte_write
 * (pt_internal.h); when to invalidate is the rule in tlb_policy.c.
 *
 * Used-entry counts: every table carries its number of present entries in
 * ignored bits of its entry 0 (PT_COUNT_MASK, pt.h), so "did this table
 * just become empty?" is one read, not a 512-entry scan: unmap of one page
 * stays O(levels) (Redox keeps such a count in unused bits too). The
 * operations here change it with the entry they write (pte_write's
 * count_change); the range engine reads it once per table and stores it
 * once after its loop (count_set). Every write of entry 0 keeps it. The
 * cost: every write to entry 0 is a read-modify-write, which could lose
 * an Accessed/Dirty bit the CPU sets concurrently (SDM Vol. 3A 4.8);
 * pagelab reads neither.
 */
#include "console.h"
#include "layout.h"
#include "pmm.h"
#include "pt_internal.h"
#include "tlb.h"

struct pt_config pt_cfg = { .phys_limit = 1ULL << PTE_PHYS_BITS_MAX,
                            .order = STRATEGY_ZERO_THEN_LINK };
struct pt_stats pt_all_stats;
struct pt_op_stats *pt_cur = &pt_all_stats.op[PT_OP_OTHER];
/* translate's calls and PTE reads, kept as one increment per call: how
 * many walks ended at each level (0: non-canonical, no walk). pt_stats_get
 * turns them into the usual counters. */
static uint64_t translate_ends[PT_LEVELS + 1];

/* A frame becomes a table of the hierarchy (pt_init, table_create): the
 * one place strategy_table_get's trust in its frame is earned. */
void table_admit(unsigned level, paddr_t frame)
{
    if (!strategy_table_reachable(frame))
        kpanic("pt: level-%u table 0x%lx is out of the %s strategy's reach", level, frame.pa,
               strategy_name());
}

void pt_tour_table(unsigned level, vaddr_t va, paddr_t frame, pte_t *t)
{
    PAGELAB_BREAK_ONCE_CALL(strategy_tour_stop, strategy_tour_look, level, va, frame, t);
}

/* ---- the walker ---- */

/*
 * Go down when the entry is present and not a leaf: P = 1 and PS = 0, i.e.
 * (e & (P|PS)) == P. Tested as ((e - 1) & (P|PS)) == 0: when P = 1, e - 1
 * only clears bit 0 and leaves PS as it was; when P = 0 the subtraction
 * borrows and sets bit 0. One test instead of two. Bit 7 is PS at levels 3
 * and 2 (a PS at level 4 is reserved and reported) but PAT at level 1,
 * which is never asked (SDM Vol. 3A 4.5.4, tables 4-15 to 4-20).
 */
static inline bool pte_descends(pte_t e)
{
    return !((e - 1) & (PTE_P | PTE_PS));
}

/* One level of walk_descend: into the table e (a present table entry of
 * level + 1) links, held in w; returns the level-`level` entry. */
static inline __attribute__((always_inline)) pte_t descend_into(struct walk *w, unsigned level,
                                                                pte_t e)
{
    paddr_t f = paddr(e & PTE_ADDR_MASK);
    pte_t *t = table_reach(level, w->va, f);
    w->tables[level] = t;
    w->frames[level] = f;
    return entry_load(t, PT_INDEX(w->va.va, level));
}

/*
 * The descent every walk starts with: from the root of va's space, down
 * through present table entries to level `stop` or to the first entry
 * that is not a present table (not present, a huge leaf, PS at level 4),
 * holding each table on the way in w. The walk is the one of walk_step
 * (one get and one entry per level), inlined into each one-page operation
 * so that their common case, every table there, costs about what
 * translate's descent costs: the table visits and entry reads are added
 * to the counters once at the end rather than per level (the counters sit
 * behind a pointer that every entry store may alias, so a per-level
 * increment is a reload and a read-modify-write). Returns the AND of the
 * table entries it went through (all ones if none): U in it says every
 * level above w->level allows user access (SDM Vol. 3A 4.6.1).
 */
static inline __attribute__((always_inline)) pte_t walk_descend(struct walk *w, vaddr_t va,
                                                                unsigned stop)
{
    unsigned l = PT_LEVELS;
    paddr_t f = root_for(va);
    pte_t *t = table_reach(l, va, f);
    pte_t e = entry_load(t, PT_INDEX(va.va, l)), links = ~(pte_t)0;
    w->va = va;
    w->tables[l] = t;
    w->frames[l] = f;
    /* written out level by level, as translate: with stop a constant (the
     * 4 KiB paths) each level's shift and each test is one too */
    if (l > stop && pte_descends(e)) {
        links &= e;
        e = descend_into(w, --l, e);
        if (l > stop && pte_descends(e)) {
            links &= e;
            e = descend_into(w, --l, e);
            if (l > stop && pte_descends(e)) {
                links &= e;
                e = descend_into(w, --l, e);
            }
        }
    }
    w->level = l;
    w->entry = e;
    pt_cur->table_visits += PT_LEVELS + 1 - l;
    pt_cur->pte_reads += PT_LEVELS + 1 - l;
    return links;
}

/* What a descent that stopped at w's entry means for a walk to `stop`:
 * walk_down's result (pt_internal.h). */
static inline enum pt_status walk_check(const struct walk *w, unsigned stop)
{
    if (w->level == PT_LEVELS && (w->entry & PTE_PS) && pte_present(w->entry))
        return PT_ERR_PS_AT_L4;
    if (w->level == stop)
        return PT_OK;
    if (!pte_present(w->entry))
        return PT_ERR_UNMAPPED;
    return PT_ERR_HUGE_IN_WAY; /* present, and the descent stopped: a leaf */
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

/* See pt_internal.h. */
enum pt_status walk_down(struct walk *w, vaddr_t va, unsigned stop)
{
    walk_descend(w, va, stop);
    return walk_check(w, stop);
}

/* ---- argument checks ---- */

enum pt_status size_level(uint64_t size, unsigned *level)
{
    if (size == PAGE_SIZE)
        *level = 1;
    else if (size == PAGE_SIZE_2M)
        *level = 2;
    else if (size == PAGE_SIZE_1G && pt_cfg.page1g)
        *level = 3;
    else
        return PT_ERR_BAD_SIZE;
    return PT_OK;
}

/* [va, va + len) canonical, in one half, not wrapping, clear of the
 * strategy's range. Inlined into the one-page operations (a call on
 * their hot path); check_range is the same for the other files. */
static inline __attribute__((always_inline)) enum pt_status range_check(vaddr_t va, uint64_t len)
{
    uint64_t last = va.va + len - 1;
    if (len == 0 || last < va.va)
        return PT_ERR_BAD_RANGE;
    if (!va_is_canonical(va.va) || !va_is_canonical(last) || (va.va >> 47) != (last >> 47))
        return PT_ERR_NONCANONICAL;
    uint64_t rb = pt_cfg.reserved.base.va, rlast = rb + pt_cfg.reserved.size - 1;
    if (pt_cfg.reserved.size && va.va <= rlast && rb <= last)
        return PT_ERR_RESERVED_RANGE;
    return PT_OK;
}

enum pt_status check_range(vaddr_t va, uint64_t len)
{
    return range_check(va, len);
}

/* The first failing check wins, in this order: prot, canonical va,
 * alignment of va/pa/len, the range, the physical width. Inlined into
 * pt_map and pt_remap, the one-page hot paths; check_map_args is the
 * same for the range engine. */
static inline __attribute__((always_inline)) enum pt_status
map_args_check(vaddr_t va, paddr_t pa, uint64_t len, uint64_t align, uint32_t prot)
{
    if (prot & ~PT_PROT_ALL)
        return PT_ERR_BAD_PROT;
    if (!va_is_canonical(va.va))
        return PT_ERR_NONCANONICAL;
    if ((va.va | pa.pa | len) & (align - 1))
        return PT_ERR_MISALIGNED;
    enum pt_status st = range_check(va, len);
    if (st != PT_OK)
        return st;
    if (pa.pa + len - 1 < pa.pa || pa.pa + len - 1 >= pt_cfg.phys_limit)
        return PT_ERR_BAD_PHYS;
    return PT_OK;
}

enum pt_status check_map_args(vaddr_t va, paddr_t pa, uint64_t len, uint64_t align,
                              uint32_t prot)
{
    return map_args_check(va, pa, len, align, prot);
}

/* ---- table creation (the link order of strategy.h) ---- */

/* A fresh frame becomes an empty table, count field included: the one
 * write that does not keep entry 0's count (there is none yet). One
 * string store (REP STOSQ after CLD): its quadword stores are each atomic
 * but may become visible out of order (SDM Vol. 1 7.3.9.3, Vol. 3A
 * 9.2.4), which does not matter here: until the last one the frame holds
 * nothing a walk may use, zero or not, whichever order the strategy links
 * it in (ZERO_THEN_LINK: not reachable yet; LINK_THEN_ZERO, recursive:
 * reachable only through its own new addresses, which rule 5 flushes
 * after). */
static void table_zero(pte_t *t)
{
    pte_t *d = t;
    unsigned long n = PT_ENTRIES;
    __asm__ volatile("cld; rep stosq" : "+D"(d), "+c"(n) : "a"(0UL) : "memory");
    pt_cur->pte_writes += PT_ENTRIES;
}

static enum pt_status source_alloc(const struct pt_frame_source *src, paddr_t *out)
{
    enum pt_status st = PT_ERR_NO_FRAMES;
    if (src)
        st = src->alloc(src->ctx, out);
    else if (pmm_alloc(strategy_table_zone(), out) == PMM_OK)
        st = PT_OK;
    if (st == PT_OK)
        pt_cur->tables_allocated++;
    return st;
}

/* See pt_internal.h. */
enum pt_status table_create(pte_t *parent, unsigned level, vaddr_t va, pte_t link_u,
                            enum count_change change, const struct pt_frame_source *src,
                            struct batch *b, pte_t **child, paddr_t *frame)
{
    enum pt_status st = source_alloc(src, frame);
    if (st != PT_OK)
        return PT_ERR_NO_FRAMES;
    table_admit(level - 1, *frame);
    pte_t link = frame->pa | PTE_TABLE_LINK | link_u;
    if (level == PT_LEVELS && kernel_slot(va))
        b->sync = true;     /* a new shared PDPT: every space gets the entry */
    if (pt_cfg.order == STRATEGY_ZERO_THEN_LINK) {
        *child = table_get(level - 1, va, *frame);
        table_zero(*child);
        pte_write(parent, PT_INDEX(va.va, level), link, change);
        return PT_OK;
    }
    pte_write(parent, PT_INDEX(va.va, level), link, change);
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
 * that the 4 KiB walk runs straight through without a taken branch. GCC
 * options: clang (the fuzz build) has no such attribute and needs none. */
#if defined(__GNUC__) && !defined(__clang__)
#define PT_TRANSLATE_OPTIMIZE __attribute__((optimize("no-tree-tail-merge", "no-crossjumping", \
                                                     "no-tree-sink")))
#else
#define PT_TRANSLATE_OPTIMIZE
#endif
PT_TRANSLATE_OPTIMIZE
enum pt_status pt_translate(vaddr_t va, struct pt_translation *out)
{
    out->va = va;
    if (!va_is_canonical(va.va)) {
        translate_ends[0]++;
        return PT_ERR_NONCANONICAL;
    }
    pte_t e = tr_read(out, 4, va, pt_edit_root);
    if (__builtin_expect(!pte_descends(e), 0))
        return tr_end(out, va, e, 4);
    e = tr_read(out, 3, va, paddr(e & PTE_ADDR_MASK));
    if (__builtin_expect(!pte_descends(e), 0))
        return tr_end(out, va, e, 3);
    e = tr_read(out, 2, va, paddr(e & PTE_ADDR_MASK));
    if (__builtin_expect(!pte_descends(e), 0))
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

/* Adds U to the table entries above level `below` on w's path that lack
 * it. Returns true if any changed (rule 2: the caller invalidates). */
static bool widen_user(struct walk *w, unsigned below)
{
    bool changed = false;
    for (unsigned l = PT_LEVELS; l > below; l--) {
        unsigned i = PT_INDEX(w->va.va, l);
        pte_t e = pte_get(w->tables[l], i);
        if (!(e & PTE_U)) {
            pte_write(w->tables[l], i, e | PTE_U, COUNT_KEPT);
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
    enum pt_status st = table_create(parent, w->level, w->va, link_u, COUNT_ADDED, src, b,
                                     &child, &frame);
    if (st != PT_OK)
        return st;
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
    pte_write(w->tables[made_top + 1], PT_INDEX(w->va.va, made_top + 1), 0, COUNT_REMOVED);
    for (unsigned l = made_top; l >= w->level; l--)
        batch_defer_table(b, w->frames[l], w->va, l);
}

/* See pt_internal.h. pt_map's descent without its leaf: walk_down, then
 * table_create below the first missing table. walk_create, walk_grow and
 * walk_uncreate stay pt_map's alone: a second caller took them out of
 * line and cost every map a few instructions. U is added above stop as a
 * user leaf would add it, and a failure takes back what it made. */
enum pt_status walk_make(struct walk *w, vaddr_t va, unsigned stop, pte_t link_u,
                         const struct pt_frame_source *src, struct batch *b)
{
    unsigned made_top = 0;
    enum pt_status st = walk_down(w, va, stop);
    while (st == PT_ERR_UNMAPPED) {     /* w->entry, above stop, is not present */
        unsigned l = w->level - 1;
        st = table_create(w->tables[w->level], w->level, va, link_u, COUNT_ADDED, src, b,
                          &w->tables[l], &w->frames[l]);
        if (st != PT_OK)
            break;
        w->level = l;
        w->entry = 0;                   /* a fresh table: every entry is empty */
        if (made_top == 0)
            made_top = l;
        st = l == stop ? PT_OK : PT_ERR_UNMAPPED;
    }
    if (st != PT_OK) {
        /* as walk_uncreate: unhooking the highest new table cuts the chain */
        if (made_top) {
            pte_write(w->tables[made_top + 1], PT_INDEX(va.va, made_top + 1), 0, COUNT_REMOVED);
            for (unsigned l = made_top; l >= w->level; l--)
                batch_defer_table(b, w->frames[l], va, l);
        }
        return st;
    }
    if (link_u && widen_user(w, stop))
        batch_add_va(b, va); /* rule 2 */
    return PT_OK;
}

/* Writes the new leaf at w's entry (rule 1: no flush, unless U had to be
 * added above it). A swap entry (level 1 only) holds the place of a
 * page: already mapped, as a leaf would be. */
static enum pt_status leaf_install(struct walk *w, paddr_t pa, uint32_t prot,
                                   struct batch *b)
{
    if (!pte_empty(w->entry))
        return (w->level > 1 && pte_present(w->entry) && !(w->entry & PTE_PS))
                   ? PT_ERR_TABLE_IN_WAY
                   : PT_ERR_ALREADY_MAPPED;
    pte_t *t = walk_table(w);
    pte_write(t, walk_index(w), pa.pa | leaf_bits(prot, w->level), COUNT_ADDED);
    if ((prot & PT_PROT_USER) && widen_user(w, w->level))
        batch_add_va(b, w->va);
    return PT_OK;
}

/*
 * The one-page operations below each have a fast path for their common
 * case, every table on the path already there: the checks, walk_descend
 * and one entry write, with the invalidation (if any) done directly, the
 * way pt_remap always did. Anything else (a table to make or free, U to
 * add above a user leaf, an error found by the walk) goes on from where
 * the descent stopped, in the general code, kept out of line so that the
 * fast path's frame stays small. Both count what they do: the fast path
 * reads and writes fewer entries (no widen_user rereads), and says so.
 */

/* pt_map's general path, from where walk_descend stopped in w. */
static __attribute__((noinline)) enum pt_status
map_general(struct walk *w, unsigned leaf, paddr_t pa, uint32_t prot,
            const struct pt_frame_source *src)
{
    unsigned made_top;
    struct batch b;
    batch_init(&b, src);
    enum pt_status st = walk_create(w, leaf, (prot & PT_PROT_USER) ? PTE_U : 0, src, &b,
                                    &made_top);
    if (st == PT_OK)
        st = leaf_install(w, pa, prot, &b);
    if (st != PT_OK && made_top)
        walk_uncreate(w, made_top, &b);
    batch_finish(&b);
    if (b.sync)
        pt_space_sync();
    return st;
}

/* pt_map of a leaf at level `leaf` (size bytes), checks first. */
static inline __attribute__((always_inline)) enum pt_status
map_one(vaddr_t va, paddr_t pa, uint64_t size, unsigned leaf, uint32_t prot,
        const struct pt_frame_source *src)
{
    struct walk w;
    enum pt_status st = map_args_check(va, pa, size, size, prot);
    if (st != PT_OK)
        return st;
    pte_t links = walk_descend(&w, va, leaf);
    if (__builtin_expect(w.level == leaf && pte_empty(w.entry) &&
                         (!(prot & PT_PROT_USER) || (links & PTE_U)), 1)) {
        /* every table is there (with U above a user leaf), the entry holds
         * neither a leaf nor a swap entry: the leaf and its count, and no
         * invalidation (rule 1: it was not present) */
        pte_write(walk_table(&w), walk_index(&w), pa.pa | leaf_bits(prot, leaf), COUNT_ADDED);
        return PT_OK;
    }
    return map_general(&w, leaf, pa, prot, src);
}

enum pt_status pt_map(vaddr_t va, paddr_t pa, uint64_t size, uint32_t prot,
                      const struct pt_frame_source *src)
{
    unsigned leaf;
    op_begin(PT_OP_MAP);
    /* 4 KiB, the fault path's size, as a constant: its checks and its
     * descent fold (size_level would accept it) */
    if (size == PAGE_SIZE)
        return map_one(va, pa, PAGE_SIZE, 1, prot, src);
    enum pt_status st = size_level(size, &leaf);
    if (st != PT_OK)
        return st;
    return map_one(va, pa, size, leaf, prot, src);
}

/* See pt_internal.h (pt_swap_clear frees tables with it too). */
void walk_prune(struct walk *w, unsigned left, struct batch *b)
{
    for (unsigned l = w->level; left == 0 && l < PT_LEVELS && !table_pinned(l + 1, w->va); l++) {
        left = pte_write(w->tables[l + 1], PT_INDEX(w->va.va, l + 1), 0, COUNT_REMOVED);
        batch_defer_table(b, w->frames[l], w->va, l);
    }
}

/* Clears w's entry, a present leaf that starts at w->va; returns what
 * its table still holds. */
static inline unsigned leaf_clear(struct walk *w, paddr_t *frame, uint64_t *size)
{
    if (frame)
        *frame = pte_addr(w->entry, w->level);
    if (size)
        *size = span_of(w->level);
    return pte_write(walk_table(w), walk_index(w), 0, COUNT_REMOVED);
}

/* pt_unmap's general path, from where walk_descend stopped in w; `left`
 * is what w's PT still holds when the fast path already cleared a 4 KiB
 * leaf there (cleared true), the tables it emptied still to go. */
static __attribute__((noinline)) enum pt_status
unmap_general(struct walk *w, bool cleared, unsigned left, paddr_t *frame, uint64_t *size)
{
    struct batch b;
    enum pt_status st = PT_OK;
    batch_init(&b, NULL);
    if (cleared) {
        batch_add_va(&b, w->va);
        walk_prune(w, left, &b);
    } else {
        st = walk_check(w, 1);
        if (st == PT_ERR_HUGE_IN_WAY || (st == PT_OK && pte_present(w->entry))) {
            if (w->va.va & (span_of(w->level) - 1)) {
                st = PT_ERR_MISALIGNED;
            } else {
                left = leaf_clear(w, frame, size);
                batch_add_va(&b, w->va);
                walk_prune(w, left, &b);
                st = PT_OK;
            }
        } else if (st == PT_OK) {
            st = PT_ERR_UNMAPPED;
        }
    }
    batch_finish(&b);
    return st;
}

enum pt_status pt_unmap(vaddr_t va, paddr_t *frame, uint64_t *size)
{
    struct walk w;
    op_begin(PT_OP_UNMAP);
    enum pt_status st = range_check(va, PAGE_SIZE);
    if (st != PT_OK)
        return st;
    walk_descend(&w, va, 1);
    if (__builtin_expect(w.level == 1 && pte_present(w.entry) && !PAGE_OFFSET(va.va), 1)) {
        unsigned left = leaf_clear(&w, frame, size);
        if (__builtin_expect(left != 0, 1)) {
            /* the PT stays: one address to invalidate, as the batch would
             * (rule 2; none in an inactive space, rule 6) */
            if (va_live(va))
                pt_invlpg(va);
            return PT_OK;
        }
        return unmap_general(&w, true, 0, frame, size);  /* the PT went empty */
    }
    return unmap_general(&w, false, 0, frame, size);
}

static void leaf_protect(struct walk *w, uint32_t prot, struct batch *b)
{
    pte_t v = leaf_reprot(w->entry, prot_to_pte(prot));
    bool changed = v != w->entry;
    if (changed)
        pte_write(walk_table(w), walk_index(w), v, COUNT_KEPT);
    if ((prot & PT_PROT_USER) && widen_user(w, w->level))
        changed = true;
    if (changed)
        batch_add_va(b, w->va); /* rule 2 */
}

/* pt_protect's general path, from where walk_descend stopped in w. */
static __attribute__((noinline)) enum pt_status protect_general(struct walk *w, unsigned leaf,
                                                               uint32_t prot)
{
    struct batch b;
    batch_init(&b, NULL);
    enum pt_status st = leaf_of_size(w, walk_check(w, leaf));
    if (st == PT_OK)
        leaf_protect(w, prot, &b);
    batch_finish(&b);
    return st;
}

/* pt_protect of the leaf at level `leaf` (size bytes), checks first. */
static inline __attribute__((always_inline)) enum pt_status
protect_one(vaddr_t va, uint64_t size, unsigned leaf, uint32_t prot)
{
    struct walk w;
    if (prot & ~PT_PROT_ALL)
        return PT_ERR_BAD_PROT;
    enum pt_status st = range_check(va, size);
    if (st != PT_OK)
        return st;
    if (va.va & (size - 1))
        return PT_ERR_MISALIGNED;
    pte_t links = walk_descend(&w, va, leaf);
    if (__builtin_expect(w.level == leaf && pte_present(w.entry) && pte_is_leaf(w.entry, leaf) &&
                         (!(prot & PT_PROT_USER) || (links & PTE_U)), 1)) {
        /* a leaf of that size, no U to add above it: leaf_protect without
         * a batch, its one address invalidated directly (rule 2) */
        pte_t v = leaf_reprot(w.entry, prot_to_pte(prot));
        if (v != w.entry) {
            pte_write(walk_table(&w), walk_index(&w), v, COUNT_KEPT);
            if (va_live(va))
                pt_invlpg(va);
        }
        return PT_OK;
    }
    return protect_general(&w, leaf, prot);
}

/* See pt_internal.h: pt_protect_range's checks and walk for one page,
 * holes skipped and a huge leaf refused as the range engine does
 * (walk_check's result read for a range: UNMAPPED is a hole, HUGE_IN_WAY
 * a leaf that straddles both ends). */
bool page_protect_fast(vaddr_t va, uint32_t prot, enum pt_status *st)
{
    struct walk w;
    *st = range_check(va, PAGE_SIZE);
    if (*st == PT_OK && PAGE_OFFSET(va.va))
        *st = PT_ERR_MISALIGNED;
    if (*st != PT_OK)
        return true;
    pte_t links = walk_descend(&w, va, 1);
    *st = walk_check(&w, 1);
    if (*st == PT_ERR_UNMAPPED || (*st == PT_OK && !pte_present(w.entry))) {
        *st = PT_OK;            /* a hole: nothing to change */
        return true;
    }
    if (*st != PT_OK)
        return true;            /* PT_ERR_HUGE_IN_WAY, PT_ERR_PS_AT_L4 */
    if ((prot & PT_PROT_USER) && !(links & PTE_U))
        return false;           /* U to add above: the range engine does it */
    pte_t v = leaf_reprot(w.entry, prot_to_pte(prot));
    if (v != w.entry) {
        pte_write(walk_table(&w), walk_index(&w), v, COUNT_KEPT);
        if (va_live(va))
            pt_invlpg(va);      /* rule 2, as the batch would */
    }
    return true;
}

enum pt_status pt_protect(vaddr_t va, uint64_t size, uint32_t prot)
{
    unsigned leaf;
    op_begin(PT_OP_PROTECT);
    if (size == PAGE_SIZE)  /* as in pt_map: the fault path's size, folded */
        return protect_one(va, PAGE_SIZE, 1, prot);
    enum pt_status st = size_level(size, &leaf);
    if (st != PT_OK)
        return st;
    return protect_one(va, size, leaf, prot);
}

/*
 * The copy-on-write break's write (contract in pt.h): on the fault path,
 * so it is pt_protect's walk and one store, without a batch: the one
 * address it changes is invalidated here, directly, under the same rule.
 */
enum pt_status pt_remap(vaddr_t va, paddr_t pa, uint32_t prot, paddr_t *old)
{
    struct walk w;
    op_begin(PT_OP_REMAP);
    enum pt_status st = map_args_check(va, pa, PAGE_SIZE, PAGE_SIZE, prot);
    if (st != PT_OK)
        return st;
    walk_descend(&w, va, 1);
    st = leaf_of_size(&w, walk_check(&w, 1));
    if (st != PT_OK)
        return st;
    if (old)
        *old = pte_addr(w.entry, 1);
    /* nothing of the old leaf is kept (A, D, PAT): it maps another frame;
     * in entry 0 pte_write keeps the table's count, which does not change */
    pte_write(walk_table(&w), walk_index(&w), pa.pa | leaf_bits(prot, 1), COUNT_KEPT);
    if (va_live(va))
        pt_invlpg(va); /* rule 2; an inactive space has nothing cached (rule 6) */
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


void pt_root_clear(unsigned first, unsigned n)
{
    op_begin(PT_OP_OTHER);
    vaddr_t va = vaddr(entry_va(0, PT_LEVELS, first));
    /* CR3's: pt_root_clear runs before pt_init has the kernel's root */
    pte_t *t = table_get(PT_LEVELS, va, cpu_read_cr3());
    for (unsigned i = first; i < first + n && i < PT_ENTRIES; i++)
        pte_write(t, i, 0, COUNT_KEPT); /* the count is pt_init's to write */
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
    *out = pt_all_stats;
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
    pt_all_stats = zero;
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
        [PT_ERR_SPACE_IN_USE] = "address space in use",
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
        [PT_OP_CLONE] = "clone",
        [PT_OP_REMAP] = "remap",
        [PT_OP_SWAP] = "swap",
        [PT_OP_OTHER] = "other",
    };
    return (unsigned)op < PT_OP_COUNT ? names[op] : "unknown";
}
