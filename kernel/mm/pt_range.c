/*
 * pt_range.c - the paging core's range engine: pt_map_range,
 * pt_unmap_range and pt_protect_range. One recursive descent per range
 * fetches each table once and handles its entries in one loop (the 4 KiB
 * leaves of a table in a tight one), stores each table's count once, and
 * collects its invalidations in one batch (tlb_policy.c). A failed map
 * is rolled back by an unmap of what it mapped. Entries are written by
 * pte_write (pt_internal.h) only, so writing entry 0 keeps the count.
 */
#include "layout.h"
#include "pt_internal.h"
#include "tlb.h"

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

/* The 4 KiB inner loop: consecutive entries of one table, read without
 * pte_get's counting (reads added once). Returns the new count. */
static unsigned map_4k(struct range *r, pte_t *t, unsigned used)
{
    unsigned i = PT_INDEX(r->va.va, 1), n = PT_ENTRIES - i, j = i;
    if ((uint64_t)n > r->left / PAGE_SIZE)
        n = (unsigned)(r->left / PAGE_SIZE);
    pte_t v = r->pa.pa | leaf_bits(r->prot, 1);
    /* Entry 0, the one whose count pte_write keeps, can only come first:
     * written on its own, it leaves the loop free of pte_write's test. A
     * swap entry ends the run as a leaf does (pte_empty: the same one
     * test as P alone). */
    if (j == 0 && n && pte_empty(entry_load(t, 0))) {
        pte_write(t, 0, v, COUNT_KEPT);
        j = 1, v += PAGE_SIZE;
    }
    for (; j < i + n && pte_empty(entry_load(t, j)); j++, v += PAGE_SIZE) {
        if (j == 0)
            __builtin_unreachable(); /* entry 0 was written above or ended the run */
        pte_write(t, j, v, COUNT_KEPT);
    }
    unsigned k = j - i;
    pt_cur->pte_reads += k + (k < n);
    range_advance(r, (uint64_t)k * PAGE_SIZE);
    if (k < n)
        r->st = PT_ERR_ALREADY_MAPPED;
    return used + k;
}

static bool huge_fits(const struct range *r, unsigned level)
{
    if (!(r->opts & PT_RANGE_ALLOW_HUGE) || level > 3 || (level == 3 && !pt_cfg.page1g))
        return false;
    uint64_t span = span_of(level);
    return ((r->va.va | r->pa.pa) & (span - 1)) == 0 && r->left >= span;
}

/* Descends into the existing table at t[i] (adding U for a user range). */
static void map_into(struct range *r, unsigned level, pte_t *t, unsigned i, pte_t e)
{
    if (r->link_u && !(e & PTE_U)) {
        pte_write(t, i, e | PTE_U, COUNT_KEPT);
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
    r->st = table_create(t, level, at, r->link_u, COUNT_KEPT, r->src, r->b, &child, &frame);
    if (r->st != PT_OK)
        return 0;
    unsigned used = map_entries(r, level - 1, child);
    if (used > 0)
        return 1;
    pte_write(t, i, 0, COUNT_KEPT);
    batch_defer_table(r->b, frame, at, level - 1);
    return 0;
}

/* One entry of a level >= 2 table; returns how many entries it added. */
static unsigned map_entry(struct range *r, unsigned level, pte_t *t, unsigned i)
{
    pte_t e = pte_get(t, i);
    if (!pte_present(e) && huge_fits(r, level)) {
        pte_write(t, i, r->pa.pa | leaf_bits(r->prot, level), COUNT_KEPT);
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
static inline __attribute__((always_inline)) unsigned
edit_leaf(struct range *r, pte_t *t, unsigned i, pte_t e)
{
    pte_t v = r->kind == RANGE_UNMAP ? 0 : leaf_reprot(e, r->bits);
    if (v != e) {
        pte_write(t, i, v, COUNT_KEPT);
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
        pte_write(t, i, e | PTE_U, COUNT_KEPT);
        batch_add_va(r->b, at); /* rule 2 */
    }
    pte_t *child = table_get(level - 1, at, frame);
    unsigned left = edit_entries(r, level - 1, child);
    if (r->kind != RANGE_UNMAP || left > 0 || table_pinned(level, at))
        return 0;
    pte_write(t, i, 0, COUNT_KEPT);
    batch_defer_table(r->b, frame, at, level - 1);
    return 1;
}

/* Unmap or protect t[i]; holes, swap entries (not present: they stay, and
 * stay counted) and a PS PML4 entry (which pagelab never makes) are
 * stepped over. Returns 1 if the entry was removed. */
static inline __attribute__((always_inline)) unsigned
edit_entry(struct range *r, unsigned level, pte_t *t, unsigned i)
{
    pte_t e = pte_get(t, i);
    uint64_t step = range_step(r, level);
    if (!pte_present(e) || (level == PT_LEVELS && (e & PTE_PS))) {
        range_advance(r, step);
        return 0;
    }
    if (!pte_is_leaf(e, level))
        return edit_table(r, level, t, i, e);
    unsigned gone = edit_leaf(r, t, i, e);
    range_advance(r, step);
    return gone;
}

/* Unmap or protect from r->va on in table t. Returns the new count. */
static unsigned edit_entries(struct range *r, unsigned level, pte_t *t)
{
    unsigned used = count_get(t), before = used, i = PT_INDEX(r->va.va, level);
    /* Entry 0 on its own, as in map_4k: the loop's writes skip pte_write's
     * test for it. */
    if (i == 0 && r->left)
        used -= edit_entry(r, level, t, i++);
    for (; r->left && i < PT_ENTRIES; i++) {
        if (i == 0)
            __builtin_unreachable(); /* handled above */
        used -= edit_entry(r, level, t, i);
    }
    if (used != before)
        count_set(t, used);
    return used;
}

static void range_run(struct range *r)
{
    pte_t *root = table_get(PT_LEVELS, r->va, root_for(r->va));
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
    if (b.sync)
        pt_space_sync();
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
    uint64_t span = span_of(w.level), start = ALIGN_DOWN(at.va, span);
    return (start < first || start + (span - 1) > last) ? PT_ERR_HUGE_IN_WAY : PT_OK;
}

static enum pt_status check_edit_args(vaddr_t va, uint64_t len)
{
    enum pt_status st = check_range(va, len);
    if (st == PT_OK && PAGE_OFFSET(va.va | len))
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
    enum pt_status st;
    if (len == PAGE_SIZE && page_protect_fast(va, prot, &st))
        return st;
    st = check_edit_args(va, len);
    if (st != PT_OK)
        return st;
    batch_init(&b, NULL);
    range_edit(va, len, RANGE_PROTECT, prot, &b);
    batch_finish(&b);
    return PT_OK;
}

