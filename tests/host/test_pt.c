/*
 * test_pt.c - host tests of the paging core (kernel/mm/pt_walk.c,
 * pt_range.c, tlb_policy.c, pt_visit.c), pt_dump.c and phys_window.c with
 * the strategy it is built with (tests/host/paging.mk: identity,
 * table-offset, offset, temporary) over the simulated machine of
 * fake_cpu.c: every operation at every page size and prot, every error path
 * with rollback, table creation and freeing, effective permissions, range
 * operations with exact costs, the TLB rule, the dumps, and each limit at,
 * just below and just above it. Every test holds for every strategy: what
 * the strategy adds is measured, not assumed — its own tables (the
 * loader's, counted at boot), its own invlpgs (temporary's slot remaps,
 * fake_cpu.own_invlpgs) and its reserved range (strategy_reserved).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fake_cpu.h"
#include "layout.h"
#include "phys_window.h"
#include "pmm.h"
#include "pmm_meta.h"
#include "pt.h"
#include "strategy.h"

#define KIB4 0x1000ULL
#define MIB2 0x200000ULL
#define GIB 0x40000000ULL
#define SLOT (1ULL << 39)          /* bytes one PML4 entry translates */
#define BASE (32 * SLOT)           /* test addresses: fresh PML4 slots */
#define FEATURES ((1u << CPU_NX) | (1u << CPU_PAGE1GB))

static const uint64_t sizes[] = { KIB4, MIB2, GIB };

static void boot(void) { fake_boot(FEATURES); }

static uint64_t used_frames(void)
{
    struct pmm_counters c;
    pmm_get_counters(strategy_table_zone(), &c);
    return c.used;
}

static struct pt_op_stats op_stats(enum pt_op op)
{
    struct pt_stats s;
    pt_stats_get(&s);
    return s.op[op];
}

/* ---- snapshots: every non-empty entry, to prove "no trace left" ---- */

struct snap {
    unsigned n;
    struct pt_visit_entry e[1024];
};

static void snap_add(const struct pt_visit_entry *x, void *ctx)
{
    struct snap *s = ctx;
    if (s->n < 1024)
        s->e[s->n++] = *x;
}

static void snap_take(struct snap *s)
{
    s->n = 0;
    pt_visit(1, snap_add, s);
}

static int snap_equal(const struct snap *a, const struct snap *b)
{
    return a->n == b->n && memcmp(a->e, b->e, a->n * sizeof(a->e[0])) == 0;
}

/* ---- a frame source with a limit, for out-of-frames paths ---- */

struct limited {
    int left;      /* frames it will still hand out */
    int allocated; /* handed out and not given back */
};

static enum pt_status lim_alloc(void *ctx, paddr_t *out)
{
    struct limited *l = ctx;
    if (l->left == 0 || pmm_alloc(strategy_table_zone(), out) != PMM_OK)
        return PT_ERR_NO_FRAMES;
    l->left--;
    l->allocated++;
    return PT_OK;
}

static void lim_free(void *ctx, paddr_t frame)
{
    struct limited *l = ctx;
    l->allocated--;
    pmm_free(strategy_table_zone(), frame);
}

static uint32_t expected_pte_prot_bits(uint32_t prot)
{
    return (uint32_t)(((prot & PT_PROT_WRITE) ? PTE_W : 0) | ((prot & PT_PROT_USER) ? PTE_U : 0) |
                      ((prot & PT_PROT_GLOBAL) ? PTE_G : 0) |
                      ((prot & PT_PROT_NOCACHE) ? (PTE_PCD | PTE_PWT) : 0));
}

/* ---- translate ---- */

static void test_translate_tells_unmapped_from_noncanonical(void)
{
    boot();
    struct pt_translation t;
    CHECK_EQ(pt_translate(vaddr(BASE), &t), PT_ERR_UNMAPPED);
    CHECK_EQ(t.level, 4);
    CHECK_EQ(pt_translate(vaddr(0x0000800000000000ULL), &t), PT_ERR_NONCANONICAL);
    CHECK_EQ(pt_translate(vaddr(0xFFFF7FFFFFFFFFFFULL), &t), PT_ERR_NONCANONICAL);
}

static void test_every_size_and_prot_maps_translates_and_unmaps(void)
{
    boot();
    uint64_t base_used = used_frames(), k = 0;
    for (unsigned s = 0; s < 3; s++) {
        for (uint32_t prot = 0; prot <= PT_PROT_ALL; prot++, k++) {
            uint64_t va = BASE + k * GIB, pa = (k + 1) * GIB, size = sizes[s];
            CHECK_EQ(pt_map(vaddr(va), paddr(pa), size, prot, NULL), PT_OK);
            struct pt_translation t;
            uint64_t off = size / 2 + 0x123;
            if (!CHECK_EQ(pt_translate(vaddr(va + off), &t), PT_OK))
                continue;
            CHECK(t.pa.pa == pa + off && pt_tr_frame(&t).pa == pa &&
                      pt_tr_page_size(&t) == size && t.level == s + 1 && pt_tr_prot(&t) == prot,
                  "size 0x%llx prot 0x%x: got pa 0x%llx size 0x%llx level %u prot 0x%x",
                  (unsigned long long)size, prot, (unsigned long long)t.pa.pa,
                  (unsigned long long)pt_tr_page_size(&t), t.level, pt_tr_prot(&t));
            pte_t want = pa | PTE_P | expected_pte_prot_bits(prot) | (s ? PTE_PS : 0) |
                         ((prot & PT_PROT_EXEC) ? 0 : PTE_NX);
            CHECK(pt_tr_entry(&t) == want, "entry 0x%llx, want 0x%llx",
                  (unsigned long long)pt_tr_entry(&t), (unsigned long long)want);
            paddr_t frame;
            uint64_t got_size;
            CHECK_EQ(pt_unmap(vaddr(va), &frame, &got_size), PT_OK);
            CHECK(frame.pa == pa && got_size == size, "unmap gave 0x%llx/0x%llx",
                  (unsigned long long)frame.pa, (unsigned long long)got_size);
            CHECK_EQ(pt_translate(vaddr(va + off), &t), PT_ERR_UNMAPPED);
        }
    }
    CHECK_EQ(used_frames(), base_used);
}

static void test_without_nx_no_mapping_gets_bit_63(void)
{
    fake_boot(1u << CPU_PAGE1GB);
    CHECK_EQ(pt_map(vaddr(BASE), paddr(0x5000), KIB4, PT_PROT_READ, NULL), PT_OK);
    struct pt_translation t;
    CHECK_EQ(pt_translate(vaddr(BASE), &t), PT_OK);
    CHECK_EQ(pt_tr_entry(&t) & PTE_NX, 0);
    CHECK_EQ(pt_tr_prot(&t), PT_PROT_EXEC);
}

static void test_without_1g_pages_1g_is_refused_and_ranges_use_2m(void)
{
    fake_boot(1u << CPU_NX);
    CHECK_EQ(pt_map(vaddr(BASE), paddr(GIB), GIB, PT_PROT_WRITE, NULL), PT_ERR_BAD_SIZE);
    CHECK_EQ(pt_map_range(vaddr(BASE), paddr(GIB), GIB, PT_PROT_WRITE, PT_RANGE_ALLOW_HUGE,
                          NULL), PT_OK);
    struct pt_translation t;
    CHECK_EQ(pt_translate(vaddr(BASE + GIB - 1), &t), PT_OK);
    CHECK_EQ(pt_tr_page_size(&t), MIB2);
}

/* ---- map errors ---- */

static void test_mapping_twice_is_already_mapped_at_every_size(void)
{
    boot();
    for (unsigned s = 0; s < 3; s++) {
        uint64_t va = BASE + s * SLOT;
        CHECK_EQ(pt_map(vaddr(va), paddr(GIB), sizes[s], PT_PROT_WRITE, NULL), PT_OK);
        uint64_t used = used_frames();
        pt_stats_reset();
        CHECK_EQ(pt_map(vaddr(va), paddr(2 * GIB), sizes[s], 0, NULL), PT_ERR_ALREADY_MAPPED);
        CHECK_EQ(used_frames(), used);
        CHECK_EQ(op_stats(PT_OP_MAP).tables_allocated, 0);
        CHECK_EQ(op_stats(PT_OP_MAP).pte_writes, 0);
    }
}

static void test_huge_page_in_the_way_at_both_levels(void)
{
    boot();
    CHECK_EQ(pt_map(vaddr(BASE), paddr(GIB), MIB2, 0, NULL), PT_OK);
    CHECK_EQ(pt_map(vaddr(BASE + GIB), paddr(GIB), GIB, 0, NULL), PT_OK);
    uint64_t used = used_frames();
    CHECK_EQ(pt_map(vaddr(BASE + KIB4), paddr(0), KIB4, 0, NULL), PT_ERR_HUGE_IN_WAY);
    CHECK_EQ(pt_map(vaddr(BASE + GIB + 5 * KIB4), paddr(0), KIB4, 0, NULL), PT_ERR_HUGE_IN_WAY);
    CHECK_EQ(pt_map(vaddr(BASE + GIB + MIB2), paddr(0), MIB2, 0, NULL), PT_ERR_HUGE_IN_WAY);
    CHECK_EQ(used_frames(), used);
}

