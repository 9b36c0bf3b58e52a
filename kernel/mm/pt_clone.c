/*
 * pt_clone.c - pt_space_clone (contract in pt.h): fork's copy of one
 * region of an address space into another, leaf by leaf, each level-1
 * table of the source read once. Used by fork (kernel/proc/); built on the
 * walker (walk_down, walk_make in pt_walk.c), the one entry writer
 * (pte_write) and the batch of the TLB rule (tlb_policy.c).
 *
 * The copy holds two hierarchies at once, and a strategy may not: the
 * temporary strategy has one slot per level, so src's level-1 table and
 * dst's cannot both be in view, and the recursive one reaches an inactive
 * tree only through its second slot, which names one space at a time. So
 * each level-1 table of src is copied in two phases, with the space being
 * worked on selected (pt_space_select) and nothing held across the switch:
 *   1. src: one pass over the table's entries in the range; each present
 *      leaf loses W (copy-on-write) and is stored back if it changed, and
 *      is kept at its index in a table-sized buffer (clone_buf; the same
 *      idea as pt_space.c's kernel_shared, for the same reason), swap
 *      entries as they are, holes as 0;
 *   2. dst: the path down to its level-1 table is made as pt_map makes it
 *      (walk_make: zeroed tables, linked in the strategy's order, rule 5
 *      for recursive), the buffer's span up to the last leaf or swap
 *      entry is written there in one string move and reported to leaves()
 *      in one call, and the table's count is stored once.
 * Selecting costs the pointer strategies and temporary nothing; recursive
 * repoints its second slot only when the space it names changes, which
 * with src active (fork: the parent) happens once, for dst.
 *
 * Why not fill a fresh frame before linking it, through kmap? kmap maps
 * through pt_map in four strategies, an operation inside this one, and its
 * page is one more INVLPG per table; the buffer costs a store and a
 * string move's step per leaf and keeps the copy's counters its own. A
 * new level-1 table of dst is zeroed (one REP STOSQ, table_zero) and then
 * written.
 */
#include "layout.h"
#include "pt_internal.h"

/* Phase 1's output: one level-1 table's entries in the range, at their
 * own indices. The core is not reentrant (pt_cur), so one buffer serves
 * every call. */
static pte_t clone_buf[PT_ENTRIES];

struct clone {
    struct pt_space *dst;
    const struct pt_space *src;
    pte_t clear;                          /* PTE_W for PT_CLONE_COW, else 0 */
    void (*leaves)(const pte_t *leaf, unsigned n, void *ctx);
    void *ctx;
    struct batch b;
    uint64_t copied;
};


/* The end of the level-2 entry holding at, capped by end. */
static uint64_t pd_end(uint64_t at, uint64_t end)
{
    uint64_t next = ALIGN_DOWN(at, PT_LEVEL_SPAN(2)) + PT_LEVEL_SPAN(2);
    return next < end ? next : end;
}

/*
 * Walks the selected space from *at down to the level-2 entry, stepping
 * *at over whatever is not mapped above level 2, until end. PT_OK: w is at
 * the level-2 entry of *at (present or not, table or leaf).
 * PT_ERR_UNMAPPED: nothing below end. PT_ERR_HUGE_IN_WAY: a 1 GiB leaf
 * holds *at (w->level 3). PT_ERR_PS_AT_L4.
 */
static enum pt_status pd_entry_next(struct walk *w, uint64_t *at, uint64_t end)
{
    while (*at < end) {
        enum pt_status st = walk_down(w, vaddr(*at), 2);
        if (st != PT_ERR_UNMAPPED)
            return st;
        uint64_t span = span_of(w->level);
        *at = ALIGN_DOWN(*at, span) + span; /* < 2^47 in the lower half: no wrap */
    }
    return PT_ERR_UNMAPPED;
}

/* The first used entry of t in [i, end) (a leaf or a swap entry), or end. */
static unsigned first_used(const pte_t *t, unsigned i, unsigned end)
{
    while (i < end && pte_empty(pte_get(t, i)))
        i++;
    return i;
}

/* Before any change, src: no huge leaf in [va, end) (pagelab does not
 * split them, and user spaces have none). */
static enum pt_status check_src(uint64_t va, uint64_t end)
{
    struct walk w;
    enum pt_status st;
    for (uint64_t at = va; (st = pd_entry_next(&w, &at, end)) == PT_OK; at = pd_end(at, end))
        if (pte_present(w.entry) && pte_is_leaf(w.entry, 2))
            return PT_ERR_HUGE_IN_WAY;
    return st == PT_ERR_UNMAPPED ? PT_OK : st;
}

/* Before any change, dst: nothing mapped in [va, end), huge or not, and
 * no swap entry (a page of dst's, swapped out). */
