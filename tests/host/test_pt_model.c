/*
 * test_pt_model.c - randomised model-based test of the paging core.
 *
 * Long seeded sequences of map / unmap / protect / translate (all three
 * sizes, a frame source that runs dry now and then) and their range
 * versions run against kernel/pt.c and against a plain model: arrays of
 * the leaves in a small "hot" part of three clusters of virtual space. The
 * model predicts every status, translation and the exact number of page
 * tables, so frames must come back to the allocator exactly when tables
 * empty. Usage: test_pt_model [seed [ops]] (or PT_MODEL_SEED); the seed is
 * printed with any failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fake_cpu.h"
#include "layout.h"
#include "pmm.h"
#include "pt.h"

#define KIB4 0x1000ULL
#define MIB2 0x200000ULL
#define GIB 0x40000000ULL
#define CLUSTERS 3
#define REGIONS 4    /* 1 GiB regions per cluster */
#define SLOTS 8      /* hot 2 MiB slots per region */
#define PAGES 512
#define CHECK_EVERY 256

static const uint64_t cluster_base[CLUSTERS] = {
    0x0000100000000000ULL, 0x0000400000000000ULL, 0xFFFF900000000000ULL,
};

struct leaf {
    uint8_t present;
    uint8_t prot;
    uint64_t pa;
};

/* The model: leaves by size, and how many leaves each table holds. */
static struct {
    struct leaf g1[CLUSTERS][REGIONS];
    struct leaf m2[CLUSTERS][REGIONS][SLOTS];
    struct leaf k4[CLUSTERS][REGIONS][SLOTS][PAGES];
    unsigned in_pt[CLUSTERS][REGIONS][SLOTS]; /* 4K leaves: the PT's entries */
    unsigned in_pd[CLUSTERS][REGIONS];        /* PD entries in use */
    unsigned in_pdpt[CLUSTERS];               /* PDPT entries in use */
    unsigned leaves;
} m;

static uint64_t seed, rng_state, op_index, baseline_used;
static int failed;
static uint64_t seen[PT_STATUS_COUNT]; /* statuses met, for the summary */

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static uint64_t below(uint64_t n) { return rnd() % n; }

/* Every operation's status goes through here (and into the summary). */
#define MCHECK_STATUS(got, want, ...)                                              \
    do {                                                                           \
        seen[(unsigned)(got) < PT_STATUS_COUNT ? (got) : 0]++;                     \
        MCHECK((got) == (want), __VA_ARGS__);                                      \
    } while (0)

#define MCHECK(cond, ...)                                                          \
    do {                                                                           \
        if (!failed && !CHECK(cond, __VA_ARGS__))                                  \
            fprintf(stderr, "  seed %llu, op %llu\n", (unsigned long long)seed,    \
                    (unsigned long long)op_index), failed = 1;                     \
    } while (0)

/* ---- positions in the hot area ---- */

struct pos {
    unsigned c, g, s, p;
};

static uint64_t pos_va(struct pos q)
{
    return cluster_base[q.c] + q.g * GIB + q.s * MIB2 + q.p * KIB4;
}

static struct pos random_pos(void)
{
    struct pos q = { (unsigned)below(CLUSTERS), (unsigned)below(REGIONS),
                     (unsigned)below(SLOTS), (unsigned)below(PAGES) };
    return q;
}

/* The leaf covering q, and its size; NULL if none. */
static struct leaf *covering(struct pos q, uint64_t *size, uint64_t *start)
{
    if (m.g1[q.c][q.g].present) {
        *size = GIB;
        *start = pos_va((struct pos){ q.c, q.g, 0, 0 });
        return &m.g1[q.c][q.g];
    }
    if (m.m2[q.c][q.g][q.s].present) {
        *size = MIB2;
        *start = pos_va((struct pos){ q.c, q.g, q.s, 0 });
        return &m.m2[q.c][q.g][q.s];
    }
    *size = KIB4;
    *start = pos_va(q);
    return m.k4[q.c][q.g][q.s][q.p].present ? &m.k4[q.c][q.g][q.s][q.p] : NULL;
}