static void test_table_in_the_way_of_a_huge_page(void)
{
    boot();
    CHECK_EQ(pt_map(vaddr(BASE + 3 * KIB4), paddr(0x7000), KIB4, 0, NULL), PT_OK);
    CHECK_EQ(pt_map(vaddr(BASE), paddr(GIB), MIB2, 0, NULL), PT_ERR_TABLE_IN_WAY);
    CHECK_EQ(pt_map(vaddr(BASE), paddr(GIB), GIB, 0, NULL), PT_ERR_TABLE_IN_WAY);
}

/* Needs 3 tables (PDPT, PD, PT) or 2 (PD, PT): every shortfall rolls back. */
static void test_out_of_frames_at_each_level_leaves_no_trace(void)
{
    boot();
    CHECK_EQ(pt_map(vaddr(BASE + 5 * GIB), paddr(0), KIB4, 0, NULL), PT_OK); /* PDPT exists */
    const struct { uint64_t va; int need; } cases[] = { { BASE + SLOT, 3 }, { BASE, 2 } };
    for (unsigned c = 0; c < 2; c++) {
        for (int limit = 0; limit < cases[c].need; limit++) {
            struct snap before, after;
            snap_take(&before);
            uint64_t used = used_frames(), inv = fake_cpu.invlpgs;
            struct limited lim = { limit, 0 };
            struct pt_frame_source src = { lim_alloc, lim_free, &lim };
            CHECK_EQ(pt_map(vaddr(cases[c].va), paddr(0), KIB4, 0, &src), PT_ERR_NO_FRAMES);
            snap_take(&after);
            CHECK(snap_equal(&before, &after), "tables changed (limit %d)", limit);
            CHECK_EQ(used_frames(), used);
            CHECK_EQ(lim.allocated, 0);
            CHECK_EQ(fake_cpu.invlpgs - inv, limit > 0 ? 1 : 0); /* rule 4 */
        }
        CHECK_EQ(pt_map(vaddr(cases[c].va), paddr(0), KIB4, 0, &pt_no_frames), PT_ERR_NO_FRAMES);
    }
}

static void test_misaligned_va_and_pa_for_each_size(void)
{
    boot();
    for (unsigned s = 0; s < 3; s++) {
        uint64_t size = sizes[s], odd = s ? KIB4 : 0x10;
        CHECK_EQ(pt_map(vaddr(BASE + odd), paddr(GIB), size, 0, NULL), PT_ERR_MISALIGNED);
        CHECK_EQ(pt_map(vaddr(BASE), paddr(GIB + odd), size, 0, NULL), PT_ERR_MISALIGNED);
        CHECK_EQ(pt_protect(vaddr(BASE + odd), size, 0), PT_ERR_MISALIGNED);
    }
    CHECK_EQ(pt_map_range(vaddr(BASE + 8), paddr(0), KIB4, 0, 0, NULL), PT_ERR_MISALIGNED);
    CHECK_EQ(pt_unmap_range(vaddr(BASE), 100), PT_ERR_MISALIGNED);
}

static void test_bad_arguments_get_their_own_status(void)
{
    boot();
    uint64_t own = strategy_reserved().base.va;
    CHECK_EQ(pt_map(vaddr(0x0000800000000000ULL), paddr(0), KIB4, 0, NULL), PT_ERR_NONCANONICAL);
    CHECK_EQ(pt_map(vaddr(BASE), paddr(0), KIB4, 0x20, NULL), PT_ERR_BAD_PROT);
    CHECK_EQ(pt_map(vaddr(BASE), paddr(0), 0x2000, 0, NULL), PT_ERR_BAD_SIZE);
    CHECK_EQ(pt_map(vaddr(BASE), paddr(1ULL << 46), KIB4, 0, NULL), PT_ERR_BAD_PHYS);
    CHECK_EQ(pt_map(vaddr(own), paddr(0), KIB4, 0, NULL), PT_ERR_RESERVED_RANGE);
    CHECK_EQ(pt_unmap_range(vaddr(own - KIB4), 2 * KIB4), PT_ERR_RESERVED_RANGE);
    CHECK_EQ(pt_map_range(vaddr(BASE), paddr(0), 0, 0, 0, NULL), PT_ERR_BAD_RANGE);
    CHECK_EQ(pt_map_range(vaddr(BASE), paddr(0), KIB4, 0, 2, NULL), PT_ERR_BAD_PROT);
    CHECK_EQ(pt_unmap(vaddr(BASE), NULL, NULL), PT_ERR_UNMAPPED);
    CHECK_EQ(pt_protect(vaddr(BASE), KIB4, 0), PT_ERR_UNMAPPED);
}

/* ---- tables ---- */

static void test_tables_are_created_and_freed_exactly(void)
{
    boot();
    uint64_t used = used_frames();
    int pml4_used = pt_table_used(4, vaddr(BASE)); /* the loader's entries */
    CHECK_EQ(pt_map(vaddr(BASE), paddr(0x9000), KIB4, 0, NULL), PT_OK);
    CHECK_EQ(op_stats(PT_OP_MAP).tables_allocated, 3);
    CHECK_EQ(used_frames(), used + 3);
    CHECK_EQ(pt_map(vaddr(BASE + KIB4), paddr(0xA000), KIB4, 0, NULL), PT_OK);
    CHECK_EQ(op_stats(PT_OP_MAP).tables_allocated, 3);
    CHECK_EQ(pt_table_used(1, vaddr(BASE)), 2);
    CHECK_EQ(pt_table_used(2, vaddr(BASE)), 1);
    CHECK_EQ(pt_table_used(3, vaddr(BASE)), 1);
    CHECK_EQ(pt_table_used(4, vaddr(BASE)), pml4_used + 1);
    CHECK_EQ(pt_unmap(vaddr(BASE), NULL, NULL), PT_OK);
    CHECK_EQ(op_stats(PT_OP_UNMAP).tables_freed, 0);
    CHECK_EQ(pt_unmap(vaddr(BASE + KIB4), NULL, NULL), PT_OK);
    CHECK_EQ(op_stats(PT_OP_UNMAP).tables_freed, 3);
    CHECK_EQ(used_frames(), used);
    CHECK_EQ(pt_table_used(3, vaddr(BASE)), -1);
    CHECK_EQ(pt_table_used(4, vaddr(BASE)), pml4_used);
}

/* ---- effective permissions ---- */

static void test_effective_permissions_need_every_level(void)
{
    boot();
    uint64_t va = BASE + 3 * GIB + 5 * MIB2 + 7 * KIB4;
    uint32_t all = PT_PROT_WRITE | PT_PROT_USER | PT_PROT_EXEC;
    CHECK_EQ(pt_map(vaddr(va), paddr(0x9000), KIB4, all, NULL), PT_OK);
    const struct { unsigned level; pte_t clear, set; uint32_t lost; } cases[] = {
        { 4, PTE_W, 0, PT_PROT_WRITE }, { 3, PTE_W, 0, PT_PROT_WRITE },
        { 2, PTE_W, 0, PT_PROT_WRITE }, { 4, PTE_U, 0, PT_PROT_USER },
        { 3, PTE_U, 0, PT_PROT_USER },  { 2, PTE_U, 0, PT_PROT_USER },
        { 4, 0, PTE_NX, PT_PROT_EXEC }, { 3, 0, PTE_NX, PT_PROT_EXEC },
        { 2, 0, PTE_NX, PT_PROT_EXEC },
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pte_t *e = fake_entry(cases[i].level, va), old = *e;
        *e = (old & ~cases[i].clear) | cases[i].set;
        struct pt_translation t;
        CHECK_EQ(pt_translate(vaddr(va), &t), PT_OK);
        CHECK(pt_tr_prot(&t) == (all & ~cases[i].lost), "case %u: prot 0x%x", i, pt_tr_prot(&t));
        *e = old;
    }
}

/* The path holds, level by level, exactly the entries the hardware walk
 * reads, and the counters say how many were read: 4 for a 4 KiB page,
 * 3 for 2 MiB, 2 for 1 GiB, 1 for an empty PML4 slot, 0 and one call for a
 * non-canonical address. */
