/*
 * pt_model.c - the reference model of the paging core (contract in
 * pt_model.h): the hot area's leaves and the entry count of each page
 * table on their paths, a frame source that runs dry on demand, and one
 * function per paging-core (pt.h) operation that runs it on the fake machine
 * (tests/host/fake_cpu.c), predicts it from the model and compares.
 * Linked into tests/host/test_pt_model.c (seeded operations) and
 * tests/fuzz/fuzz_pt.c (operations decoded from libFuzzer's bytes).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_cpu.h"
#include "pmm.h"
#include "pt_model.h"
#include "strategy.h"

struct leaf {
    uint8_t present;
    uint8_t prot;
    uint8_t swapped;      /* 4 KiB only: a swap entry (present is 0) */
    uint32_t slot;        /* swapped: its slot */
    uint64_t pa;
};

/* The model: leaves by size, and how many entries each table holds. The
 * arrays are flat, indexed by cluster, region (region_ix), slot (slot_ix)
 * and page; sized for the config of the last model_start. */
static struct {
    struct model_config cfg; /* of the last model_start */
    struct leaf *g1;      /* per region */
    struct leaf *m2;      /* per slot */
    struct leaf *k4;      /* per slot, MODEL_PAGES each */
    unsigned *in_pt;      /* per slot: 4 KiB leaves, the PT's entries */
    unsigned *in_pd;      /* per region: PD entries in use */
    unsigned *in_pdpt;    /* per cluster: PDPT entries in use */
    size_t clusters, regions, slots; /* totals the arrays hold */
    unsigned leaves;
    unsigned swaps;       /* swap entries: used entries of their PTs, not leaves */
    bool nx;              /* the CPU has NX, so prot reads back as mapped */
    bool failed;
    uint64_t baseline_used; /* frames in use as booted (the PML4, the loader's) */
    unsigned boot_tables, boot_leaves; /* pt_visit's count as booted: the loader's */
} m;

/* ---- reporting: the first failed check goes to the driver ---- */

__attribute__((format(printf, 2, 3)))
static bool failed_at(int line, const char *fmt, ...)
{
    if (m.failed)
        return false;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    m.failed = true;
    m.cfg.fail(__FILE__, line, msg);
    return false;
}

/* EXPECT(cond, fmt, ...): true when cond holds; otherwise false, and the
 * first failure is reported (the message is only formatted then). A GNU
 * statement expression, so it can stand alone as a statement. */
#define EXPECT(cond, ...)                                                      \
    ({                                                                         \
        bool expect_ok_ = (cond);                                              \
        if (!expect_ok_)                                                       \
            failed_at(__LINE__, __VA_ARGS__);                                  \
        expect_ok_;                                                            \
    })

#define U64(x) ((unsigned long long)(x))

bool model_failed(void)
{
    return m.failed;
}

/* ---- positions in the hot area ---- */

static inline size_t region_ix(struct model_pos q)
{
    return (size_t)q.c * m.cfg.regions + q.g;
}

static inline size_t slot_ix(struct model_pos q)
{
    return region_ix(q) * m.cfg.slots + q.s;
}

static inline uint64_t pos_va(struct model_pos q)
{
    return m.cfg.cluster_base[q.c] + q.g * MODEL_1G + q.s * MODEL_2M + q.p * MODEL_4K;
}

struct model_pos model_align(struct model_pos q, uint64_t size)
{
    if (size >= MODEL_2M)
        q.p = 0;
    if (size == MODEL_1G)
        q.s = 0;
    return q;
}

static inline struct model_pos pos_add(struct model_pos q, uint64_t pages)
{
    uint64_t n = q.s * MODEL_PAGES + q.p + pages;
    q.s = (unsigned)(n / MODEL_PAGES);
    q.p = (unsigned)(n % MODEL_PAGES);
    return q;
}

/* ---- the model's state ---- */

static void *zalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (p == NULL) {
        fprintf(stderr, "pt_model: out of memory for the model\n");
        exit(1);
    }
    return p;
}

/* Empty arrays for cfg: reused when the sizes match (the fuzzer starts
 * the model once per input). */
static void clear_arrays(const struct model_config *cfg)
{
    size_t clusters = cfg->clusters, regions = clusters * cfg->regions;
    size_t slots = regions * cfg->slots;
    if (clusters != m.clusters || regions != m.regions || slots != m.slots) {
        free(m.g1), free(m.m2), free(m.k4), free(m.in_pt), free(m.in_pd), free(m.in_pdpt);
        m.g1 = zalloc(regions, sizeof(*m.g1));
        m.m2 = zalloc(slots, sizeof(*m.m2));
        m.k4 = zalloc(slots * MODEL_PAGES, sizeof(*m.k4));
        m.in_pt = zalloc(slots, sizeof(*m.in_pt));
        m.in_pd = zalloc(regions, sizeof(*m.in_pd));
        m.in_pdpt = zalloc(clusters, sizeof(*m.in_pdpt));
        m.clusters = clusters, m.regions = regions, m.slots = slots;
        return;
    }
    memset(m.g1, 0, regions * sizeof(*m.g1));
    memset(m.m2, 0, slots * sizeof(*m.m2));
    memset(m.k4, 0, slots * MODEL_PAGES * sizeof(*m.k4));
    memset(m.in_pt, 0, slots * sizeof(*m.in_pt));
    memset(m.in_pd, 0, regions * sizeof(*m.in_pd));
    memset(m.in_pdpt, 0, clusters * sizeof(*m.in_pdpt));
}

static void count_boot_entry(const struct pt_visit_entry *x, void *ctx)
{
    (void)ctx;
    m.boot_tables += x->kind == PT_VISIT_TABLE;
    m.boot_leaves += x->kind == PT_VISIT_LEAF;
}

/* The strategy's own tables and leaves, as the fake loader made them
 * (none for offset): every later count is the model's plus these. */
static void count_boot_tables(void)
{
    m.boot_tables = m.boot_leaves = 0;
    pt_visit(1, count_boot_entry, NULL);
}

