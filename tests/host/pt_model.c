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
    m.leaves = 0;
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

/* A leaf of size at q appeared (delta +1) or went (-1): its table gains or
 * loses an entry, and a table that thereby appeared or emptied does the
 * same in its parent. */
static void count_leaf(struct model_pos q, uint64_t size, int delta)
{
    unsigned d = (unsigned)delta, edge = delta > 0; /* count of a new / gone table */
    m.leaves += d;
    if (size == MODEL_4K && (m.in_pt[slot_ix(q)] += d) != edge)
        return; /* the PT existed before and still exists */
    if (size <= MODEL_2M && (m.in_pd[region_ix(q)] += d) != edge)
        return;
    m.in_pdpt[q.c] += d;
}

static void leaf_add(struct model_pos q, uint64_t size, uint64_t pa, uint32_t prot)
{
    *leaf_at(q, size) = (struct leaf){ 1, (uint8_t)prot, pa };
    count_leaf(q, size, 1);
}

static void leaf_remove(struct model_pos q, uint64_t size)
{
    *leaf_at(q, size) = (struct leaf){ 0, 0, 0 };
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
        if (leaf_at(q, MODEL_4K)->present)
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

/* ---- whole-state checks ---- */

struct visit_count {
    unsigned leaves, tables;
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

static void check_entry(const struct pt_visit_entry *x, void *ctx)
{
    struct visit_count *v = ctx;
    if (x->kind == PT_VISIT_TABLE)
        v->tables++;
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
    struct visit_count v = { 0, 0, 0 };
    pt_visit(1, check_entry, &v);
    EXPECT(v.leaves == m.leaves && v.foreign == m.boot_leaves &&
               v.tables + 1 == model_tables() + m.boot_tables,
           "%u leaves (+%u the loader's) and %u tables, model %u (+%u) and %u (+%u)", v.leaves,
           v.foreign, v.tables + 1, m.leaves, m.boot_leaves, model_tables(), m.boot_tables);
}

void model_finish(void)
{
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