static void test_translate_path_and_counters_are_exact(void)
{
    boot();
    for (unsigned s = 0; s < 3; s++) {
        uint64_t va = BASE + (s + 1) * SLOT + 0x123;
        CHECK_EQ(pt_map(vaddr(va & ~(sizes[s] - 1)), paddr(GIB), sizes[s], PT_PROT_WRITE, NULL),
                 PT_OK);
        struct pt_translation t;
        pt_stats_reset();
        CHECK_EQ(pt_translate(vaddr(va), &t), PT_OK);
        CHECK_EQ(t.level, s + 1);
        for (unsigned level = PT_LEVELS; level >= t.level; level--)
            CHECK(t.path[level] == *fake_entry(level, va), "size %u level %u: 0x%llx vs 0x%llx",
                  s, level, (unsigned long long)t.path[level],
                  (unsigned long long)*fake_entry(level, va));
        CHECK_EQ(op_stats(PT_OP_TRANSLATE).calls, 1);
        CHECK_EQ(op_stats(PT_OP_TRANSLATE).pte_reads, PT_LEVELS - s);
    }
    struct pt_translation t;
    pt_stats_reset();
    CHECK_EQ(pt_translate(vaddr(BASE + 50 * SLOT), &t), PT_ERR_UNMAPPED);
    CHECK_EQ(pt_translate(vaddr(0x0000800000000000ULL), &t), PT_ERR_NONCANONICAL);
    CHECK_EQ(op_stats(PT_OP_TRANSLATE).calls, 2);
    CHECK_EQ(op_stats(PT_OP_TRANSLATE).pte_reads, 1);
}

/* A not-present entry translates nothing whatever its other bits say
 * (SDM Vol. 3A 4.5.4). The one such entry pagelab gives a meaning, PTE_SWAP
 * (bit 1, W's place) set at level 1, is a swap entry (pt.h), which pt_map
 * does not replace; with bit 1 clear the entry is free for a new leaf. */
static void test_non_present_entry_with_bits_is_unmapped(void)
{
    boot();
    CHECK_EQ(pt_map(vaddr(BASE + 9 * KIB4), paddr(0x9000), KIB4, PT_PROT_WRITE, NULL), PT_OK);
    pte_t *e = fake_entry(1, BASE + 9 * KIB4), old = *e;
    *e = old & ~PTE_P;                  /* W stays: read as a swap entry */
    struct pt_translation t;
    CHECK_EQ(pt_translate(vaddr(BASE + 9 * KIB4), &t), PT_ERR_UNMAPPED);
    CHECK(t.level == 1 && pt_tr_entry(&t) == (old & ~PTE_P), "level %u entry 0x%llx", t.level,
          (unsigned long long)pt_tr_entry(&t));
    CHECK_EQ(pt_map(vaddr(BASE + 9 * KIB4), paddr(0xA000), KIB4, 0, NULL), PT_ERR_ALREADY_MAPPED);
    *e = old & ~(PTE_P | PTE_SWAP);     /* address and NX left, no PTE_SWAP */
    CHECK_EQ(pt_translate(vaddr(BASE + 9 * KIB4), &t), PT_ERR_UNMAPPED);
    CHECK_EQ(pt_map(vaddr(BASE + 9 * KIB4), paddr(0xA000), KIB4, 0, NULL), PT_OK);
}

static void test_ps_in_a_pml4_entry_is_a_status_not_a_panic(void)
{
    boot();
    pte_t *e = fake_entry(4, BASE + 40 * SLOT);
    *e = 0x1000 | PTE_P | PTE_PS;
    struct pt_translation t;
    CHECK_EQ(pt_translate(vaddr(BASE + 40 * SLOT + 0x1234), &t), PT_ERR_PS_AT_L4);
    CHECK_EQ(t.level, 4);
    CHECK_EQ(pt_map(vaddr(BASE + 40 * SLOT), paddr(0), KIB4, 0, NULL), PT_ERR_PS_AT_L4);
    CHECK_EQ(pt_unmap_range(vaddr(BASE + 40 * SLOT), KIB4), PT_ERR_PS_AT_L4);
    *e = 0;
}

/* ---- protect ---- */

static void test_protect_every_size_and_prot_keeps_address_and_ad_bits(void)
{
    boot();
    for (unsigned s = 0; s < 3; s++) {
        uint64_t va = BASE + s * SLOT + GIB, pa = 3 * GIB;
        CHECK_EQ(pt_map(vaddr(va), paddr(pa), sizes[s], 0, NULL), PT_OK);
        *fake_entry(s + 1, va) |= PTE_A | PTE_D;
        uint32_t prev = 0;
        for (uint32_t prot = 0; prot <= PT_PROT_ALL; prot++) {
            uint64_t inv = fake_cpu.invlpgs;
            CHECK_EQ(pt_protect(vaddr(va), sizes[s], prot), PT_OK);
            struct pt_translation t;
            pt_translate(vaddr(va), &t);
            CHECK(pt_tr_prot(&t) == prot && pt_tr_frame(&t).pa == pa &&
                      (pt_tr_entry(&t) & (PTE_A | PTE_D)) == (PTE_A | PTE_D),
                  "size %u prot 0x%x: prot 0x%x entry 0x%llx", s, prot, pt_tr_prot(&t),
                  (unsigned long long)pt_tr_entry(&t));
            CHECK_EQ(fake_cpu.invlpgs - inv, prot != prev ? 1 : 0);
            prev = prot;
        }
    }
}

/* The x86_64 crate's update_flags turns a table pointer into a huge page. */
static void test_protect_refuses_an_entry_that_is_not_a_leaf_of_that_size(void)
{
    boot();
    CHECK_EQ(pt_map(vaddr(BASE + KIB4), paddr(0x9000), KIB4, 0, NULL), PT_OK);
    CHECK_EQ(pt_map(vaddr(BASE + GIB), paddr(GIB), MIB2, 0, NULL), PT_OK);
    CHECK_EQ(pt_map(vaddr(BASE + SLOT), paddr(GIB), GIB, 0, NULL), PT_OK);
    struct snap before, after;
    snap_take(&before);
    CHECK_EQ(pt_protect(vaddr(BASE), MIB2, PT_PROT_WRITE), PT_ERR_NOT_LEAF_OF_SIZE);
    CHECK_EQ(pt_protect(vaddr(BASE), GIB, PT_PROT_WRITE), PT_ERR_NOT_LEAF_OF_SIZE);
    CHECK_EQ(pt_protect(vaddr(BASE + GIB + KIB4), KIB4, PT_PROT_WRITE), PT_ERR_NOT_LEAF_OF_SIZE);
    CHECK_EQ(pt_protect(vaddr(BASE + SLOT + MIB2), MIB2, PT_PROT_WRITE), PT_ERR_NOT_LEAF_OF_SIZE);
    CHECK_EQ(pt_protect(vaddr(BASE + GIB), GIB, PT_PROT_WRITE), PT_ERR_NOT_LEAF_OF_SIZE);
    CHECK_EQ(pt_protect(vaddr(BASE + 2 * MIB2), MIB2, PT_PROT_WRITE), PT_ERR_UNMAPPED);
    snap_take(&after);
    CHECK(snap_equal(&before, &after), "a refused protect changed the tables");
}

static void test_unmap_inside_a_huge_page_is_misaligned(void)
{
    boot();
    CHECK_EQ(pt_map(vaddr(BASE), paddr(GIB), MIB2, 0, NULL), PT_OK);
    CHECK_EQ(pt_unmap(vaddr(BASE + KIB4), NULL, NULL), PT_ERR_MISALIGNED);
    struct pt_translation t;
    CHECK_EQ(pt_translate(vaddr(BASE + KIB4), &t), PT_OK);
}

/* ---- the TLB rule ---- */

static void test_tlb_rule_new_map_0_unmap_1_protect_1_big_range_1_flush(void)
{
    boot();
    struct fake_cpu c0 = fake_cpu;
    CHECK_EQ(pt_map(vaddr(BASE), paddr(0x9000), KIB4, PT_PROT_WRITE, NULL), PT_OK);
    CHECK(fake_cpu.invlpgs == c0.invlpgs && fake_cpu.flushes == c0.flushes, "map flushed");
    CHECK_EQ(pt_protect(vaddr(BASE), KIB4, 0), PT_OK);
    CHECK_EQ(fake_cpu.invlpgs - c0.invlpgs, 1);
    CHECK_EQ(fake_cpu.last_invlpg, BASE);
    CHECK_EQ(pt_unmap(vaddr(BASE), NULL, NULL), PT_OK); /* and 3 tables freed */
    CHECK_EQ(fake_cpu.invlpgs - c0.invlpgs, 2);
    CHECK_EQ(pt_map_range(vaddr(BASE), paddr(0), 64 * KIB4, 0, 0, NULL), PT_OK);
    CHECK_EQ(fake_cpu.invlpgs - c0.invlpgs, 2);
    CHECK_EQ(pt_unmap_range(vaddr(BASE), PT_FLUSH_THRESHOLD * KIB4), PT_OK);
    CHECK_EQ(fake_cpu.invlpgs - c0.invlpgs, 2 + PT_FLUSH_THRESHOLD);
    CHECK_EQ(fake_cpu.flushes, c0.flushes);
    CHECK_EQ(pt_map_range(vaddr(BASE), paddr(0), PT_FLUSH_THRESHOLD * KIB4, 0, 0, NULL), PT_OK);
    CHECK_EQ(pt_unmap_range(vaddr(BASE), 64 * KIB4), PT_OK); /* 64 > threshold */
    CHECK_EQ(fake_cpu.invlpgs - c0.invlpgs, 2 + PT_FLUSH_THRESHOLD);
    CHECK_EQ(fake_cpu.flushes - c0.flushes, 1);
}