static enum pt_status check_dst(uint64_t va, uint64_t end)
{
    struct walk w;
    enum pt_status st;
    for (uint64_t at = va; (st = pd_entry_next(&w, &at, end)) == PT_OK; at = pd_end(at, end)) {
        if (!pte_present(w.entry))
            continue;
        if (pte_is_leaf(w.entry, 2))
            return PT_ERR_ALREADY_MAPPED;
        pte_t *t = table_get(1, vaddr(at), pte_addr(w.entry, 2));
        unsigned i = PT_INDEX(at, 1), n = (unsigned)((pd_end(at, end) - at) / PAGE_SIZE);
        if (first_used(t, i, i + n) < i + n)
            return PT_ERR_ALREADY_MAPPED;
    }
    if (st == PT_ERR_HUGE_IN_WAY)
        return PT_ERR_ALREADY_MAPPED;
    return st == PT_ERR_UNMAPPED ? PT_OK : st;
}

/* Phase 1's span of one level-1 table: entries [lo, hi) of clone_buf,
 * n of them leaves and swaps of them swap entries (hi == lo: nothing). */
struct span {
    unsigned lo, hi, n, swaps;
};

/* The swap entries of clone_buf[sp.lo, end), when clone_read met one:
 * counted, and the span extended to the last. Out of the loop, and out
 * of line: fork of a space with no swapped-out page never comes here. */
static __attribute__((noinline, cold)) struct span span_swaps(struct span sp, unsigned end)
{
    for (unsigned i = sp.lo; i < end; i++) {
        if (!pte_is_swap(clone_buf[i]))
            continue;
        sp.swaps++;
        if (i + 1 > sp.hi)
            sp.hi = i + 1;
    }
    return sp;
}

/*
 * Phase 1, src selected: the entries of s in [i, end) into clone_buf at
 * the same indices, the leaves with W taken away where c->clear says
 * (stored back, and invalidated if src is active: batch_add_va applies
 * rule 6), the rest as they are: 0, or a swap entry (the only non-zero
 * not-present entry the core writes, include/pte.h), which the child
 * shares as it shares a frame. base: the address of entry 0. The span
 * ends after the last leaf or swap entry. The fork's per-page loop: one
 * load, two tests, one store to the buffer and two counts; a
 * write-protect adds the store back and the batch's test. A not-present
 * entry costs an OR instead of the 0 it was stored as: the loop only
 * notes that it met a swap entry, and span_swaps counts them after it,
 * so neither path of the loop is longer for them (a counter or a span
 * end kept for swap entries in the loop took the present path one
 * instruction more, GCC 12).
 * Stores past entry 0 go through pte_write_uncounted (the count is not
 * theirs to change, COUNT_KEPT), counted once for the table, not one
 * increment of pt_cur's per page; clear and full are copied into locals,
 * since a store to a table (a uint64_t) could alias them and would make
 * the compiler load them again for every page.
 */
static struct span clone_read(struct clone *c, pte_t *s, uint64_t base, unsigned i,
                              unsigned end)
{
    const pte_t clear = c->clear;
    bool full = c->b.full;
    struct span sp = { .lo = i, .hi = i, .n = 0, .swaps = 0 };
    unsigned written = 0;
    pte_t absent = 0;                     /* the not-present entries ORed: a swap entry? */
    pt_cur->pte_reads += end - i;
    if (i == 0 && end > 0) {
        /* entry 0 carries src's count, which is not the leaf's: on its own,
         * so that the loop needs no mask */
        pte_t e = entry_load(s, 0) & ~PT_COUNT_MASK;
        clone_buf[0] = e;                 /* 0 or a swap entry, unless present */
        if (e & PTE_P) {
            if (e & clear) {
                e &= ~clear;
                pte_write(s, 0, e, COUNT_KEPT);
                batch_add_va(&c->b, vaddr(base));
                full = c->b.full;
            }
            clone_buf[0] = e;
            sp.hi = 1;
            sp.n = 1;
        } else {
            absent = e;
        }
        i = 1;
    }
    for (; i < end; i++) {
        pte_t e = entry_load(s, i);
        if (!(e & PTE_P)) {
            clone_buf[i] = e;             /* 0 or a swap entry */
            absent |= e;
            continue;
        }
        if (e & clear) {
            e &= ~clear;
            pte_write_uncounted(s, i, e);
            written++;
            /* past the threshold the batch ignores more: not even called */
            if (!full) {
                batch_add_va(&c->b, vaddr(base + (uint64_t)i * PAGE_SIZE));
                full = c->b.full;
            }
        }
        clone_buf[i] = e;
        sp.hi = i + 1;
        sp.n++;
    }
    pt_cur->pte_writes += written;
    if (__builtin_expect(absent != 0, 0))
        sp = span_swaps(sp, end);
    return sp;
}

/* Phase 2, dst selected: the span into d (nothing used there, check_dst;
 * its holes are written as the 0 they are), d's count stored once (its
 * leaves and swap entries), and the span reported in one call. Entry 0,
 * if in the span, goes through pte_write (it holds d's count); the rest
 * is one string move (pte_write_run: d belongs to an inactive space,
 * which no walk reads). */
