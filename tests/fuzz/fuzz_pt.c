/*
 * fuzz_pt.c - libFuzzer harness: sequences of paging operations on the
 * real kernel/pt.c (offset strategy over tests/host/fake_cpu.c's simulated
 * memory) against a reference model, built by tests/fuzz/fuzz.mk with ASan
 * and UBSan.
 *
 * The model is a trimmed copy of tests/host/test_pt_model.c's (that file
 * drives it with a seeded generator; here the fuzzer's bytes choose every
 * operation and operand): the leaves of a small "hot" part of two clusters
 * of virtual space, by size, and how many entries each table holds. It
 * predicts every status, translation and permission, and the exact number
 * of page-table frames in use, so a table leaked or freed too early shows.
 * Input: byte 0 = CPU features (bit 0: NX), then operations; an exhausted
 * input reads as zeros (and ends the sequence).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fake_cpu.h"
#include "layout.h"
#include "pmm.h"
#include "pt.h"

#define KIB4 0x1000ULL
#define MIB2 0x200000ULL
#define GIB 0x40000000ULL
#define CLUSTERS 2
#define REGIONS 2    /* 1 GiB regions per cluster */
#define SLOTS 4      /* hot 2 MiB slots per region */
#define PAGES 512
#define CHECK_EVERY 64
#define MAX_OPS 192
#define PHYS_BITS 40

static const uint64_t cluster_base[CLUSTERS] = {
    0x0000100000000000ULL, 0xFFFF900000000000ULL,
};

struct leaf {
    uint8_t present;
    uint8_t prot;
    uint64_t pa;
};

static struct {
    struct leaf g1[CLUSTERS][REGIONS];
    struct leaf m2[CLUSTERS][REGIONS][SLOTS];
    struct leaf k4[CLUSTERS][REGIONS][SLOTS][PAGES];
    unsigned in_pt[CLUSTERS][REGIONS][SLOTS];
    unsigned in_pd[CLUSTERS][REGIONS];
    unsigned in_pdpt[CLUSTERS];
    unsigned leaves;
} m;

static const uint8_t *in;
static size_t in_left;
static int nx;
static uint64_t baseline_used;

static void fail(const char *why)
{
    (void)why;
    __builtin_trap();   /* libFuzzer keeps the input */
}

#define EXPECT(cond, why) do { if (!(cond)) fail(why); } while (0)

/* ---- the input as a stream of numbers ---- */

static uint64_t take(unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes && in_left; i++, in++, in_left--)
        v |= (uint64_t)*in << (8 * i);
    return v;
}

static uint64_t below(uint64_t n)
{
    unsigned bytes = n <= 0x100 ? 1 : n <= 0x10000 ? 2 : n <= 0x1000000 ? 3 : 8;
    return take(bytes) % n;
}

/* ---- positions in the hot area ---- */

struct pos {
    unsigned c, g, s, p;
};

static uint64_t pos_va(struct pos q)
{
    return cluster_base[q.c] + q.g * GIB + q.s * MIB2 + q.p * KIB4;
}

static struct pos read_pos(void)
{
    struct pos q;
    q.c = (unsigned)below(CLUSTERS);
    q.g = (unsigned)below(REGIONS);
    q.s = (unsigned)below(SLOTS);
    q.p = (unsigned)below(PAGES);
    return q;
}

static uint64_t read_size(void)
{
    uint64_t r = below(16);
    return r < 12 ? KIB4 : r < 15 ? MIB2 : GIB;
}

static struct pos align_pos(struct pos q, uint64_t size)
{
    if (size >= MIB2)
        q.p = 0;
    if (size == GIB)
        q.s = 0;
    return q;
}

static uint32_t read_prot(void)
{
    return (uint32_t)below(PT_PROT_ALL + 1);
}

/* What translate reports for a leaf mapped with prot: without NX every
 * page executes. */
static uint32_t seen_prot(uint32_t prot)
{
    return nx ? prot : prot | PT_PROT_EXEC;
}