/* ---- ranges ---- */

/* 1 GiB of 4 KiB pages: every cost counted, one visit per table. */
static void test_range_of_1g_in_4k_pages_costs_exactly(void)
{
    boot();
    uint64_t used = used_frames(), own = fake_cpu.own_invlpgs;
    CHECK_EQ(pt_map_range(vaddr(BASE), paddr(2 * GIB), GIB, PT_PROT_WRITE, 0, NULL), PT_OK);
    struct pt_op_stats s = op_stats(PT_OP_MAP_RANGE);
    s.invlpgs -= fake_cpu.own_invlpgs - own; /* the strategy's, not the map's */
    uint64_t tables = 2 + 512, leaves = 512 * 512;
    CHECK_EQ(s.tables_allocated, tables);
    CHECK_EQ(s.table_visits, tables + 1);
    CHECK_EQ(s.pte_writes, leaves + tables * 512 + tables + (tables + 1));
    CHECK_EQ(s.pte_reads, 2 * (tables + 1) + 1 + 1 + 512 + leaves);
    CHECK(s.invlpgs == 0 && s.full_flushes == 0, "map flushed");
    CHECK_EQ(used_frames(), used + tables);
    struct pt_translation t;
    CHECK_EQ(pt_translate(vaddr(BASE + GIB - KIB4), &t), PT_OK);
    CHECK_EQ(t.pa.pa, 3 * GIB - KIB4);
    own = fake_cpu.own_invlpgs;
    CHECK_EQ(pt_unmap_range(vaddr(BASE), GIB), PT_OK);
    s = op_stats(PT_OP_UNMAP_RANGE);
    s.invlpgs -= fake_cpu.own_invlpgs - own;
    CHECK_EQ(s.tables_freed, tables);
    /* A forced flush per 64 deferred tables (8), then the PD and PDPT:
     * one INVLPG for the paging-structure caches (rule 4). */
    CHECK_EQ(s.full_flushes, 8);
    CHECK_EQ(s.invlpgs, 1);
    CHECK_EQ(used_frames(), used);
}

static void test_range_uses_huge_pages_where_aligned_and_asked(void)
{
    boot();
    uint64_t len = 2 * GIB + MIB2 + KIB4;
    CHECK_EQ(pt_map_range(vaddr(BASE), paddr(4 * GIB), len, 0, PT_RANGE_ALLOW_HUGE, NULL), PT_OK);
    CHECK_EQ(op_stats(PT_OP_MAP_RANGE).tables_allocated, 3);
    const struct { uint64_t off, size; } want[] = {
        { 0, GIB }, { GIB, GIB }, { 2 * GIB, MIB2 }, { 2 * GIB + MIB2, KIB4 },
    };
    for (unsigned i = 0; i < 4; i++) {
        struct pt_translation t;
        CHECK_EQ(pt_translate(vaddr(BASE + want[i].off), &t), PT_OK);
        CHECK(pt_tr_page_size(&t) == want[i].size && t.pa.pa == 4 * GIB + want[i].off,
              "piece %u: size 0x%llx", i, (unsigned long long)pt_tr_page_size(&t));
    }
    CHECK_EQ(pt_map_range(vaddr(BASE + SLOT), paddr(MIB2), 4 * MIB2, 0, PT_RANGE_4K_ONLY, NULL),
             PT_OK);
    CHECK_EQ(op_stats(PT_OP_MAP_RANGE).tables_allocated, 3 + 2 + 4);
    CHECK_EQ(pt_unmap_range(vaddr(BASE), len), PT_OK);
    CHECK_EQ(op_stats(PT_OP_UNMAP_RANGE).tables_freed, 3);
}

static void test_range_map_conflict_rolls_back_everything(void)
{
    boot();
    CHECK_EQ(pt_map(vaddr(BASE + SLOT + 10 * KIB4), paddr(0), KIB4, 0, NULL), PT_OK);
    CHECK_EQ(pt_map(vaddr(BASE + 2 * MIB2), paddr(0), MIB2, 0, NULL), PT_OK);
    struct snap before, after;
    snap_take(&before);
    uint64_t used = used_frames();
    CHECK_EQ(pt_map_range(vaddr(BASE + SLOT), paddr(0), 20 * KIB4, 0, 0, NULL),
             PT_ERR_ALREADY_MAPPED);
    CHECK_EQ(pt_map_range(vaddr(BASE), paddr(0), 4 * MIB2, 0, PT_RANGE_ALLOW_HUGE, NULL),
             PT_ERR_ALREADY_MAPPED);
    CHECK_EQ(pt_map_range(vaddr(BASE + MIB2), paddr(0), 2 * MIB2, 0, 0, NULL),
             PT_ERR_HUGE_IN_WAY);
    snap_take(&after);
    CHECK(snap_equal(&before, &after), "a failed range map left entries behind");
    CHECK_EQ(used_frames(), used);
}

static void test_range_map_out_of_frames_rolls_back_to_the_source(void)
{
    boot();
    struct snap before, after;
    snap_take(&before);
    uint64_t used = used_frames();
    struct limited lim = { 3, 0 }; /* PDPT, PD, first PT; the second PT fails */
    struct pt_frame_source src = { lim_alloc, lim_free, &lim };
    CHECK_EQ(pt_map_range(vaddr(BASE), paddr(0), 3 * MIB2, 0, 0, &src), PT_ERR_NO_FRAMES);
    snap_take(&after);
    CHECK(snap_equal(&before, &after), "tables left behind");
    CHECK_EQ(lim.allocated, 0);
    CHECK_EQ(used_frames(), used);
}

/*
 * A failed range map's rollback must leave every count as it was. Found by
 * reading: with BASE + 1 GiB mapped (the PDPT's count is 1), a range map at
 * BASE that gets its PD but not its PT unhooked the new PD by writing
 * PDPT entry 0, which carries the count, and skipped the count update (the
 * count "had not changed"): the count read 0, the next unmap decremented
 * it to -1, which spilled into the address bits of PDPT entry 0
 * (0x07f00003fffffe00) and left the emptied PDPT linked.
 */
static void test_range_map_rollback_keeps_the_parent_count_in_entry_0(void)
{
    boot();
    uint64_t used = used_frames();
    int pml4_used = pt_table_used(4, vaddr(BASE));   /* what the strategy's loader left */
    CHECK_EQ(pt_map(vaddr(BASE + GIB), paddr(0x9000), KIB4, 0, NULL), PT_OK);
    CHECK_EQ(pt_table_used(3, vaddr(BASE)), 1);
    struct snap before, after;
    snap_take(&before);
    struct limited lim = { 1, 0 }; /* the PD; the PT fails */
    struct pt_frame_source src = { lim_alloc, lim_free, &lim };
    CHECK_EQ(pt_map_range(vaddr(BASE), paddr(0), KIB4, 0, 0, &src), PT_ERR_NO_FRAMES);
    CHECK_EQ(lim.allocated, 0);
    CHECK_EQ(pt_table_used(3, vaddr(BASE)), 1);
    snap_take(&after);
    CHECK(snap_equal(&before, &after), "the rollback changed the tables");
    CHECK_EQ(pt_unmap(vaddr(BASE + GIB), NULL, NULL), PT_OK);
    CHECK_EQ(pt_table_used(3, vaddr(BASE)), -1); /* the emptied PDPT was freed */
    CHECK_EQ(pt_table_used(4, vaddr(BASE)), pml4_used);
    CHECK_EQ(*fake_entry(4, BASE), 0);
    CHECK_EQ(used_frames(), used);
}

static void test_range_edit_refuses_to_split_a_huge_page(void)
{
    boot();
    CHECK_EQ(pt_map(vaddr(BASE + MIB2), paddr(GIB), MIB2, 0, NULL), PT_OK);
    struct snap before, after;
    snap_take(&before);
    CHECK_EQ(pt_unmap_range(vaddr(BASE + MIB2 + KIB4), MIB2), PT_ERR_HUGE_IN_WAY);
    CHECK_EQ(pt_unmap_range(vaddr(BASE + MIB2 - KIB4), 2 * KIB4), PT_ERR_HUGE_IN_WAY);
    CHECK_EQ(pt_protect_range(vaddr(BASE), MIB2 + KIB4, 0), PT_ERR_HUGE_IN_WAY);
    snap_take(&after);
    CHECK(snap_equal(&before, &after), "a refused range edit changed the tables");
    CHECK_EQ(pt_unmap_range(vaddr(BASE), 4 * MIB2), PT_OK);
    struct pt_translation t;
    CHECK_EQ(pt_translate(vaddr(BASE + MIB2), &t), PT_ERR_UNMAPPED);
}