static unsigned model_tables(void)
{
    unsigned n = 1; /* the PML4 */
    for (unsigned c = 0; c < CLUSTERS; c++) {
        n += m.in_pdpt[c] > 0;
        for (unsigned g = 0; g < REGIONS; g++) {
            n += m.in_pd[c][g] > 0;
            for (unsigned s = 0; s < SLOTS; s++)
                n += m.in_pt[c][g][s] > 0;
        }
    }
    return n;
}

/* ---- model updates: a leaf appears or goes, entry counts follow ---- */

static void model_set(struct pos q, uint64_t size, uint64_t pa, uint32_t prot, int on)
{
    struct leaf *l = size == GIB ? &m.g1[q.c][q.g]
                   : size == MIB2 ? &m.m2[q.c][q.g][q.s] : &m.k4[q.c][q.g][q.s][q.p];
    int d = on ? 1 : -1;
    l->present = (uint8_t)on;
    l->pa = pa;
    l->prot = (uint8_t)prot;
    m.leaves += (unsigned)d;
    if (size == KIB4 && (m.in_pt[q.c][q.g][q.s] += (unsigned)d) != (unsigned)on)
        return; /* the PT existed before and still exists */
    if (size <= MIB2 && (m.in_pd[q.c][q.g] += (unsigned)d) != (unsigned)on)
        return;
    m.in_pdpt[q.c] += (unsigned)d;
}

static unsigned tables_missing(struct pos q, uint64_t size)
{
    unsigned need = m.in_pdpt[q.c] == 0;
    if (size <= MIB2)
        need += m.in_pd[q.c][q.g] == 0;
    if (size == KIB4)
        need += m.in_pt[q.c][q.g][q.s] == 0;
    return need;
}

/* ---- a frame source that may run dry ---- */

static int lim_left;

static enum pt_status lim_alloc(void *ctx, paddr_t *out)
{
    (void)ctx;
    if (lim_left == 0 || pmm_alloc(PMM_ZONE_GENERAL, out) != PMM_OK)
        return PT_ERR_NO_FRAMES;
    lim_left--;
    return PT_OK;
}

static void lim_free(void *ctx, paddr_t frame)
{
    (void)ctx;
    pmm_free(PMM_ZONE_GENERAL, frame);
}

static const struct pt_frame_source limited = { lim_alloc, lim_free, NULL };

/* ---- single-page operations ---- */

static uint64_t random_size(void)
{
    uint64_t r = below(100);
    return r < 80 ? KIB4 : r < 96 ? MIB2 : GIB;
}

static struct pos align_pos(struct pos q, uint64_t size)
{
    if (size >= MIB2)
        q.p = 0;
    if (size == GIB)
        q.s = 0;
    return q;
}

static enum pt_status predict_map(struct pos q, uint64_t size, int limit)
{
    uint64_t csize, start;
    struct leaf *l = covering(q, &csize, &start);
    if (l && csize > size)
        return PT_ERR_HUGE_IN_WAY;
    if (l && csize == size)
        return PT_ERR_ALREADY_MAPPED;
    if ((size == MIB2 && m.in_pt[q.c][q.g][q.s]) || (size == GIB && m.in_pd[q.c][q.g]))
        return PT_ERR_TABLE_IN_WAY;
    if (limit >= 0 && (int)tables_missing(q, size) > limit)
        return PT_ERR_NO_FRAMES;
    return PT_OK;
}