/* ---- the model (test_pt_model.c) ---- */

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
    unsigned n = 1;
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
        return;
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
    uint64_t size = read_size();
    struct pos q = align_pos(read_pos(), size);
    uint64_t pa = (below(1ULL << 24) * size) & ((1ULL << PHYS_BITS) - 1);
    uint32_t prot = read_prot();
    int limit = below(8) == 0 ? (int)below(3) : -1;
    enum pt_status want = predict_map(q, size, limit);
    uint64_t flushes = fake_cpu.flushes;
    lim_left = limit;
    enum pt_status got = pt_map(vaddr(pos_va(q)), paddr(pa), size, prot,
                                limit >= 0 ? &limited : NULL);
    EXPECT(got == want, "map status");
    EXPECT(fake_cpu.flushes == flushes, "map flushed everything");
    if (want == PT_OK)
        model_set(q, size, pa, prot, 1);
}

static void op_unmap(void)
{
    struct pos q = align_pos(read_pos(), read_size());
    uint64_t size, start;
    struct leaf *l = covering(q, &size, &start);
    enum pt_status want = !l ? PT_ERR_UNMAPPED : start != pos_va(q) ? PT_ERR_MISALIGNED : PT_OK;
    paddr_t frame = paddr(0);
    uint64_t got_size = 0, inv = fake_cpu.invlpgs;
    enum pt_status got = pt_unmap(vaddr(pos_va(q)), &frame, &got_size);
    EXPECT(got == want, "unmap status");
    if (want != PT_OK)
        return;
    EXPECT(frame.pa == l->pa && got_size == size, "unmap returned another frame or size");
    EXPECT(fake_cpu.invlpgs - inv == 1, "unmap: not exactly one invlpg");
    model_set(align_pos(q, size), size, 0, 0, 0);
}

static void op_protect(void)
{
    uint64_t size = read_size();
    struct pos q = align_pos(read_pos(), size);
    uint32_t prot = read_prot();
    uint64_t csize, start;
    struct leaf *l = covering(q, &csize, &start);
    enum pt_status want = l ? (csize == size ? PT_OK : PT_ERR_NOT_LEAF_OF_SIZE)
        : ((size == MIB2 && m.in_pt[q.c][q.g][q.s]) || (size == GIB && m.in_pd[q.c][q.g]))
            ? PT_ERR_NOT_LEAF_OF_SIZE : PT_ERR_UNMAPPED;
    enum pt_status got = pt_protect(vaddr(pos_va(q)), size, prot);
    EXPECT(got == want, "protect status");
    if (want == PT_OK)
        l->prot = (uint8_t)prot;
}

static void op_translate(void)
{
    struct pos q = read_pos();
    uint64_t off = below(KIB4), size, start, va = pos_va(q) + off;
    struct leaf *l = covering(q, &size, &start);
    struct pt_translation t;
    enum pt_status got = pt_translate(vaddr(va), &t);
    EXPECT(got == (l ? PT_OK : PT_ERR_UNMAPPED), "translate status");
    if (l)
        EXPECT(t.pa.pa == l->pa + (va - start) && t.page_size == size &&
               t.prot == seen_prot(l->prot), "translate result");
}

/* ---- ranges inside one region ---- */

struct span {
    struct pos q;
    uint64_t pages;
};