static void test_protect_range_writes_only_what_changes(void)
{
    boot();
    CHECK_EQ(pt_map_range(vaddr(BASE), paddr(0), 8 * KIB4, PT_PROT_WRITE, 0, NULL), PT_OK);
    pt_stats_reset();
    CHECK_EQ(pt_protect_range(vaddr(BASE), 8 * KIB4, PT_PROT_WRITE), PT_OK);
    CHECK_EQ(op_stats(PT_OP_PROTECT_RANGE).pte_writes, 0);
    CHECK_EQ(op_stats(PT_OP_PROTECT_RANGE).invlpgs, 0);
    CHECK_EQ(pt_protect_range(vaddr(BASE + 2 * KIB4), 4 * KIB4, PT_PROT_EXEC), PT_OK);
    CHECK_EQ(op_stats(PT_OP_PROTECT_RANGE).pte_writes, 4);
    CHECK_EQ(op_stats(PT_OP_PROTECT_RANGE).invlpgs, 4);
    struct pt_translation t;
    pt_translate(vaddr(BASE + KIB4), &t);
    CHECK_EQ(pt_tr_prot(&t), PT_PROT_WRITE);
    pt_translate(vaddr(BASE + 2 * KIB4), &t);
    CHECK_EQ(pt_tr_prot(&t), PT_PROT_EXEC);
}

/* x86_64 #468: crossing the canonical hole; the top page of the space. */
static void test_canonical_hole_and_the_last_page(void)
{
    boot();
    uint64_t used = used_frames(), low_top = 0x00007FFFFFFFF000ULL, top = 0xFFFFFFFFFFFFF000ULL;
    CHECK_EQ(pt_map_range(vaddr(low_top), paddr(0), KIB4, 0, 0, NULL), PT_OK);
    CHECK_EQ(pt_map_range(vaddr(low_top), paddr(0), 2 * KIB4, 0, 0, NULL), PT_ERR_NONCANONICAL);
    CHECK_EQ(pt_unmap_range(vaddr(low_top - KIB4), 2 * KIB4), PT_OK);
    CHECK_EQ(pt_map(vaddr(top), paddr(0x5000), KIB4, 0, NULL), PT_OK);
    CHECK_EQ(pt_map_range(vaddr(top), paddr(0), 2 * KIB4, 0, 0, NULL), PT_ERR_BAD_RANGE);
    struct pt_translation t;
    CHECK_EQ(pt_translate(vaddr(top + 0xFFF), &t), PT_OK);
    CHECK_EQ(t.pa.pa, 0x5FFF);
    CHECK_EQ(pt_unmap_range(vaddr(top), KIB4), PT_OK);
    CHECK_EQ(pt_translate(vaddr(top), &t), PT_ERR_UNMAPPED);
    CHECK_EQ(used_frames(), used);
}

/* ---- limits: each at, just below and just above ---- */

/* Bit 12 of a 2 MiB or 1 GiB leaf is its PAT bit (SDM Vol. 3A 4.5.4,
 * tables 4-17 and 4-15), not an address bit: the frame stays aligned. */
static void test_huge_leaf_with_its_pat_bit_unmaps_and_dumps_with_an_aligned_frame(void)
{
    const struct { unsigned level; uint64_t size, va, pa; const char *dump; } cases[] = {
        { 2, MIB2, BASE, 3 * GIB + MIB2, "2M page 0xc0200000 va 0x0000100000000000" },
        { 3, GIB, BASE + SLOT, 5 * GIB, "1G page 0x140000000 va 0x0000108000000000" },
    };
    for (unsigned c = 0; c < 2; c++) {
        boot();
        CHECK_EQ(pt_map(vaddr(cases[c].va), paddr(cases[c].pa), cases[c].size, 0, NULL), PT_OK);
        *fake_entry(cases[c].level, cases[c].va) |= PTE_PATBIG;
        struct pt_translation t;
        CHECK_EQ(pt_translate(vaddr(cases[c].va + 0x1234), &t), PT_OK);
        CHECK_EQ(pt_tr_frame(&t).pa, cases[c].pa);
        CHECK_EQ(t.pa.pa, cases[c].pa + 0x1234);
        fake_capture_start();
        pt_dump_raw(1);
        const char *got = fake_capture_end();
        CHECK(strstr(got, cases[c].dump) != NULL, "case %u: no \"%s\" in:\n%s", c,
              cases[c].dump, got);
        paddr_t frame;
        uint64_t size;
        CHECK_EQ(pt_unmap(vaddr(cases[c].va), &frame, &size), PT_OK);
        CHECK_EQ(frame.pa, cases[c].pa);
        CHECK_EQ(size, cases[c].size);
    }
}

/* The strategy's own range (offset: the window; identity and table-offset:
 * the pool; temporary: the slots), [base, base + size). */
static void test_the_reserved_range_is_refused_from_its_first_to_its_last_byte(void)
{
    boot();
    struct pt_region own = strategy_reserved();
    uint64_t rb = own.base.va, rlast = rb + own.size - 1;
    uint64_t last_page = rlast & ~(KIB4 - 1);
    CHECK_EQ(pt_unmap(vaddr(rlast), NULL, NULL), PT_ERR_RESERVED_RANGE);
    CHECK_EQ(pt_protect(vaddr(rlast), KIB4, 0), PT_ERR_RESERVED_RANGE);
    CHECK_EQ(pt_unmap_range(vaddr(last_page), KIB4), PT_ERR_RESERVED_RANGE);
    CHECK_EQ(pt_protect_range(vaddr(last_page), KIB4, 0), PT_ERR_RESERVED_RANGE);
    CHECK_EQ(pt_map(vaddr(last_page), paddr(0), KIB4, 0, NULL), PT_ERR_RESERVED_RANGE);
    CHECK_EQ(pt_unmap(vaddr(rlast + 1), NULL, NULL), PT_ERR_UNMAPPED);      /* just above */
    CHECK_EQ(pt_protect(vaddr(rlast + 1), KIB4, 0), PT_ERR_UNMAPPED);
    CHECK_EQ(pt_unmap(vaddr(rb), NULL, NULL), PT_ERR_RESERVED_RANGE);       /* first byte */
    CHECK_EQ(pt_unmap_range(vaddr(rb - KIB4), KIB4 + 1), PT_ERR_RESERVED_RANGE);
    CHECK_EQ(pt_unmap_range(vaddr(rb - KIB4), KIB4), PT_OK);                /* just below */
    CHECK_EQ(pt_map(vaddr(rb - KIB4), paddr(0), KIB4, 0, NULL), PT_OK);
    CHECK_EQ(pt_unmap(vaddr(rb - KIB4), NULL, NULL), PT_OK);
}

static void test_an_address_misaligned_by_one_byte_is_refused(void)
{
    boot();
    for (unsigned s = 0; s < 3; s++) {
        uint64_t va = BASE + s * SLOT, size = sizes[s];
        CHECK_EQ(pt_map(vaddr(va + 1), paddr(GIB), size, 0, NULL), PT_ERR_MISALIGNED);
        CHECK_EQ(pt_map(vaddr(va), paddr(GIB + 1), size, 0, NULL), PT_ERR_MISALIGNED);
        CHECK_EQ(pt_map(vaddr(va), paddr(GIB), size, 0, NULL), PT_OK);
        CHECK_EQ(pt_protect(vaddr(va + 1), size, 0), PT_ERR_MISALIGNED);
        CHECK_EQ(pt_unmap(vaddr(va + 1), NULL, NULL), PT_ERR_MISALIGNED);
        CHECK_EQ(pt_protect(vaddr(va), size, PT_PROT_WRITE), PT_OK);
    }
    uint64_t va = BASE + 3 * SLOT;
    CHECK_EQ(pt_map_range(vaddr(va + 1), paddr(0), KIB4, 0, 0, NULL), PT_ERR_MISALIGNED);
    CHECK_EQ(pt_map_range(vaddr(va), paddr(1), KIB4, 0, 0, NULL), PT_ERR_MISALIGNED);
    CHECK_EQ(pt_map_range(vaddr(va), paddr(0), KIB4 + 1, 0, 0, NULL), PT_ERR_MISALIGNED);
    CHECK_EQ(pt_map_range(vaddr(va), paddr(0), KIB4 - 1, 0, 0, NULL), PT_ERR_MISALIGNED);
    CHECK_EQ(pt_unmap_range(vaddr(va + 1), KIB4), PT_ERR_MISALIGNED);
    CHECK_EQ(pt_unmap_range(vaddr(va), KIB4 + 1), PT_ERR_MISALIGNED);
    CHECK_EQ(pt_protect_range(vaddr(va + 1), KIB4, 0), PT_ERR_MISALIGNED);
    CHECK_EQ(pt_protect_range(vaddr(va), KIB4 - 1, 0), PT_ERR_MISALIGNED);
    CHECK_EQ(pt_map_range(vaddr(va), paddr(0), KIB4, 0, 0, NULL), PT_OK);
}