static void op_map(void)
{
    uint64_t size = random_size();
    struct pos q = align_pos(random_pos(), size);
    uint64_t pa = below(1ULL << 20) * GIB / (GIB / size) % (1ULL << 45);
    pa &= ~(size - 1);
    uint32_t prot = (uint32_t)below(PT_PROT_ALL + 1);
    int limit = below(20) == 0 ? (int)below(3) : -1;
    enum pt_status want = predict_map(q, size, limit);
    uint64_t inv = fake_cpu.invlpgs, fl = fake_cpu.flushes;
    lim_left = limit;
    enum pt_status got = pt_map(vaddr(pos_va(q)), paddr(pa), size, prot,
                                limit >= 0 ? &limited : NULL);
    MCHECK_STATUS(got, want, "map 0x%llx size 0x%llx: %s, want %s", (unsigned long long)pos_va(q),
           (unsigned long long)size, pt_status_name(got), pt_status_name(want));
    MCHECK(fake_cpu.flushes == fl, "map flushed everything");
    if (want == PT_OK && !(prot & PT_PROT_USER))
        MCHECK(fake_cpu.invlpgs == inv, "a new kernel mapping was invalidated");
    if (want == PT_OK)
        model_set(q, size, pa, prot, 1);
}

static void op_unmap(void)
{
    struct pos q = align_pos(random_pos(), random_size());
    uint64_t size, start;
    struct leaf *l = covering(q, &size, &start);
    enum pt_status want = !l ? PT_ERR_UNMAPPED
                        : start != pos_va(q) ? PT_ERR_MISALIGNED : PT_OK;
    paddr_t frame = paddr(0);
    uint64_t got_size = 0, inv = fake_cpu.invlpgs;
    enum pt_status got = pt_unmap(vaddr(pos_va(q)), &frame, &got_size);
    MCHECK_STATUS(got, want, "unmap 0x%llx: %s, want %s", (unsigned long long)pos_va(q),
           pt_status_name(got), pt_status_name(want));
    if (want != PT_OK)
        return;
    MCHECK(frame.pa == l->pa && got_size == size, "unmap returned 0x%llx/0x%llx",
           (unsigned long long)frame.pa, (unsigned long long)got_size);
    MCHECK(fake_cpu.invlpgs - inv == 1, "unmap: %llu invlpgs",
           (unsigned long long)(fake_cpu.invlpgs - inv));
    model_set(align_pos(q, size), size, 0, 0, 0);
}

static enum pt_status predict_protect(struct pos q, uint64_t size, struct leaf **out)
{
    uint64_t csize, start;
    *out = covering(q, &csize, &start);
    if (*out)
        return csize == size ? PT_OK : PT_ERR_NOT_LEAF_OF_SIZE;
    if ((size == MIB2 && m.in_pt[q.c][q.g][q.s]) || (size == GIB && m.in_pd[q.c][q.g]))
        return PT_ERR_NOT_LEAF_OF_SIZE;
    return PT_ERR_UNMAPPED;
}

static void op_protect(void)
{
    uint64_t size = random_size();
    struct pos q = align_pos(random_pos(), size);
    uint32_t prot = (uint32_t)below(PT_PROT_ALL + 1);
    struct leaf *l;
    enum pt_status want = predict_protect(q, size, &l);
    enum pt_status got = pt_protect(vaddr(pos_va(q)), size, prot);
    MCHECK_STATUS(got, want, "protect 0x%llx size 0x%llx: %s, want %s",
           (unsigned long long)pos_va(q), (unsigned long long)size, pt_status_name(got),
           pt_status_name(want));
    if (want == PT_OK)
        l->prot = (uint8_t)prot;
}

static void op_translate(void)
{
    struct pos q = random_pos();
    uint64_t off = below(KIB4), size, start, va = pos_va(q) + off;
    struct leaf *l = covering(q, &size, &start);
    struct pt_translation t;
    enum pt_status got = pt_translate(vaddr(va), &t);
    MCHECK(got == (l ? PT_OK : PT_ERR_UNMAPPED), "translate 0x%llx: %s",
           (unsigned long long)va, pt_status_name(got));
    if (l && got == PT_OK)
        MCHECK(t.pa.pa == l->pa + (va - start) && t.page_size == size && t.prot == l->prot,
               "translate 0x%llx: pa 0x%llx size 0x%llx prot 0x%x, want 0x%llx 0x%llx 0x%x",
               (unsigned long long)va, (unsigned long long)t.pa.pa,
               (unsigned long long)t.page_size, t.prot,
               (unsigned long long)(l->pa + (va - start)), (unsigned long long)size, l->prot);
}