void model_start(const struct model_config *cfg, uint32_t cpu_features)
{
    clear_arrays(cfg);
    m.cfg = *cfg;
    m.leaves = m.swaps = 0;
    m.nx = (cpu_features & (1u << CPU_NX)) != 0;
    m.failed = false;
    fake_boot(cpu_features);
    struct pmm_counters pc;
    pmm_get_counters(strategy_table_zone(), &pc);
    m.baseline_used = pc.used;
    count_boot_tables();
}

/* The model's slot for a leaf of size at q (present or not). */
static struct leaf *leaf_at(struct model_pos q, uint64_t size)
{
    if (size == MODEL_1G)
        return &m.g1[region_ix(q)];
    if (size == MODEL_2M)
        return &m.m2[slot_ix(q)];
    return &m.k4[slot_ix(q) * MODEL_PAGES + q.p];
}

/* The leaf covering q, its size and first address; NULL if none. */
static struct leaf *covering(struct model_pos q, uint64_t *size, uint64_t *start)
{
    size_t slot = slot_ix(q);
    if (m.g1[region_ix(q)].present) {
        *size = MODEL_1G;
        *start = pos_va((struct model_pos){ q.c, q.g, 0, 0 });
        return &m.g1[region_ix(q)];
    }
    if (m.m2[slot].present) {
        *size = MODEL_2M;
        *start = pos_va((struct model_pos){ q.c, q.g, q.s, 0 });
        return &m.m2[slot];
    }
    struct leaf *l = &m.k4[slot * MODEL_PAGES + q.p];
    *size = MODEL_4K;
    *start = pos_va(q);
    return l->present ? l : NULL;
}

/* Page tables the model says exist, the PML4 included. */
static unsigned model_tables(void)
{
    unsigned n = 1;
    for (size_t i = 0; i < m.clusters; i++)
        n += m.in_pdpt[i] > 0;
    for (size_t i = 0; i < m.regions; i++)
        n += m.in_pd[i] > 0;
    for (size_t i = 0; i < m.slots; i++)
        n += m.in_pt[i] > 0;
    return n;
}

/* An entry of size at q (a leaf, or a 4 KiB swap entry) appeared (delta
 * +1) or went (-1): its table gains or loses an entry, and a table that
 * thereby appeared or emptied does the same in its parent. */
static void count_entry(struct model_pos q, uint64_t size, int delta)
{
    unsigned d = (unsigned)delta, edge = delta > 0; /* count of a new / gone table */
    if (size == MODEL_4K && (m.in_pt[slot_ix(q)] += d) != edge)
        return; /* the PT existed before and still exists */
    if (size <= MODEL_2M && (m.in_pd[region_ix(q)] += d) != edge)
        return;
    m.in_pdpt[q.c] += d;
}

static void count_leaf(struct model_pos q, uint64_t size, int delta)
{
    m.leaves += (unsigned)delta;
    count_entry(q, size, delta);
}

static void leaf_add(struct model_pos q, uint64_t size, uint64_t pa, uint32_t prot)
{
    *leaf_at(q, size) = (struct leaf){ .present = 1, .prot = (uint8_t)prot, .pa = pa };
    count_leaf(q, size, 1);
}

static void leaf_remove(struct model_pos q, uint64_t size)
{
    *leaf_at(q, size) = (struct leaf){ 0 };
    count_leaf(q, size, -1);
}

/* Tables a map of size at q has to allocate. */
static unsigned tables_missing(struct model_pos q, uint64_t size)
{
    unsigned need = m.in_pdpt[q.c] == 0;
    if (size <= MODEL_2M)
        need += m.in_pd[region_ix(q)] == 0;
    if (size == MODEL_4K)
        need += m.in_pt[slot_ix(q)] == 0;
    return need;
}

/* A huge leaf's entry at q points to a table of smaller pages instead. */
static bool table_in_way(struct model_pos q, uint64_t size)
{
    return (size == MODEL_2M && m.in_pt[slot_ix(q)]) ||
           (size == MODEL_1G && m.in_pd[region_ix(q)]);
}

/* What translate reports for a leaf mapped with prot: without NX every
 * page executes. */
static uint32_t seen_prot(uint32_t prot)
{
    return m.nx ? prot : prot | PT_PROT_EXEC;
}

/* ---- a frame source that may run dry ---- */

static int frames_left;

static enum pt_status limited_alloc(void *ctx, paddr_t *out)
{
    (void)ctx;
    if (frames_left == 0 || pmm_alloc(strategy_table_zone(), out) != PMM_OK)
        return PT_ERR_NO_FRAMES;
    frames_left--;
    return PT_OK;
}

static void limited_free(void *ctx, paddr_t frame)
{
    (void)ctx;
    pmm_free(strategy_table_zone(), frame);
}

static const struct pt_frame_source limited = { limited_alloc, limited_free, NULL };

/* ---- single-page operations ---- */

static enum pt_status predict_map(struct model_pos q, uint64_t size, int frames)
{
    uint64_t csize, start;
    struct leaf *l = covering(q, &csize, &start);
    if (l && csize > size)
        return PT_ERR_HUGE_IN_WAY;
    if (l && csize == size)
        return PT_ERR_ALREADY_MAPPED;
    if (size == MODEL_4K && leaf_at(q, MODEL_4K)->swapped)
        return PT_ERR_ALREADY_MAPPED;   /* nothing maps over a swap entry */
    if (table_in_way(q, size))
        return PT_ERR_TABLE_IN_WAY;
    if (frames != MODEL_FRAMES_UNLIMITED && (int)tables_missing(q, size) > frames)
        return PT_ERR_NO_FRAMES;
    return PT_OK;
}