/* The fake CPU has 46 physical address bits. */
static void test_the_last_page_below_the_physical_width_maps_and_the_next_is_refused(void)
{
    boot();
    uint64_t lim = 1ULL << 46;
    for (unsigned s = 0; s < 3; s++) {
        uint64_t va = BASE + s * SLOT, size = sizes[s];
        CHECK_EQ(pt_map(vaddr(va), paddr(lim), size, 0, NULL), PT_ERR_BAD_PHYS);
        CHECK_EQ(pt_map(vaddr(va), paddr(lim - size), size, 0, NULL), PT_OK);
        struct pt_translation t;
        CHECK_EQ(pt_translate(vaddr(va + size - 1), &t), PT_OK);
        CHECK_EQ(t.pa.pa, lim - 1);
    }
    uint64_t va = BASE + 3 * SLOT;
    CHECK_EQ(pt_map_range(vaddr(va), paddr(lim - KIB4), 2 * KIB4, 0, 0, NULL), PT_ERR_BAD_PHYS);
    CHECK_EQ(pt_map_range(vaddr(va), paddr(lim - 2 * KIB4), 2 * KIB4, 0, 0, NULL), PT_OK);
    CHECK_EQ(pt_map_range(vaddr(va + GIB), paddr(-KIB4), KIB4, 0, 0, NULL), PT_ERR_BAD_PHYS);
}

/* CPUID 80000008h may be missing (0 bits reported): the architectural
 * maximum, 52, is assumed; so is a reported width above it. */
static void test_an_unknown_physical_width_means_52_bits(void)
{
    const struct { uint32_t reported, used; } cases[] = {
        { 0, 52 }, { 12, 12 }, { 51, 51 }, { 52, 52 }, { 53, 52 },
    };
    for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        boot();
        fake_bi.phys_addr_bits = cases[c].reported;
        CHECK_EQ(pt_init(&fake_bi), PT_OK);
        uint64_t lim = 1ULL << cases[c].used;
        CHECK(pt_map(vaddr(BASE), paddr(lim), KIB4, 0, NULL) == PT_ERR_BAD_PHYS,
              "%u bits reported: 0x%llx accepted", cases[c].reported, (unsigned long long)lim);
        CHECK(pt_map(vaddr(BASE), paddr(lim - KIB4), KIB4, 0, NULL) == PT_OK,
              "%u bits reported: 0x%llx refused", cases[c].reported,
              (unsigned long long)(lim - KIB4));
    }
}

static void check_op_stats(enum pt_op op, const struct pt_op_stats *want, const char *what)
{
    struct pt_op_stats s = op_stats(op);
    CHECK(memcmp(&s, want, sizeof(s)) == 0,
          "%s: calls %llu reads %llu writes %llu visits %llu invlpgs %llu flushes %llu "
          "allocated %llu freed %llu", what, (unsigned long long)s.calls,
          (unsigned long long)s.pte_reads, (unsigned long long)s.pte_writes,
          (unsigned long long)s.table_visits, (unsigned long long)s.invlpgs,
          (unsigned long long)s.full_flushes, (unsigned long long)s.tables_allocated,
          (unsigned long long)s.tables_freed);
}

/*
 * A user map into an empty PML4 slot (index 32): the PML4 entry read; 3
 * tables made, each 512 zero writes; the link in the PML4 and its count
 * (2 writes, 1 count read); the links in PDPT[0] and PD[0] and the leaf
 * in PT[0], each one store with its count (1 write, 1 count read); the 3
 * reads of widen_user, which finds U on every new link. Into an existing
 * kernel path: the 4 walk reads, the leaf at PT[1] and its count, then U
 * added to 3 entries and one INVLPG (rule 2).
 */
static void test_a_user_map_counts_exactly_what_it_does(void)
{
    boot();
    uint64_t own = fake_cpu.own_invlpgs;  /* temporary's slot remaps: the strategy's */
    CHECK_EQ(pt_map(vaddr(BASE), paddr(0x9000), KIB4, PT_PROT_USER, NULL), PT_OK);
    struct pt_op_stats fresh = { 1, 1 + 4 + 3, 3 * 512 + 2 + 3, 4, fake_cpu.own_invlpgs - own,
                                 0, 3, 0 };
    check_op_stats(PT_OP_MAP, &fresh, "user map making 3 tables");
    boot();
    CHECK_EQ(pt_map(vaddr(BASE), paddr(0x9000), KIB4, 0, NULL), PT_OK);
    pt_stats_reset();
    own = fake_cpu.own_invlpgs;
    CHECK_EQ(pt_map(vaddr(BASE + KIB4), paddr(0xA000), KIB4, PT_PROT_USER, NULL), PT_OK);
    struct pt_op_stats widen = { 1, 4 + 1 + 3, 2 + 3, 4, 1 + fake_cpu.own_invlpgs - own, 0, 0, 0 };
    check_op_stats(PT_OP_MAP, &widen, "user map below kernel tables");
    struct pt_translation t;
    CHECK_EQ(pt_translate(vaddr(BASE), &t), PT_OK);
    CHECK_EQ(pt_tr_prot(&t), PT_PROT_READ); /* the kernel page stays supervisor */
}

#ifdef FAKE_STRATEGY_IS_OFFSET   /* see the list in main: offset only */
/* Links, by hand, a zeroed table under every non-present entry on va's
 * path down to level 2 (the loader builds tables the core did not), and
 * puts a 4 KiB leaf at entry 0 of the PT. Returns that PT. */
static pte_t *hand_path_with_leaf(uint64_t va)
{
    pte_t *t = fake_phys(fake_cpu.cr3);
    for (unsigned l = PT_LEVELS; l >= 2; l--) {
        pte_t *e = &t[PT_INDEX(va, l)];
        if (!(*e & PTE_P)) {
            paddr_t f;
            CHECK_EQ(pmm_alloc(PMM_ZONE_GENERAL, &f), PMM_OK);
            memset(fake_phys(f.pa), 0, PAGE_SIZE);
            *e = f.pa | PTE_TABLE_LINK;
        }
        t = fake_phys(*e & PTE_ADDR_MASK);
    }
    t[0] = 0x5000 | PTE_P;
    return t;
}

struct level2_seen {
    uint64_t va[4];
    enum pt_visit_kind kind[4];
    unsigned leaves[4]; /* 4 KiB leaves seen inside va[i]'s 2 MiB */
};

static void note_level2(const struct pt_visit_entry *x, void *ctx)
{
    struct level2_seen *s = ctx;
    for (unsigned i = 0; i < 4; i++) {
        if (x->level == 2 && x->va.va == s->va[i])
            s->kind[i] = x->kind;
        if (x->level == 1 && x->va.va - s->va[i] < MIB2)
            s->leaves[i]++;
    }
}

/* The window (the arena, 2 MiB aligned) is the offset strategy's range:
 * a level-2 entry starting at its base or ending at its last byte covers
 * only reserved space, the ones just outside do not. */
static void test_an_entry_starting_at_the_reserved_base_is_reserved_and_not_descended(void)
{
    boot();
    uint64_t rb = fake_bi.phys_window_base, end = rb + FAKE_ARENA_SIZE;
    struct level2_seen s = { { rb - MIB2, rb, end - MIB2, end }, { 0 }, { 0 } };
    pte_t *pt[4];
    for (unsigned i = 0; i < 4; i++)
        pt[i] = hand_path_with_leaf(s.va[i]);
    CHECK_EQ(pt_init(&fake_bi), PT_OK);
    pt_visit(1, note_level2, &s);
    const enum pt_visit_kind want[4] = { PT_VISIT_TABLE, PT_VISIT_RESERVED, PT_VISIT_RESERVED,
                                         PT_VISIT_TABLE };
    for (unsigned i = 0; i < 4; i++) {
        CHECK(s.kind[i] == want[i], "entry %u: kind %d, want %d", i, s.kind[i], want[i]);
        CHECK(s.leaves[i] == (want[i] == PT_VISIT_TABLE), "entry %u: %u leaves listed", i,
              s.leaves[i]);
        /* pt_init counted the PTs outside only: the others keep no count */
        CHECK_EQ(pt[i][0], want[i] == PT_VISIT_TABLE ? 0x5000 | PTE_P | (1ULL << 52)
                                                       : 0x5000 | PTE_P);
    }
    fake_capture_start();
    pt_dump_ranges();
    const char *got = fake_capture_end();
    char line[80];
    snprintf(line, sizeof(line), "0x%016llx-0x%016llx reserved by strategy offset\n",
             (unsigned long long)rb, (unsigned long long)(rb + MIB2 - 1));
    CHECK(strstr(got, line) != NULL, "no \"%s\" in:\n%s", line, got);
}

/* The loader's tables carry no counts; pt_init writes every one, and a PS
 * entry in the PML4 (reserved, SDM 4.5.4) before a table is reported but
 * does not stop the count of what follows. */