/* ---- range operations, inside one region's hot area (or the whole 1 GiB) ---- */

struct span {
    struct pos q;     /* start */
    uint64_t pages;   /* 4 KiB pages */
};

static struct span random_span(void)
{
    struct span r;
    r.q = random_pos();
    uint64_t room = (uint64_t)(SLOTS - r.q.s) * PAGES - r.q.p;
    if (below(3) == 0) { /* 2 MiB aligned, whole slots and a tail */
        r.q.p = 0;
        room = (uint64_t)(SLOTS - r.q.s) * PAGES;
    }
    r.pages = 1 + below(room < 1200 ? room : 1200);
    return r;
}

static struct pos pos_add(struct pos q, uint64_t pages)
{
    uint64_t n = q.s * PAGES + q.p + pages;
    q.s = (unsigned)(n / PAGES);
    q.p = (unsigned)(n % PAGES);
    return q;
}

/* Emulates pt_map_range's walk of one region: the status it returns, and
 * (if do_it) the leaves it leaves behind on success. */
static enum pt_status model_map_range(struct span r, uint64_t pa, uint32_t prot,
                                      int huge, int do_it)
{
    uint64_t left = r.pages, at = pa;
    struct pos q = r.q;
    while (left) {
        int fits = huge && q.p == 0 && at % MIB2 == 0 && left >= PAGES;
        if (m.m2[q.c][q.g][q.s].present)
            return fits ? PT_ERR_ALREADY_MAPPED : PT_ERR_HUGE_IN_WAY;
        if (fits && m.in_pt[q.c][q.g][q.s] == 0) {
            if (do_it)
                model_set(q, MIB2, at, prot, 1);
            q = pos_add(q, PAGES), at += MIB2, left -= PAGES;
            continue;
        }
        if (m.k4[q.c][q.g][q.s][q.p].present)
            return PT_ERR_ALREADY_MAPPED;
        if (do_it)
            model_set(q, KIB4, at, prot, 1);
        q = pos_add(q, 1), at += KIB4, left--;
    }
    return PT_OK;
}

static void op_map_range(void)
{
    struct span r = random_span();
    int huge = (int)below(2);
    uint64_t pa = (below(1ULL << 16) * MIB2) + (huge && below(2) ? 0 : KIB4 * below(4));
    uint32_t prot = (uint32_t)below(PT_PROT_ALL + 1);
    enum pt_status want = m.g1[r.q.c][r.q.g].present ? PT_ERR_HUGE_IN_WAY
                        : model_map_range(r, pa, prot, huge, 0);
    enum pt_status got = pt_map_range(vaddr(pos_va(r.q)), paddr(pa), r.pages * KIB4, prot,
                                      huge ? PT_RANGE_ALLOW_HUGE : 0, NULL);
    MCHECK_STATUS(got, want, "map_range 0x%llx +%llu pages huge %d: %s, want %s",
           (unsigned long long)pos_va(r.q), (unsigned long long)r.pages, huge,
           pt_status_name(got), pt_status_name(want));
    if (want == PT_OK)
        model_map_range(r, pa, prot, huge, 1);
}