enum pt_status model_map(struct model_pos q, uint64_t size, uint64_t pa, uint32_t prot,
                         int frames)
{
    enum pt_status want = predict_map(q, size, frames);
    uint64_t inv = fake_cpu.invlpgs, fl = fake_cpu.flushes;
    frames_left = frames;
    enum pt_status got = pt_map(vaddr(pos_va(q)), paddr(pa), size, prot,
                                frames == MODEL_FRAMES_UNLIMITED ? NULL : &limited);
    EXPECT(got == want, "map 0x%llx size 0x%llx: %s, want %s", U64(pos_va(q)), U64(size),
           pt_status_name(got), pt_status_name(want));
    EXPECT(fake_cpu.flushes == fl, "map flushed everything");
    if (want == PT_OK && !(prot & PT_PROT_USER))
        EXPECT(fake_cpu.invlpgs == inv, "a new kernel mapping was invalidated");
    if (want == PT_OK)
        leaf_add(q, size, pa, prot);
    return got;
}

enum pt_status model_unmap(struct model_pos q)
{
    uint64_t size, start;
    struct leaf *l = covering(q, &size, &start);
    enum pt_status want = !l ? PT_ERR_UNMAPPED : start != pos_va(q) ? PT_ERR_MISALIGNED : PT_OK;
    paddr_t frame = paddr(0);
    uint64_t got_size = 0, inv = fake_cpu.invlpgs;
    enum pt_status got = pt_unmap(vaddr(pos_va(q)), &frame, &got_size);
    EXPECT(got == want, "unmap 0x%llx: %s, want %s", U64(pos_va(q)), pt_status_name(got),
           pt_status_name(want));
    if (want != PT_OK)
        return got;
    EXPECT(frame.pa == l->pa && got_size == size, "unmap returned 0x%llx/0x%llx",
           U64(frame.pa), U64(got_size));
    EXPECT(fake_cpu.invlpgs - inv == 1, "unmap: %llu invlpgs", U64(fake_cpu.invlpgs - inv));
    leaf_remove(model_align(q, size), size);
    return got;
}

static enum pt_status predict_protect(struct model_pos q, uint64_t size, struct leaf **out)
{
    uint64_t csize, start;
    *out = covering(q, &csize, &start);
    if (*out)
        return csize == size ? PT_OK : PT_ERR_NOT_LEAF_OF_SIZE;
    return table_in_way(q, size) ? PT_ERR_NOT_LEAF_OF_SIZE : PT_ERR_UNMAPPED;
}

enum pt_status model_protect(struct model_pos q, uint64_t size, uint32_t prot)
{
    struct leaf *l;
    enum pt_status want = predict_protect(q, size, &l);
    enum pt_status got = pt_protect(vaddr(pos_va(q)), size, prot);
    EXPECT(got == want, "protect 0x%llx size 0x%llx: %s, want %s", U64(pos_va(q)), U64(size),
           pt_status_name(got), pt_status_name(want));
    if (want == PT_OK)
        l->prot = (uint8_t)prot;
    return got;
}

enum pt_status model_translate(struct model_pos q, uint64_t offset)
{
    uint64_t size, start, va = pos_va(q) + offset;
    struct leaf *l = covering(q, &size, &start);
    struct pt_translation t;
    enum pt_status got = pt_translate(vaddr(va), &t);
    EXPECT(got == (l ? PT_OK : PT_ERR_UNMAPPED), "translate 0x%llx: %s", U64(va),
           pt_status_name(got));
    if (l && got == PT_OK)
        EXPECT(t.pa.pa == l->pa + (va - start) && pt_tr_page_size(&t) == size &&
                   pt_tr_prot(&t) == seen_prot(l->prot),
               "translate 0x%llx: pa 0x%llx size 0x%llx prot 0x%x, want 0x%llx 0x%llx 0x%x",
               U64(va), U64(t.pa.pa), U64(pt_tr_page_size(&t)), pt_tr_prot(&t),
               U64(l->pa + (va - start)), U64(size), seen_prot(l->prot));
    return got;
}

/* ---- range operations, inside one region's hot slots (or all of it) ---- */

enum range_step { RANGE_PREDICT, RANGE_APPLY };

/* The page-table frames a range map still may take, and the tables it has
 * made so far (a span stays in one region: one PDPT, one PD, and the PT
 * of the slot it is in). */
struct range_budget {
    int left;             /* or MODEL_FRAMES_UNLIMITED */
    bool pdpt, pd, pt;
    size_t pt_slot;       /* the slot whose PT `pt` is */
};

static bool budget_take(struct range_budget *b, bool missing, bool *made)
{
    if (!missing || *made)
        return true;
    if (b->left == 0)
        return false;
    if (b->left != MODEL_FRAMES_UNLIMITED)
        b->left--;
    *made = true;
    return true;
}

/* The tables pt_map_range's walk makes, top down, before it writes a leaf
 * of size at q; false if the frames run out first. */
static bool budget_tables(struct range_budget *b, struct model_pos q, uint64_t size)
{
    if (!budget_take(b, m.in_pdpt[q.c] == 0, &b->pdpt) ||
        !budget_take(b, m.in_pd[region_ix(q)] == 0, &b->pd))
        return false;
    if (size != MODEL_4K)
        return true;
    if (b->pt_slot != slot_ix(q))
        b->pt = false, b->pt_slot = slot_ix(q);
    return budget_take(b, m.in_pt[slot_ix(q)] == 0, &b->pt);
}

/* Emulates pt_map_range's walk of one region with `frames` page-table
 * frames: the status it returns, and with RANGE_APPLY the leaves it leaves
 * behind on success. */