static void test_pt_init_recounts_a_populated_hierarchy_past_a_ps_pml4_entry(void)
{
    boot();
    CHECK_EQ(pt_map(vaddr(BASE), paddr(0x9000), KIB4, 0, NULL), PT_OK);
    CHECK_EQ(pt_map(vaddr(BASE + KIB4), paddr(0xA000), KIB4, 0, NULL), PT_OK);
    CHECK_EQ(pt_map(vaddr(BASE + GIB), paddr(GIB), MIB2, 0, NULL), PT_OK);
    CHECK_EQ(pt_map(vaddr(BASE + SLOT), paddr(GIB), GIB, 0, NULL), PT_OK);
    pte_t *ps = fake_entry(4, BASE - SLOT);
    *ps = 0x1000 | PTE_P | PTE_PS;
    const uint64_t tables[] = { BASE, BASE, BASE, BASE + GIB, BASE + SLOT };
    const unsigned levels[] = { 4, 3, 2, 2, 3 }, counts[] = { 3, 2, 1, 1, 1 };
    for (unsigned i = 0; i < 5; i++) /* forget every count, as the loader's tables */
        fake_entry(levels[i], tables[i] & ~(PT_LEVEL_SPAN(levels[i] + 1) - 1))[0] &=
            ~PT_COUNT_MASK;
    fake_entry(1, BASE)[0] &= ~PT_COUNT_MASK;
    CHECK_EQ(pt_init(&fake_bi), PT_ERR_PS_AT_L4);
    for (unsigned i = 0; i < 5; i++)
        CHECK(pt_table_used(levels[i], vaddr(tables[i])) == (int)counts[i],
              "level %u at 0x%llx: %d used, want %u", levels[i],
              (unsigned long long)tables[i], pt_table_used(levels[i], vaddr(tables[i])),
              counts[i]);
    CHECK_EQ(pt_table_used(1, vaddr(BASE)), 2);
    *ps = 0;
    CHECK_EQ(pt_init(&fake_bi), PT_OK);
    CHECK_EQ(pt_table_used(4, vaddr(BASE)), 2);
    CHECK_EQ(pt_unmap(vaddr(BASE), NULL, NULL), PT_OK);
    CHECK_EQ(pt_unmap(vaddr(BASE + KIB4), NULL, NULL), PT_OK);
    CHECK_EQ(pt_table_used(2, vaddr(BASE)), -1); /* the emptied PD went */
    CHECK_EQ(pt_table_used(3, vaddr(BASE)), 1);
}
#endif

/* A count gone wrong (the loader's tables carry none, a hand edit) stays
 * inside its field: unmapping below a PDPT whose count reads 0 takes it
 * to -1, which must not reach entry 0's address bits. */
static void test_a_count_that_wraps_never_changes_an_address_bit(void)
{
    boot();
    CHECK_EQ(pt_map(vaddr(BASE), paddr(0x9000), KIB4, 0, NULL), PT_OK);
    CHECK_EQ(pt_map(vaddr(BASE + GIB), paddr(0xA000), KIB4, 0, NULL), PT_OK);
    pte_t *e0 = fake_entry(3, BASE), link = *e0 & ~PT_COUNT_MASK;
    *e0 = link; /* count 0 */
    CHECK_EQ(pt_unmap(vaddr(BASE + GIB), NULL, NULL), PT_OK);
    CHECK_EQ(*e0 & ~PT_COUNT_MASK, link);
    CHECK_EQ(pt_table_used(3, vaddr(BASE)), 1023); /* the wrong count, in its field */
    struct pt_translation t;
    CHECK_EQ(pt_translate(vaddr(BASE), &t), PT_OK);
    CHECK_EQ(t.pa.pa, 0x9000);
}

/* ---- the loader's window (kernel/mm/phys_window.c) ---- */

#ifdef FAKE_STRATEGY_IS_OFFSET   /* offset only: the window and its frames are built by hand as offset's loader has them (the other strategies drop theirs in strategy_init, on every boot() here) */
#define WINDOW_TABLES 0x3000000ULL /* two frames, as stage2's window tables */
static uint64_t *window_meta;

/* A fresh machine whose frame allocator knows the loader's ranges: the
 * PML4 (a kept table) and two window tables (usable, starting used), the
 * window's PML4 entries at PHYS_WINDOW_PML4_INDEX and +1 and a neighbour
 * on each side, as stage2 leaves them. */
static void boot_with_window(struct boot_info *bi, uint64_t window_size)
{
    boot();
    *bi = fake_bi;
    bi->loader_ranges[0] = (struct loader_range){ fake_cpu.cr3, 1, LOADER_RANGE_PAGE_TABLES, 0 };
    bi->loader_ranges[1] = (struct loader_range){ WINDOW_TABLES, 2, LOADER_RANGE_WINDOW_TABLES, 0 };
    bi->loader_range_count = 2;
    bi->phys_window_size = window_size;
    uint64_t bytes = pmm_meta_bytes(FAKE_ARENA_SIZE / PAGE_SIZE);
    free(window_meta);
    window_meta = calloc(1, bytes);
    CHECK_EQ(pmm_init(bi, window_meta, bytes), PMM_OK);
    pte_t *pml4 = fake_phys(fake_cpu.cr3);
    pml4[PHYS_WINDOW_PML4_INDEX - 1] = 0x7000 | PTE_TABLE_LINK;
    pml4[PHYS_WINDOW_PML4_INDEX] = WINDOW_TABLES | PTE_TABLE_LINK;
    pml4[PHYS_WINDOW_PML4_INDEX + 1] = (WINDOW_TABLES + KIB4) | PTE_TABLE_LINK;
    pml4[PHYS_WINDOW_PML4_INDEX + 2] = 0x8000 | PTE_TABLE_LINK;
}

/* One PML4 slot per 512 GiB of window, rounded up; one full flush (rule
 * 3) before the window's tables go back to the general zone; a second
 * drop cannot give them back twice. */
static void test_drop_window_clears_its_slots_flushes_then_frees_its_tables(void)
{
    const struct { uint64_t size; unsigned slots; } cases[] = {
        { 1, 1 }, { SLOT - KIB4, 1 }, { SLOT, 1 }, { SLOT + 1, 2 }, { 2 * SLOT, 2 },
    };
    for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct boot_info bi;
        boot_with_window(&bi, cases[c].size);
        pte_t *pml4 = fake_phys(fake_cpu.cr3);
        pte_t kept = pml4[PHYS_WINDOW_PML4_INDEX + 1];
        uint64_t used = used_frames(), flushes = fake_cpu.flushes;
        pt_stats_reset();
        CHECK_EQ(phys_window_drop(&bi), PT_OK);
        CHECK(pml4[PHYS_WINDOW_PML4_INDEX] == 0, "case %u: first slot kept", c);
        CHECK(pml4[PHYS_WINDOW_PML4_INDEX + 1] == (cases[c].slots == 2 ? 0 : kept),
              "case %u: second slot 0x%llx", c,
              (unsigned long long)pml4[PHYS_WINDOW_PML4_INDEX + 1]);
        CHECK_EQ(pml4[PHYS_WINDOW_PML4_INDEX - 1], 0x7000 | PTE_TABLE_LINK);
        CHECK_EQ(pml4[PHYS_WINDOW_PML4_INDEX + 2], 0x8000 | PTE_TABLE_LINK);
        CHECK_EQ(fake_cpu.flushes - flushes, 1);
        CHECK_EQ(op_stats(PT_OP_OTHER).full_flushes, 1);
        CHECK_EQ(used_frames(), used - 2);
        CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, paddr(WINDOW_TABLES)), PMM_FRAME_FREE);
        CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, paddr(WINDOW_TABLES + KIB4)),
                 PMM_FRAME_FREE);
        CHECK_EQ(phys_window_drop(&bi), PT_ERR_BOOT_INFO);
    }
}
#endif

/* ---- dumps ---- */

/* The dumps of the strategy's own tables (the loader's, as fake_boot left
 * them: nothing for offset), taken before build_small_hierarchy maps. */
static char boot_raw[1 << 14], boot_ranges[1 << 14];

#define DUMP_VA (BASE + 0x400000) /* PML4 slot 32: the loader uses none */

/* Three pages in a fresh PML4 slot, one PT entry not present with a
 * software bit. Takes the dumps of the hierarchy as booted first. */
static void build_small_hierarchy(void)
{
    boot();
    fake_capture_start();
    pt_dump_raw(1);
    snprintf(boot_raw, sizeof(boot_raw), "%s", fake_capture_end());
    fake_capture_start();
    pt_dump_ranges();
    snprintf(boot_ranges, sizeof(boot_ranges), "%s", fake_capture_end());
    pt_map(vaddr(DUMP_VA), paddr(0xABC000), KIB4, PT_PROT_WRITE, NULL);
    pt_map(vaddr(DUMP_VA + 0x1000), paddr(0xABD000), KIB4, PT_PROT_WRITE, NULL);
    pt_map(vaddr(DUMP_VA + 0x2000), paddr(0xABE000), KIB4, PT_PROT_READ, NULL);
    *fake_entry(1, DUMP_VA + 0x5000) = 0x200; /* not present, a software bit set */
}