/* A whole region with 1 GiB allowed: one 1 GiB leaf, or a conflict. */
static void op_map_region(void)
{
    struct pos q = align_pos(random_pos(), GIB);
    uint64_t pa = below(1ULL << 14) * GIB;
    enum pt_status want = predict_map(q, GIB, -1);
    if (want == PT_ERR_TABLE_IN_WAY) /* the range descends and meets a leaf */
        want = PT_ERR_ALREADY_MAPPED;
    if (want == PT_ERR_ALREADY_MAPPED && m.in_pd[q.c][q.g] && !m.g1[q.c][q.g].present) {
        struct span all = { q, (uint64_t)SLOTS * PAGES };
        want = model_map_range(all, pa, 0, 1, 0);
    }
    enum pt_status got = pt_map_range(vaddr(pos_va(q)), paddr(pa), GIB, 0,
                                      PT_RANGE_ALLOW_HUGE, NULL);
    MCHECK_STATUS(got, want, "map_range of region 0x%llx: %s, want %s",
           (unsigned long long)pos_va(q), pt_status_name(got), pt_status_name(want));
    if (want == PT_OK)
        model_set(q, GIB, pa, 0, 1);
}

/* A huge leaf straddling either end refuses the whole edit. */
static int straddles(struct span r)
{
    struct pos ends[2] = { r.q, pos_add(r.q, r.pages - 1) };
    uint64_t first = pos_va(r.q), last = first + r.pages * KIB4 - 1;
    for (unsigned i = 0; i < 2; i++) {
        uint64_t size, start;
        struct leaf *l = covering(ends[i], &size, &start);
        if (l && size > KIB4 && (start < first || start + size - 1 > last))
            return 1;
    }
    return 0;
}

/* Applies an unmap (prot < 0) or protect to every leaf inside r. */
static void model_edit(struct span r, int prot)
{
    struct pos q = r.q;
    for (uint64_t left = r.pages; left;) {
        uint64_t size, start, step = 1;
        struct leaf *l = covering(q, &size, &start);
        if (l && size == MIB2)
            step = PAGES;
        if (l && prot < 0)
            model_set(q, size, 0, 0, 0);
        else if (l)
            l->prot = (uint8_t)prot;
        q = pos_add(q, step);
        left -= step;
    }
}

static void op_edit_range(int unmap)
{
    struct span r = random_span();
    int prot = unmap ? -1 : (int)below(PT_PROT_ALL + 1);
    int whole = m.g1[r.q.c][r.q.g].present;
    enum pt_status want = (whole || straddles(r)) ? PT_ERR_HUGE_IN_WAY : PT_OK;
    vaddr_t va = vaddr(pos_va(r.q));
    enum pt_status got = unmap ? pt_unmap_range(va, r.pages * KIB4)
                               : pt_protect_range(va, r.pages * KIB4, (uint32_t)prot);
    MCHECK_STATUS(got, want, "%s_range 0x%llx +%llu pages: %s, want %s", unmap ? "unmap" : "protect",
           (unsigned long long)va.va, (unsigned long long)r.pages, pt_status_name(got),
           pt_status_name(want));
    if (want == PT_OK)
        model_edit(r, prot);
}

static void op_unmap_region(void)
{
    struct pos q = align_pos(random_pos(), GIB);
    MCHECK(pt_unmap_range(vaddr(pos_va(q)), GIB) == PT_OK, "unmap of a whole region");
    if (m.g1[q.c][q.g].present)
        model_set(q, GIB, 0, 0, 0);
    else
        model_edit((struct span){ q, (uint64_t)SLOTS * PAGES }, -1);
}

/* ---- whole-state checks ---- */

struct visit_check {
    unsigned leaves, tables;
};