static enum pt_status range_map(struct model_span r, uint64_t pa, uint32_t prot, uint32_t opts,
                                int frames, enum range_step step)
{
    uint64_t left = r.pages, at = pa;
    struct model_pos q = r.q;
    struct range_budget b = { frames, false, false, false, (size_t)-1 };
    while (left) {
        bool fits = (opts & PT_RANGE_ALLOW_HUGE) && q.p == 0 && at % MODEL_2M == 0 &&
                    left >= MODEL_PAGES;
        if (leaf_at(q, MODEL_2M)->present)
            return fits ? PT_ERR_ALREADY_MAPPED : PT_ERR_HUGE_IN_WAY;
        if (fits && m.in_pt[slot_ix(q)] == 0) {
            if (!budget_tables(&b, q, MODEL_2M))
                return PT_ERR_NO_FRAMES;
            if (step == RANGE_APPLY)
                leaf_add(q, MODEL_2M, at, prot);
            q = pos_add(q, MODEL_PAGES), at += MODEL_2M, left -= MODEL_PAGES;
            continue;
        }
        if (leaf_at(q, MODEL_4K)->present || leaf_at(q, MODEL_4K)->swapped)
            return PT_ERR_ALREADY_MAPPED;
        if (!budget_tables(&b, q, MODEL_4K))
            return PT_ERR_NO_FRAMES;
        if (step == RANGE_APPLY)
            leaf_add(q, MODEL_4K, at, prot);
        q = pos_add(q, 1), at += MODEL_4K, left--;
    }
    return PT_OK;
}

/* Everything pt_visit sees, the used-entry counts of the tables
 * included, folded into one number (FNV-1a over the fields). Except the
 * U bit of a table entry: a failed user range map may leave the U it added
 * to an existing table entry (pt.h: harmless, the leaves still decide). */