static struct span read_span(void)
{
    struct span r;
    r.q = read_pos();
    if (below(3) == 0)
        r.q.p = 0;
    uint64_t room = (uint64_t)(SLOTS - r.q.s) * PAGES - r.q.p;
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

static enum pt_status model_map_range(struct span r, uint64_t pa, uint32_t prot, int huge,
                                      int do_it)
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
    struct span r = read_span();
    int huge = (int)below(2);
    uint64_t pa = below(1ULL << 16) * MIB2 + (below(2) ? 0 : KIB4 * below(4));
    uint32_t prot = read_prot();
    enum pt_status want = m.g1[r.q.c][r.q.g].present ? PT_ERR_HUGE_IN_WAY
                        : model_map_range(r, pa, prot, huge, 0);
    enum pt_status got = pt_map_range(vaddr(pos_va(r.q)), paddr(pa), r.pages * KIB4, prot,
                                      huge ? PT_RANGE_ALLOW_HUGE : 0, NULL);
    EXPECT(got == want, "map_range status");
    if (want == PT_OK)
        model_map_range(r, pa, prot, huge, 1);
}

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
    struct span r = read_span();
    int prot = unmap ? -1 : (int)read_prot();
    int whole = m.g1[r.q.c][r.q.g].present;
    enum pt_status want = (whole || straddles(r)) ? PT_ERR_HUGE_IN_WAY : PT_OK;
    vaddr_t va = vaddr(pos_va(r.q));
    enum pt_status got = unmap ? pt_unmap_range(va, r.pages * KIB4)
                               : pt_protect_range(va, r.pages * KIB4, (uint32_t)prot);
    EXPECT(got == want, "unmap_range/protect_range status");
    if (want == PT_OK)
        model_edit(r, prot);
}

static void unmap_region(struct pos q)
{
    EXPECT(pt_unmap_range(vaddr(pos_va(q)), GIB) == PT_OK, "unmap of a whole region");
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
    uint64_t va = x->va.va, size, start;
    unsigned c = 0;
    while (c < CLUSTERS && !(va >= cluster_base[c] && va < cluster_base[c] + REGIONS * GIB))
        c++;
    EXPECT(c < CLUSTERS, "a leaf outside the hot area");
    uint64_t base = va - cluster_base[c];
    struct pos q = { c, (unsigned)(base / GIB), (unsigned)(base % GIB / MIB2),
                     (unsigned)(base % MIB2 / KIB4) };
    EXPECT(q.s < SLOTS, "a leaf outside the hot slots");
    struct leaf *l = covering(q, &size, &start);
    EXPECT(l && start == va && size == x->span && l->pa == x->phys.pa &&
           seen_prot(l->prot) == x->prot, "a leaf the model does not have");
}

static void check_state(void)
{
    struct pmm_counters pc;
    pmm_get_counters(PMM_ZONE_GENERAL, &pc);
    EXPECT(pc.used == baseline_used + model_tables() - 1, "frames in use != tables in the model");
    struct visit_check v = { 0, 0 };
    pt_visit(1, check_leaf, &v);
    EXPECT(v.leaves == m.leaves && v.tables + 1 == model_tables(), "leaf or table count");
}

static void run_one(void)
{
    unsigned r = (unsigned)below(32);
    if (r < 9)
        op_map();
    else if (r < 15)
        op_unmap();
    else if (r < 18)
        op_protect();
    else if (r < 22)
        op_translate();
    else if (r < 26)
        op_map_range();
    else if (r < 28)
        op_edit_range(1);
    else if (r < 29)
        op_edit_range(0);
    else if (r < 31)
        unmap_region(align_pos(read_pos(), GIB));
    else
        check_state();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    in = data + 1;
    in_left = size - 1;
    nx = data[0] & 1;
    memset(&m, 0, sizeof(m));
    fake_boot((nx ? 1u << CPU_NX : 0) | (1u << CPU_PAGE1GB));
    struct pmm_counters pc;
    pmm_get_counters(PMM_ZONE_GENERAL, &pc);
    baseline_used = pc.used;
    for (unsigned op = 0; op < MAX_OPS && in_left; op++) {
        run_one();
        if (op % CHECK_EVERY == 0)
            check_state();
    }
    check_state();
    for (unsigned c = 0; c < CLUSTERS; c++)
        for (unsigned g = 0; g < REGIONS; g++)
            unmap_region((struct pos){ c, g, 0, 0 });
    pmm_get_counters(PMM_ZONE_GENERAL, &pc);
    EXPECT(pc.used == baseline_used, "frames still used after unmapping everything");
    EXPECT(pmm_verify(PMM_ZONE_GENERAL) == PMM_OK, "frame allocator corrupt");
    return 0;
}