static void check_leaf(const struct pt_visit_entry *x, void *ctx)
{
    struct visit_check *v = ctx;
    if (x->kind == PT_VISIT_TABLE)
        v->tables++;
    if (x->kind != PT_VISIT_LEAF)
        return;
    v->leaves++;
    uint64_t va = x->va.va, base = 0, size, start;
    unsigned c = 0;
    for (; c < CLUSTERS; c++)
        if (va >= cluster_base[c] && va < cluster_base[c] + REGIONS * GIB)
            break;
    MCHECK(c < CLUSTERS, "leaf at 0x%llx outside the clusters", (unsigned long long)va);
    if (c == CLUSTERS)
        return;
    base = va - cluster_base[c];
    struct pos q = { c, (unsigned)(base / GIB), (unsigned)(base % GIB / MIB2),
                     (unsigned)(base % MIB2 / KIB4) };
    struct leaf *l = covering(q, &size, &start);
    MCHECK(l && start == va && size == x->span && l->pa == x->phys.pa && l->prot == x->prot,
           "leaf 0x%llx -> 0x%llx (0x%llx) not in the model", (unsigned long long)va,
           (unsigned long long)x->phys.pa, (unsigned long long)x->span);
}

static void check_state(void)
{
    struct pmm_counters pc;
    pmm_get_counters(PMM_ZONE_GENERAL, &pc);
    MCHECK(pc.used == baseline_used + model_tables() - 1,
           "%llu frames used, the model has %u tables", (unsigned long long)pc.used,
           model_tables());
    struct visit_check v = { 0, 0 };
    pt_visit(1, check_leaf, &v);
    MCHECK(v.leaves == m.leaves && v.tables + 1 == model_tables(),
           "%u leaves and %u tables, model %u and %u", v.leaves, v.tables + 1, m.leaves,
           model_tables());
}

static void run_one(void)
{
    uint64_t r = below(1000);
    if (r < 330)
        op_map();
    else if (r < 560)
        op_unmap();
    else if (r < 650)
        op_protect();
    else if (r < 770)
        op_translate();
    else if (r < 850)
        op_map_range();
    else if (r < 920)
        op_edit_range(1);
    else if (r < 970)
        op_edit_range(0);
    else if (r < 990)
        op_map_region();
    else
        op_unmap_region();
}

static uint64_t ops = 100000;

static void test_random_operations_match_the_model(void)
{
    memset(&m, 0, sizeof(m));
    fake_boot((1u << CPU_NX) | (1u << CPU_PAGE1GB));
    struct pmm_counters pc;
    pmm_get_counters(PMM_ZONE_GENERAL, &pc);
    baseline_used = pc.used;
    rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
    failed = 0;
    for (op_index = 0; op_index < ops && !failed; op_index++) {
        run_one();
        if (op_index % CHECK_EVERY == 0)
            check_state();
    }
    check_state();
    for (unsigned c = 0; c < CLUSTERS && !failed; c++)
        for (unsigned g = 0; g < REGIONS; g++)
            MCHECK(pt_unmap_range(vaddr(cluster_base[c] + g * GIB), GIB) == PT_OK, "teardown");
    pmm_get_counters(PMM_ZONE_GENERAL, &pc);
    MCHECK(pc.used == baseline_used, "%llu frames still used after unmapping everything",
           (unsigned long long)(pc.used - baseline_used));
    MCHECK(pmm_verify(PMM_ZONE_GENERAL) == PMM_OK, "frame allocator corrupt");
    fprintf(stderr, "pt_model: seed %llu, %llu operations:", (unsigned long long)seed,
            (unsigned long long)op_index);
    for (unsigned i = 0; i < PT_STATUS_COUNT; i++)
        if (seen[i])
            fprintf(stderr, " %s %llu;", pt_status_name((enum pt_status)i),
                    (unsigned long long)seen[i]);
    fprintf(stderr, "\n");
}

static const struct check_test tests[] = {
    CHECK_TEST(test_random_operations_match_the_model),
};

int main(int argc, char **argv)
{
    const char *env = getenv("PT_MODEL_SEED");
    seed = argc > 1 ? strtoull(argv[1], NULL, 0) : env ? strtoull(env, NULL, 0) : 20261126;
    if (argc > 2)
        ops = strtoull(argv[2], NULL, 0);
    return check_main("pt_model", tests, CHECK_COUNT(tests));
}