static void fingerprint_add(const struct pt_visit_entry *x, void *ctx)
{
    uint64_t *h = ctx;
    bool table = x->kind == PT_VISIT_TABLE;
    const uint64_t fields[] = { x->kind, x->level, x->index, x->va.va,
                                x->entry & ~(table ? PTE_U : 0), x->phys.pa,
                                x->prot & ~(table ? PT_PROT_USER : 0), x->used };
    for (unsigned i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        *h = (*h ^ fields[i]) * 0x100000001B3ULL;
}

static uint64_t fingerprint(void)
{
    uint64_t h = 0xCBF29CE484222325ULL;
    pt_visit(1, fingerprint_add, &h);
    return h;
}

enum pt_status model_map_range(struct model_span r, uint64_t pa, uint32_t prot, uint32_t opts,
                               int frames)
{
    enum pt_status want = m.g1[region_ix(r.q)].present
                              ? PT_ERR_HUGE_IN_WAY
                              : range_map(r, pa, prot, opts, frames, RANGE_PREDICT);
    uint64_t before = want != PT_OK ? fingerprint() : 0;
    frames_left = frames;
    enum pt_status got = pt_map_range(vaddr(pos_va(r.q)), paddr(pa), r.pages * MODEL_4K, prot,
                                      opts, frames == MODEL_FRAMES_UNLIMITED ? NULL : &limited);
    EXPECT(got == want, "map_range 0x%llx +%llu pages huge %d frames %d: %s, want %s",
           U64(pos_va(r.q)), U64(r.pages), (opts & PT_RANGE_ALLOW_HUGE) != 0, frames,
           pt_status_name(got), pt_status_name(want));
    if (want == PT_OK)
        range_map(r, pa, prot, opts, MODEL_FRAMES_UNLIMITED, RANGE_APPLY);
    else
        EXPECT(fingerprint() == before, "map_range 0x%llx +%llu pages frames %d failed (%s) "
               "and did not leave the tables as they were", U64(pos_va(r.q)), U64(r.pages),
               frames, pt_status_name(got));
    return got;
}

enum pt_status model_map_region(struct model_pos q, uint64_t pa)
{
    q = model_align(q, MODEL_1G);
    enum pt_status want = predict_map(q, MODEL_1G, MODEL_FRAMES_UNLIMITED);
    if (want == PT_ERR_TABLE_IN_WAY) /* the range descends and meets a leaf */
        want = PT_ERR_ALREADY_MAPPED;
    if (want == PT_ERR_ALREADY_MAPPED && m.in_pd[region_ix(q)] && !m.g1[region_ix(q)].present) {
        struct model_span all = { q, (uint64_t)m.cfg.slots * MODEL_PAGES };
        want = range_map(all, pa, 0, PT_RANGE_ALLOW_HUGE, MODEL_FRAMES_UNLIMITED, RANGE_PREDICT);
    }
    enum pt_status got = pt_map_range(vaddr(pos_va(q)), paddr(pa), MODEL_1G, 0,
                                      PT_RANGE_ALLOW_HUGE, NULL);
    EXPECT(got == want, "map_range of region 0x%llx: %s, want %s", U64(pos_va(q)),
           pt_status_name(got), pt_status_name(want));
    if (want == PT_OK)
        leaf_add(q, MODEL_1G, pa, 0);
    return got;
}

/* A huge leaf straddling either end refuses the whole edit. */
static bool straddles(struct model_span r)
{
    struct model_pos ends[2] = { r.q, pos_add(r.q, r.pages - 1) };
    uint64_t first = pos_va(r.q), last = first + r.pages * MODEL_4K - 1;
    for (unsigned i = 0; i < 2; i++) {
        uint64_t size, start;
        struct leaf *l = covering(ends[i], &size, &start);
        if (l && size > MODEL_4K && (start < first || start + size - 1 > last))
            return true;
    }
    return false;
}

enum range_edit { EDIT_UNMAP, EDIT_PROTECT };

/* Removes every leaf inside r, or gives it prot. */
static void edit_leaves(struct model_span r, enum range_edit edit, uint32_t prot)
{
    struct model_pos q = r.q;
    for (uint64_t left = r.pages; left;) {
        uint64_t size, start, step = 1;
        struct leaf *l = covering(q, &size, &start);
        if (l && size == MODEL_2M)
            step = MODEL_PAGES;
        if (l && edit == EDIT_UNMAP)
            leaf_remove(q, size);
        else if (l)
            l->prot = (uint8_t)prot;
        q = pos_add(q, step);
        left -= step;
    }
}

static enum pt_status edit_range(struct model_span r, enum range_edit edit, uint32_t prot)
{
    bool whole = m.g1[region_ix(r.q)].present;
    enum pt_status want = (whole || straddles(r)) ? PT_ERR_HUGE_IN_WAY : PT_OK;
    vaddr_t va = vaddr(pos_va(r.q));
    enum pt_status got = edit == EDIT_UNMAP ? pt_unmap_range(va, r.pages * MODEL_4K)
                                            : pt_protect_range(va, r.pages * MODEL_4K, prot);
    EXPECT(got == want, "%s_range 0x%llx +%llu pages: %s, want %s",
           edit == EDIT_UNMAP ? "unmap" : "protect", U64(va.va), U64(r.pages),
           pt_status_name(got), pt_status_name(want));
    if (want == PT_OK)
        edit_leaves(r, edit, prot);
    return got;
}

enum pt_status model_unmap_range(struct model_span r)
{
    return edit_range(r, EDIT_UNMAP, 0);
}

enum pt_status model_protect_range(struct model_span r, uint32_t prot)
{
    return edit_range(r, EDIT_PROTECT, prot);
}

void model_unmap_region(struct model_pos q)
{
    q = model_align(q, MODEL_1G);
    EXPECT(pt_unmap_range(vaddr(pos_va(q)), MODEL_1G) == PT_OK,
           "unmap of the whole region 0x%llx", U64(pos_va(q)));
    if (m.g1[region_ix(q)].present)
        leaf_remove(q, MODEL_1G);
    else
        edit_leaves((struct model_span){ q, (uint64_t)m.cfg.slots * MODEL_PAGES }, EDIT_UNMAP, 0);
}

/* ---- swap entries (pt_swap.c) ---- */

static bool pos_of(uint64_t va, struct model_pos *q);

/* The level-1 entry a present 4 KiB leaf of the model reads as (count
 * bits masked): its frame, P, and the permission bits of its prot. */
static bool leaf_entry_matches(const struct leaf *l, pte_t e)
{
    bool nx_ok = !m.nx || ((e & PTE_NX) != 0) == !(l->prot & PT_PROT_EXEC);
    return (e & PTE_P) && (e & PTE_ADDR_MASK) == l->pa &&
           ((e & PTE_W) != 0) == ((l->prot & PT_PROT_WRITE) != 0) &&
           ((e & PTE_U) != 0) == ((l->prot & PT_PROT_USER) != 0) && nx_ok;
}

/* What walk_down to level 1 finds at q: PT_ERR_HUGE_IN_WAY under a huge
 * leaf, PT_ERR_UNMAPPED without a PT, else PT_OK. */
static enum pt_status walk_to_pt(struct model_pos q)
{
    if (m.g1[region_ix(q)].present || m.m2[slot_ix(q)].present)
        return PT_ERR_HUGE_IN_WAY;
    return m.in_pt[slot_ix(q)] ? PT_OK : PT_ERR_UNMAPPED;
}

enum pt_status model_entry_get(struct model_pos q)
{
    enum pt_status want = walk_to_pt(q);
    struct leaf *l = leaf_at(q, MODEL_4K);
    pte_t e = 1;
    enum pt_status got = pt_entry_get(vaddr(pos_va(q)), &e);
    EXPECT(got == want, "entry_get 0x%llx: %s, want %s", U64(pos_va(q)), pt_status_name(got),
           pt_status_name(want));
    if (got != PT_OK) {
        EXPECT(e == 0, "entry_get 0x%llx failed with entry 0x%llx", U64(pos_va(q)), U64(e));
        return got;
    }
    if (l->present)
        EXPECT(leaf_entry_matches(l, e), "entry_get 0x%llx: 0x%llx, the model's leaf 0x%llx"
               " prot 0x%x", U64(pos_va(q)), U64(e), U64(l->pa), l->prot);
    else
        EXPECT(e == (l->swapped ? pte_swap_entry(l->slot) : 0),
               "entry_get 0x%llx: 0x%llx, want %s", U64(pos_va(q)), U64(e),
               l->swapped ? "its swap entry" : "0");
    return got;
}

enum pt_status model_swap_out(struct model_pos q, pte_t swap)
{
    struct leaf *l = leaf_at(q, MODEL_4K);
    enum pt_status walked = walk_to_pt(q);
    bool valid = pte_is_swap(swap) && !(swap & ~(PTE_SWAP | PTE_SWAP_SLOT_MASK));
    enum pt_status want = !valid ? PT_ERR_BAD_PROT
                        : walked == PT_ERR_HUGE_IN_WAY ? PT_ERR_NOT_LEAF_OF_SIZE
                        : walked != PT_OK || !l->present ? PT_ERR_UNMAPPED : PT_OK;
    uint64_t inv = fake_cpu.invlpgs, fl = fake_cpu.flushes;
    pte_t old = 0;
    enum pt_status got = pt_swap_out(vaddr(pos_va(q)), swap, &old);
    EXPECT(got == want, "swap_out 0x%llx (0x%llx): %s, want %s", U64(pos_va(q)), U64(swap),
           pt_status_name(got), pt_status_name(want));
    if (want != PT_OK) {
        EXPECT(fake_cpu.invlpgs == inv && fake_cpu.flushes == fl, "a refused swap_out"
               " invalidated");
        return got;
    }
    EXPECT(leaf_entry_matches(l, old), "swap_out 0x%llx: old 0x%llx, the model's leaf 0x%llx",
           U64(pos_va(q)), U64(old), U64(l->pa));
    /* the kernel's space is the active one: the leaf's translation goes */
    EXPECT(fake_cpu.invlpgs - inv == 1 && fake_cpu.flushes == fl,
           "swap_out: %llu invlpgs, %llu flushes", U64(fake_cpu.invlpgs - inv),
           U64(fake_cpu.flushes - fl));
    *l = (struct leaf){ .swapped = 1, .slot = pte_swap_slot(swap), .prot = l->prot };
    m.leaves--;
    m.swaps++;
    return got;
}

enum pt_status model_swap_in(struct model_pos q, uint64_t pa, uint32_t prot)
{
    struct leaf *l = leaf_at(q, MODEL_4K);
    enum pt_status walked = walk_to_pt(q);
    enum pt_status want = prot & ~PT_PROT_ALL ? PT_ERR_BAD_PROT
                        : walked == PT_ERR_HUGE_IN_WAY || l->present ? PT_ERR_ALREADY_MAPPED
                        : walked != PT_OK || !l->swapped ? PT_ERR_UNMAPPED : PT_OK;
    /* U stays what the page had: pt_swap_in adds no U above the leaf */
    if (l->swapped)
        prot = (prot & ~PT_PROT_USER) | (l->prot & PT_PROT_USER);
    uint64_t inv = fake_cpu.invlpgs, fl = fake_cpu.flushes;
    pte_t old = 0;
    enum pt_status got = pt_swap_in(vaddr(pos_va(q)), paddr(pa), prot, &old);
    EXPECT(got == want, "swap_in 0x%llx: %s, want %s", U64(pos_va(q)), pt_status_name(got),
           pt_status_name(want));
    EXPECT(fake_cpu.invlpgs == inv && fake_cpu.flushes == fl,
           "swap_in invalidated (a not-present entry is never cached)");
    if (want != PT_OK)
        return got;
    EXPECT(old == pte_swap_entry(l->slot), "swap_in 0x%llx: old 0x%llx, want slot %u",
           U64(pos_va(q)), U64(old), l->slot);
    *l = (struct leaf){ .present = 1, .prot = (uint8_t)prot, .pa = pa };
    m.leaves++;
    m.swaps--;
    return got;
}

enum pt_status model_swap_clear(struct model_pos q)
{
    struct leaf *l = leaf_at(q, MODEL_4K);
    enum pt_status want = walk_to_pt(q) == PT_OK && l->swapped ? PT_OK : PT_ERR_UNMAPPED;
    unsigned tables = model_tables();
    uint64_t inv = fake_cpu.invlpgs, fl = fake_cpu.flushes;
    pte_t old = 0;
    enum pt_status got = pt_swap_clear(vaddr(pos_va(q)), &old);
    EXPECT(got == want, "swap_clear 0x%llx: %s, want %s", U64(pos_va(q)), pt_status_name(got),
           pt_status_name(want));
    if (want != PT_OK)
        return got;
    EXPECT(old == pte_swap_entry(l->slot), "swap_clear 0x%llx: old 0x%llx, want slot %u",
           U64(pos_va(q)), U64(old), l->slot);
    *l = (struct leaf){ 0 };
    m.swaps--;
    count_entry(q, MODEL_4K, -1);
    /* the entry was never cached; tables it emptied cost one INVLPG (rule 4) */
    unsigned freed = tables - model_tables();
    EXPECT(fake_cpu.invlpgs - inv == (freed ? 1 : 0) && fake_cpu.flushes == fl,
           "swap_clear freed %u tables: %llu invlpgs, %llu flushes", freed,
           U64(fake_cpu.invlpgs - inv), U64(fake_cpu.flushes - fl));
    return got;
}

/* ---- fork's copy (pt_clone.c) ---- */

struct clone_seen {
    struct model_span r;
    unsigned leaves, swaps, tables, reported, reported_swaps;
    unsigned pt_entries[8];        /* used entries of dst's PTs, by slot from r's */
};

/* pt_space_clone's leaves(): n entries of one new PT of dst, from the
 * range's first in it; each must be the model's entry, W gone if COW. */
static struct {
    struct clone_seen *seen;
    uint32_t clear;
} clone_ctx;

static void clone_reported(const pte_t *leaf, unsigned n, void *ctx)
{
    (void)ctx;
    struct clone_seen *c = clone_ctx.seen;
    for (unsigned k = 0; k < n; k++) {
        c->reported += (leaf[k] & PTE_P) != 0;
        c->reported_swaps += pte_is_swap(leaf[k]);
    }
}

/* An entry of dst as pt_visit reports it: in r, the model's, W gone if
 * the copy was COW; its PT's used count as the model's entries there. */
static void clone_check_entry(const struct pt_visit_entry *x, void *ctx)
{
    struct clone_seen *c = ctx;
    uint64_t first = pos_va(c->r.q), end = first + c->r.pages * MODEL_4K;
    uint64_t base = m.cfg.cluster_base[c->r.q.c];
    if (x->va.va + x->span <= base || x->va.va >= base + m.cfg.regions * MODEL_1G)
        return;                    /* another cluster, or the kernel's shared half */
    if (x->kind == PT_VISIT_TABLE) {
        c->tables++;
        return;
    }
    struct model_pos q;
    if (!EXPECT(x->level == 1 && x->va.va >= first && x->va.va < end,
                "clone: dst has a level-%u entry at 0x%llx outside 0x%llx-0x%llx", x->level,
                U64(x->va.va), U64(first), U64(end)) || !pos_of(x->va.va, &q))
        return;
    struct leaf *l = leaf_at(q, MODEL_4K);
    if (x->kind == PT_VISIT_SWAP) {
        c->swaps++;
        EXPECT(l->swapped && x->entry == pte_swap_entry(l->slot),
               "clone: dst's swap entry 0x%llx at 0x%llx is not the model's", U64(x->entry),
               U64(x->va.va));
    } else {
        c->leaves++;
        uint32_t prot = l->prot & ~clone_ctx.clear;
        EXPECT(x->kind == PT_VISIT_LEAF && l->present && x->phys.pa == l->pa &&
                   x->span == MODEL_4K && x->prot == seen_prot(prot),
               "clone: dst's entry at 0x%llx (kind %d, 0x%llx, prot 0x%x) is not the model's",
               U64(x->va.va), x->kind, U64(x->phys.pa), x->prot);
    }
}

/* Used entries of the PT of each slot of dst in r, from pt_visit's level-2
 * table entries. */
static void clone_count_pts(const struct pt_visit_entry *x, void *ctx)
{
    struct clone_seen *c = ctx;
    uint64_t region = pos_va((struct model_pos){ c->r.q.c, c->r.q.g, 0, 0 });
    if (x->kind != PT_VISIT_TABLE || x->level != 2 || x->va.va < region ||
        x->va.va >= region + MODEL_1G)
        return;
    unsigned s = (unsigned)((x->va.va - region) / MODEL_2M);
    if (EXPECT(s >= c->r.q.s && s - c->r.q.s < 8, "clone: dst has a PT at 0x%llx",
               U64(x->va.va)))
        c->pt_entries[s - c->r.q.s] = x->used;
}

static void clone_leaf_gone(vaddr_t va, paddr_t frame, uint64_t size, void *ctx)
{
    (void)va, (void)frame, (void)size;
    ((struct clone_seen *)ctx)->leaves--;
}

static void clone_swap_gone(vaddr_t va, pte_t e, void *ctx)
{
    (void)va, (void)e;
    ((struct clone_seen *)ctx)->swaps--;
}

enum pt_status model_clone(struct model_span r, uint32_t opts)
{
    EXPECT(m.cfg.cluster_base[r.q.c] < USER_END &&
               r.q.s + (r.q.p + r.pages + MODEL_PAGES - 1) / MODEL_PAGES <= 8,
           "model_clone: a span of a lower-half cluster, at most 8 slots");
    struct pmm_counters pc;
    pmm_get_counters(strategy_table_zone(), &pc);
    uint64_t used_before = pc.used;
    struct pt_space dst;
    if (!EXPECT(pt_space_create(&dst) == PT_OK, "clone: no space for dst"))
        return PT_ERR_NO_FRAMES;
    /* the model's view of r: the leaves (those with W), the swap entries,
     * the PTs that get entries, and whether a huge leaf is there */
    unsigned leaves = 0, writable = 0, swaps = 0, pts = 0, per_pt[8] = { 0 };
    bool huge = m.g1[region_ix(r.q)].present;
    struct model_pos q = r.q;
    for (uint64_t k = 0; k < r.pages; k++, q = pos_add(q, 1)) {
        struct leaf *l = leaf_at(q, MODEL_4K);
        huge |= m.m2[slot_ix(q)].present;
        leaves += l->present;
        writable += l->present && (l->prot & PT_PROT_WRITE);
        swaps += l->swapped;
        per_pt[q.s - r.q.s] += l->present || l->swapped;
    }
    for (unsigned i = 0; i < 8; i++)
        pts += per_pt[i] != 0;
    enum pt_status want = opts & ~PT_CLONE_COW ? PT_ERR_BAD_PROT
                        : huge ? PT_ERR_HUGE_IN_WAY : PT_OK;
    struct clone_seen seen = { .r = r };
    clone_ctx.seen = &seen;
    clone_ctx.clear = (opts & PT_CLONE_COW) ? PT_PROT_WRITE : 0;
    uint64_t inv = fake_cpu.invlpgs, fl = fake_cpu.flushes, copied = 7;
    enum pt_status got = pt_space_clone(&dst, &pt_kernel_space, vaddr(pos_va(r.q)),
                                        r.pages * MODEL_4K, opts, clone_reported, NULL, &copied);
    EXPECT(got == want, "clone 0x%llx +%llu pages opts %u: %s, want %s", U64(pos_va(r.q)),
           U64(r.pages), opts, pt_status_name(got), pt_status_name(want));
    EXPECT(pt_space_selected() == &pt_kernel_space, "clone left another space selected");
    if (got == PT_OK) {
        EXPECT(copied == leaves && seen.reported == leaves && seen.reported_swaps == swaps,
               "clone: %llu copied, %u leaves and %u swap entries reported, model %u and %u",
               U64(copied), seen.reported, seen.reported_swaps, leaves, swaps);
        /* src (active) lost W on its writable leaves: one INVLPG each, or
         * one full flush past PT_FLUSH_THRESHOLD */
        unsigned lost = opts & PT_CLONE_COW ? writable : 0;
        bool flush = lost > PT_FLUSH_THRESHOLD;
        EXPECT(fake_cpu.invlpgs - inv == (flush ? 0 : lost) && fake_cpu.flushes - fl == flush,
               "clone: %u leaves lost W: %llu invlpgs, %llu flushes", lost,
               U64(fake_cpu.invlpgs - inv), U64(fake_cpu.flushes - fl));
        if (opts & PT_CLONE_COW) {
            q = r.q;
            for (uint64_t k = 0; k < r.pages; k++, q = pos_add(q, 1))
                if (leaf_at(q, MODEL_4K)->present)
                    leaf_at(q, MODEL_4K)->prot &= (uint8_t)~PT_PROT_WRITE;
        }
        pt_space_select(&dst);
        pt_visit(1, clone_check_entry, &seen);
        pt_visit(2, clone_count_pts, &seen);
        pt_space_select(NULL);
        /* dst: a PDPT and a PD when anything was copied, a PT per slot */
        unsigned want_tables = pts ? 2 + pts : 0;
        EXPECT(seen.leaves == leaves && seen.swaps == swaps && seen.tables == want_tables &&
                   pt_space_tables(&dst) == want_tables,
               "clone: dst has %u leaves, %u swap entries, %u tables (%llu counted), model"
               " %u, %u, %u", seen.leaves, seen.swaps, seen.tables,
               U64(pt_space_tables(&dst)), leaves, swaps, want_tables);
        for (unsigned i = 0; i < 8; i++)
            EXPECT(seen.pt_entries[i] == per_pt[i], "clone: dst's PT %u holds %u entries,"
                   " model %u", i, seen.pt_entries[i], per_pt[i]);
    } else {
        EXPECT(copied == 0 && fake_cpu.invlpgs == inv && fake_cpu.flushes == fl &&
                   pt_space_tables(&dst) == 0,
               "a refused clone changed something: %llu copied, %llu tables", U64(copied),
               U64(pt_space_tables(&dst)));
    }
    /* the copy goes: every leaf and swap entry reported once, every
     * table frame back */
    EXPECT(pt_space_destroy_swapped(&dst, clone_leaf_gone, clone_swap_gone, &seen) == PT_OK,
           "clone: dst could not be destroyed");
    pmm_get_counters(strategy_table_zone(), &pc);
    EXPECT(seen.leaves == 0 && seen.swaps == 0 && pc.used == used_before,
           "clone: destroying dst left %d leaves, %d swap entries and %lld frames",
           (int)seen.leaves, (int)seen.swaps, (long long)(pc.used - used_before));
    return got;
}

/* ---- whole-state checks ---- */

struct visit_count {
    unsigned leaves, tables, swaps;
    unsigned foreign; /* leaves outside the clusters: the loader's only */
};

static bool in_clusters(uint64_t va)
{
    for (unsigned c = 0; c < m.cfg.clusters; c++)
        if (va >= m.cfg.cluster_base[c] && va < m.cfg.cluster_base[c] + m.cfg.regions * MODEL_1G)
            return true;
    return false;
}

/* The hot-area position of va into *q; false (reported) if outside. */
static bool pos_of(uint64_t va, struct model_pos *q)
{
    const struct model_config *cfg = &m.cfg;
    unsigned c = 0;
    while (c < cfg->clusters &&
           !(va >= cfg->cluster_base[c] && va < cfg->cluster_base[c] + cfg->regions * MODEL_1G))
        c++;
    if (!EXPECT(c < cfg->clusters, "leaf at 0x%llx outside the clusters", U64(va)))
        return false;
    uint64_t off = va - cfg->cluster_base[c];
    *q = (struct model_pos){ c, (unsigned)(off / MODEL_1G), (unsigned)(off % MODEL_1G / MODEL_2M),
                             (unsigned)(off % MODEL_2M / MODEL_4K) };
    return EXPECT(q->s < cfg->slots, "leaf at 0x%llx outside the hot slots", U64(va));
}

/* A table entry of the hot area: its child's used entries (leaves and, in
 * a PT, swap entries) are the model's count. */
static void check_used(const struct pt_visit_entry *x)
{
    struct model_pos q;
    if (!in_clusters(x->va.va) || !pos_of(x->va.va, &q))
        return;
    unsigned want = x->level == 4 ? m.in_pdpt[q.c]
                  : x->level == 3 ? m.in_pd[region_ix(q)] : m.in_pt[slot_ix(q)];
    EXPECT(x->used == want, "the level-%u table at 0x%llx holds %u entries, model %u",
           x->level - 1, U64(x->va.va), x->used, want);
}

static void check_entry(const struct pt_visit_entry *x, void *ctx)
{
    struct visit_count *v = ctx;
    if (x->kind == PT_VISIT_TABLE) {
        v->tables++;
        check_used(x);
    }
    if (x->kind == PT_VISIT_SWAP) {
        struct model_pos q;
        v->swaps++;
        if (pos_of(x->va.va, &q))
            EXPECT(leaf_at(q, MODEL_4K)->swapped &&
                       x->entry == pte_swap_entry(leaf_at(q, MODEL_4K)->slot),
                   "swap entry 0x%llx at 0x%llx not in the model", U64(x->entry),
                   U64(x->va.va));
        return;
    }
    if (x->kind != PT_VISIT_LEAF)
        return;
    if (!in_clusters(x->va.va) && v->foreign < m.boot_leaves) {
        v->foreign++; /* compared with the boot's count in model_check */
        return;
    }
    v->leaves++;
    uint64_t va = x->va.va, size, start;
    struct model_pos q;
    if (!pos_of(va, &q))
        return;
    struct leaf *l = covering(q, &size, &start);
    EXPECT(l && start == va && size == x->span && l->pa == x->phys.pa &&
               seen_prot(l->prot) == x->prot,
           "leaf 0x%llx -> 0x%llx (0x%llx) not in the model", U64(va), U64(x->phys.pa),
           U64(x->span));
}

void model_check(void)
{
    struct pmm_counters pc;
    pmm_get_counters(strategy_table_zone(), &pc);
    EXPECT(pc.used == m.baseline_used + model_tables() - 1,
           "%llu frames used, the model has %u tables", U64(pc.used), model_tables());
    struct visit_count v = { 0, 0, 0, 0 };
    pt_visit(1, check_entry, &v);
    EXPECT(v.leaves == m.leaves && v.foreign == m.boot_leaves &&
               v.tables + 1 == model_tables() + m.boot_tables && v.swaps == m.swaps,
           "%u leaves (+%u the loader's), %u swap entries and %u tables, model %u (+%u), %u"
           " and %u (+%u)", v.leaves, v.foreign, v.swaps, v.tables + 1, m.leaves,
           m.boot_leaves, m.swaps, model_tables(), m.boot_tables);
}

void model_finish(void)
{
    /* swap entries stay through an unmap: cleared first, one by one */
    for (size_t i = 0; i < m.slots * MODEL_PAGES && m.swaps && !m.failed; i++)
        if (m.k4[i].swapped) {
            size_t slot = i / MODEL_PAGES, region = slot / m.cfg.slots;
            struct model_pos q = { (unsigned)(region / m.cfg.regions),
                                   (unsigned)(region % m.cfg.regions),
                                   (unsigned)(slot % m.cfg.slots), (unsigned)(i % MODEL_PAGES) };
            model_swap_clear(q);
        }
    for (unsigned c = 0; c < m.cfg.clusters && !m.failed; c++)
        for (unsigned g = 0; g < m.cfg.regions && !m.failed; g++)
            model_unmap_region((struct model_pos){ c, g, 0, 0 });
    if (m.failed)
        return;
    struct pmm_counters pc;
    pmm_get_counters(strategy_table_zone(), &pc);
    EXPECT(pc.used == m.baseline_used, "%llu frames still used after unmapping everything",
           U64(pc.used - m.baseline_used));
    EXPECT(pmm_verify(strategy_table_zone()) == PMM_OK, "frame allocator corrupt");
}