static void clone_write(struct clone *c, pte_t *d, struct span sp)
{
    unsigned lo = sp.lo;
    if (lo == 0)
        pte_write(d, lo++, clone_buf[0], COUNT_KEPT);
    pte_write_run(d, lo, &clone_buf[lo], sp.hi - lo);
    count_set(d, count_get(d) + sp.n + sp.swaps);
    if (c->leaves)
        c->leaves(&clone_buf[sp.lo], sp.hi - sp.lo, c->ctx);
    c->copied += sp.n;
}

/* Both phases for the level-1 table s of src (its level-2 entry e2)
 * holding [at, end). Leaves src selected. */
static enum pt_status clone_table(struct clone *c, pte_t *s, pte_t e2, uint64_t at,
                                  uint64_t end)
{
    uint64_t base = ALIGN_DOWN(at, PT_LEVEL_SPAN(2));
    unsigned i = PT_INDEX(at, 1);
    struct span sp = clone_read(c, s, base, i, i + (unsigned)((end - at) / PAGE_SIZE));
    if (sp.hi == sp.lo)
        return PT_OK;                     /* a hole of src: dst gets no table for it */
    struct walk w;
    pt_space_select(c->dst);
    /* the table entries are P|W as the core makes them; U if src's has it
     * (permissions are decided at the leaf, which is copied) */
    enum pt_status st = walk_make(&w, vaddr(at), 1, e2 & PTE_U, NULL, &c->b);
    if (st == PT_OK)
        clone_write(c, walk_table(&w), sp);
    pt_space_select(c->src);
    return st;
}

static enum pt_status clone_run(struct clone *c, uint64_t va, uint64_t end)
{
    struct walk w;
    enum pt_status st;
    for (uint64_t at = va; (st = pd_entry_next(&w, &at, end)) == PT_OK; at = pd_end(at, end)) {
        if (!pte_present(w.entry))
            continue;
        pte_t *s = table_get(1, vaddr(at), pte_addr(w.entry, 2));
        st = clone_table(c, s, w.entry, at, pd_end(at, end));
        if (st != PT_OK)
            return st;
    }
    return st == PT_ERR_UNMAPPED ? PT_OK : st;
}

static bool space_live(const struct pt_space *as)
{
    if (as == &pt_kernel_space)
        return true;
    for (const struct pt_space *s = pt_spaces; s; s = s->next)
        if (s == as)
            return true;
    return false;
}

/* The first failing check wins: opts, the spaces, alignment, the range
 * (in the lower half's own slots 1-255: PT_ERR_BAD_RANGE otherwise). */
static enum pt_status check_clone_args(const struct pt_space *dst, const struct pt_space *src,
                                       vaddr_t va, uint64_t len, uint32_t opts)
{
    if (opts & ~PT_CLONE_COW)
        return PT_ERR_BAD_PROT;
    if (dst == &pt_kernel_space || dst == src || dst->root.pa == pt_active_root.pa ||
        !space_live(dst) || !space_live(src))
        return PT_ERR_SPACE_IN_USE;
    if (PAGE_OFFSET(va.va | len))
        return PT_ERR_MISALIGNED;
    enum pt_status st = check_range(va, len);
    if (st != PT_OK)
        return st;
    if (va.va < USER_BASE || va.va + len > USER_END)
        return PT_ERR_BAD_RANGE;
    return PT_OK;
}

enum pt_status pt_space_clone(struct pt_space *dst, const struct pt_space *src, vaddr_t va,
                              uint64_t len, uint32_t opts,
                              void (*leaves)(const pte_t *leaf, unsigned n, void *ctx),
                              void *ctx, uint64_t *copied)
{
    op_begin(PT_OP_CLONE);
    if (copied)
        *copied = 0;
    enum pt_status st = check_clone_args(dst, src, va, len, opts);
    if (st != PT_OK)
        return st;
    uint64_t end = va.va + len;
    const struct pt_space *prev = pt_space_selected();
    pt_space_select(dst);
    st = check_dst(va.va, end);
    pt_space_select(src);
    if (st == PT_OK)
        st = check_src(va.va, end);
    struct clone c = { .dst = dst, .src = src, .clear = (opts & PT_CLONE_COW) ? PTE_W : 0,
                       .leaves = leaves, .ctx = ctx, .copied = 0 };
    batch_init(&c.b, NULL);
    if (st == PT_OK)
        st = clone_run(&c, va.va, end);
    /* src's write-protected leaves (rules 2, 3, 6), rule 5's flush for a
     * table of dst linked before it was zeroed (recursive), the tables a
     * failed walk_make took back: all before returning */
    batch_finish(&c.b);
    pt_space_select(prev);
    if (copied)
        *copied = c.copied;
    return st;
}