/* The frame of the level-`level` table on DUMP_VA's path. */
static uint64_t dump_table(unsigned level)
{
    return *fake_entry(level + 1, DUMP_VA) & PTE_ADDR_MASK;
}

/* `boot` with `block` inserted before its first line that `after` says
 * comes after the block: the dumps go in address order. */
static const char *insert_lines(const char *boot, const char *block, int (*after)(const char *))
{
    static char out[1 << 15];
    const char *at = boot;
    while (*at && !after(at)) {
        const char *nl = strchr(at, '\n');
        at = nl ? nl + 1 : at + strlen(at);
    }
    snprintf(out, sizeof(out), "%.*s%s%s", (int)(at - boot), boot, block, at);
    return out;
}

/* A raw-dump line of a PML4 entry above slot 32. */
static int raw_after(const char *line)
{
    return strncmp(line, "L4[", 3) == 0 && strtoul(line + 3, NULL, 10) > PT_INDEX(DUMP_VA, 4);
}

/* A range line starting above DUMP_VA. */
static int range_after(const char *line)
{
    return strtoull(line, NULL, 16) > DUMP_VA;
}

static void test_raw_dump_lists_every_level(void)
{
    build_small_hierarchy();
    fake_capture_start();
    pt_dump_raw(1);
    const char *got = fake_capture_end();
    char block[1024];
    snprintf(block, sizeof(block),
             "L4[32] 0x%016llx table 0x%llx (1 used) va 0x0000100000000000 W\n"
             "  L3[0] 0x%016llx table 0x%llx (1 used) va 0x0000100000000000 W\n"
             "    L2[2] 0x%016llx table 0x%llx (3 used) va 0x0000100000400000 W\n"
             "      L1[0] 0x8000000000abc003 4K page 0xabc000 va 0x0000100000400000 W NX\n"
             "      L1[1] 0x8000000000abd003 4K page 0xabd000 va 0x0000100000401000 W NX\n"
             "      L1[2] 0x8000000000abe001 4K page 0xabe000 va 0x0000100000402000 NX\n"
             "      L1[5] 0x0000000000000200 not present va 0x0000100000405000\n",
             (unsigned long long)(dump_table(3) | PTE_TABLE_LINK), (unsigned long long)dump_table(3),
             (unsigned long long)(dump_table(2) | PTE_TABLE_LINK), (unsigned long long)dump_table(2),
             (unsigned long long)(dump_table(1) | PTE_TABLE_LINK), (unsigned long long)dump_table(1));
    const char *want = insert_lines(boot_raw, block, raw_after);
    CHECK(strcmp(got, want) == 0, "got:\n%s\nwant:\n%s", got, want);
    fake_capture_start();
    pt_dump_raw(3);
    got = fake_capture_end();
    const char *mine = strstr(got, "L4[32]");
    CHECK(mine && strncmp(mine, block, strlen("L4[32]")) == 0 && strstr(got, "L2") == NULL &&
              strstr(mine, "  L3[0]") != NULL,
          "levels 4-3 only, got:\n%s", got);
}

static void test_range_dump_merges_contiguous_equal_leaves(void)
{
    build_small_hierarchy();
    fake_capture_start();
    pt_dump_ranges();
    const char *got = fake_capture_end();
    const char *want = insert_lines(
        boot_ranges,
        "0x0000100000400000-0x0000100000401fff -> 0x000000abc000-0x000000abdfff rw-\n"
        "0x0000100000402000-0x0000100000402fff -> 0x000000abe000-0x000000abefff r--\n",
        range_after);
    CHECK(strcmp(got, want) == 0, "got:\n%s\nwant:\n%s", got, want);
}

/* The last status and the last operation have their names; the first
 * value past each list, one far past it and -1 are "unknown" (not a read
 * past the name table). */
static void test_status_and_op_names_at_and_past_the_last_value(void)
{
    CHECK(strcmp(pt_status_name(PT_STATUS_COUNT - 1), "address space in use") == 0, "last: %s",
          pt_status_name(PT_STATUS_COUNT - 1));
    CHECK(strcmp(pt_op_name(PT_OP_COUNT - 1), "other") == 0, "last op: %s",
          pt_op_name(PT_OP_COUNT - 1));
    const unsigned outside[] = { PT_STATUS_COUNT, PT_STATUS_COUNT + 1, (unsigned)-1 };
    for (unsigned i = 0; i < sizeof(outside) / sizeof(outside[0]); i++)
        CHECK(strcmp(pt_status_name((enum pt_status)outside[i]), "unknown") == 0,
              "status %u: %s", outside[i], pt_status_name((enum pt_status)outside[i]));
    const unsigned ops[] = { PT_OP_COUNT, PT_OP_COUNT + 1, (unsigned)-1 };
    for (unsigned i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        CHECK(strcmp(pt_op_name((enum pt_op)ops[i]), "unknown") == 0, "op %u: %s", ops[i],
              pt_op_name((enum pt_op)ops[i]));
}

static const struct check_test tests[] = {
    CHECK_TEST(test_translate_tells_unmapped_from_noncanonical),
    CHECK_TEST(test_every_size_and_prot_maps_translates_and_unmaps),
    CHECK_TEST(test_without_nx_no_mapping_gets_bit_63),
    CHECK_TEST(test_without_1g_pages_1g_is_refused_and_ranges_use_2m),
    CHECK_TEST(test_mapping_twice_is_already_mapped_at_every_size),
    CHECK_TEST(test_huge_page_in_the_way_at_both_levels),
    CHECK_TEST(test_table_in_the_way_of_a_huge_page),
    CHECK_TEST(test_out_of_frames_at_each_level_leaves_no_trace),
    CHECK_TEST(test_misaligned_va_and_pa_for_each_size),
    CHECK_TEST(test_bad_arguments_get_their_own_status),
    CHECK_TEST(test_tables_are_created_and_freed_exactly),
    CHECK_TEST(test_effective_permissions_need_every_level),
    CHECK_TEST(test_translate_path_and_counters_are_exact),
    CHECK_TEST(test_non_present_entry_with_bits_is_unmapped),
    CHECK_TEST(test_ps_in_a_pml4_entry_is_a_status_not_a_panic),
    CHECK_TEST(test_protect_every_size_and_prot_keeps_address_and_ad_bits),
    CHECK_TEST(test_protect_refuses_an_entry_that_is_not_a_leaf_of_that_size),
    CHECK_TEST(test_unmap_inside_a_huge_page_is_misaligned),
    CHECK_TEST(test_tlb_rule_new_map_0_unmap_1_protect_1_big_range_1_flush),
    CHECK_TEST(test_range_of_1g_in_4k_pages_costs_exactly),
    CHECK_TEST(test_range_uses_huge_pages_where_aligned_and_asked),
    CHECK_TEST(test_range_map_conflict_rolls_back_everything),
    CHECK_TEST(test_range_map_out_of_frames_rolls_back_to_the_source),
    CHECK_TEST(test_range_map_rollback_keeps_the_parent_count_in_entry_0),
    CHECK_TEST(test_range_edit_refuses_to_split_a_huge_page),
    CHECK_TEST(test_protect_range_writes_only_what_changes),
    CHECK_TEST(test_canonical_hole_and_the_last_page),
    CHECK_TEST(test_huge_leaf_with_its_pat_bit_unmaps_and_dumps_with_an_aligned_frame),
    CHECK_TEST(test_the_reserved_range_is_refused_from_its_first_to_its_last_byte),
    CHECK_TEST(test_an_address_misaligned_by_one_byte_is_refused),
    CHECK_TEST(test_the_last_page_below_the_physical_width_maps_and_the_next_is_refused),
    CHECK_TEST(test_an_unknown_physical_width_means_52_bits),
    CHECK_TEST(test_a_user_map_counts_exactly_what_it_does),
#ifdef FAKE_STRATEGY_IS_OFFSET
    /* offset only: both build tables by hand from the general zone (the
     * pool strategies reach only pool frames) and count the PML4 as offset's
     * loader leaves it; the first also puts an entry at the window's base */
    CHECK_TEST(test_an_entry_starting_at_the_reserved_base_is_reserved_and_not_descended),
    CHECK_TEST(test_pt_init_recounts_a_populated_hierarchy_past_a_ps_pml4_entry),
#endif
    CHECK_TEST(test_a_count_that_wraps_never_changes_an_address_bit),
#ifdef FAKE_STRATEGY_IS_OFFSET
    CHECK_TEST(test_drop_window_clears_its_slots_flushes_then_frees_its_tables),
#endif
    CHECK_TEST(test_raw_dump_lists_every_level),
    CHECK_TEST(test_range_dump_merges_contiguous_equal_leaves),
    CHECK_TEST(test_status_and_op_names_at_and_past_the_last_value),
};

int main(void)
{
    char suite[64]; /* one program per strategy: the result lines say which */
    snprintf(suite, sizeof(suite), "pt/%s", strategy_name());
    return check_main(suite, tests, CHECK_COUNT(tests));
}
