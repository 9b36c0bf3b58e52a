/*
 * test_pmm.c - host tests of kernel/mm/pmm.c, the hierarchical-bitmap frame
 * allocator, built from hand-made BootInfo memory maps.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "fake_cpu.h"
#include "layout.h"
#include "pmm.h"
#include "pmm_meta.h"

#define MIB (1ULL << 20)
#define GIB (1ULL << 30)

static struct boot_info bi;
static uint64_t *meta;

static void add_region(uint64_t base, uint64_t len, uint32_t type)
{
    bi.map[bi.map_count++] = (struct mem_region){ base, len, type, 1 };
}

static void add_range(uint64_t base, uint64_t pages, uint32_t kind)
{
    bi.loader_ranges[bi.loader_range_count++] = (struct loader_range){ base, pages, kind, 0 };
}

/* Holes, reserved memory, loader ranges of every kind, memory below 1 MiB
 * and unaligned edges: the map the tests below share. */
static void messy_map(void)
{
    memset(&bi, 0, sizeof(bi));
    add_region(0, 0x9FC00, MEM_USABLE);                /* below 1 MiB: never */
    add_region(0x100000, 0x3F00000 + 0x800, MEM_USABLE); /* 1..64 MiB, ragged end */
    add_region(0x1000000, 0x10000, MEM_RESERVED);      /* hole inside it */
    add_region(0x8000123, 0x4000000, MEM_USABLE);      /* 128 MiB.., unaligned start */
    add_region(0x10000000, 0x1000, MEM_ACPI_NVS);
    bi.kernel_phys_start = 0x200000;
    bi.kernel_phys_end = 0x210000;
    add_range(0x200000, 0x10, LOADER_RANGE_KERNEL);
    add_range(0x210000, 4, LOADER_RANGE_PAGE_TABLES);  /* usable, starts used */
    add_range(0x214000, 2, LOADER_RANGE_BOOT_INFO);
    add_range(0x216000, 16, LOADER_RANGE_STACK);
    add_range(0x226000, 2, LOADER_RANGE_WINDOW_TABLES);/* usable, starts used */
    add_range(0x228000, 2, LOADER_RANGE_PMM_BITMAP);
    add_range(0x400000, 64, LOADER_RANGE_TABLE_POOL);  /* the pool zone */
    add_range(0x400000, 3, LOADER_RANGE_PAGE_TABLES);  /* tables inside the pool */
    bi.table_pool_phys = 0x400000;
    bi.table_pool_pages = 64;
}

/* The metadata starts as garbage: pmm_init must not need it zeroed. */
static enum pmm_status init_with(uint64_t frames)
{
    uint64_t bytes = pmm_meta_bytes(frames);
    free(meta);
    meta = malloc(bytes);
    memset(meta, 0xA5, bytes);
    return pmm_init(&bi, meta, bytes);
}

/* The frames the messy map may ever hand out, by brute force. */
static int frame_usable_by_hand(uint64_t pa)
{
    int usable = (pa >= 0x100000 && pa + PAGE_SIZE <= 0x4000800 &&
                  !(pa >= 0x1000000 && pa < 0x1010000)) ||
                 (pa >= 0x8001000 && pa + PAGE_SIZE <= 0xC000123);
    for (uint32_t i = 0; i < bi.loader_range_count; i++) {
        const struct loader_range *r = &bi.loader_ranges[i];
        int inside = pa >= r->base && pa < r->base + r->pages * PAGE_SIZE;
        int kept = r->kind == LOADER_RANGE_PAGE_TABLES || r->kind == LOADER_RANGE_WINDOW_TABLES;
        if (inside && (!kept || (pa >= 0x400000 && pa < 0x440000)))
            usable = 0;
    }
    return usable;
}

static uint64_t usable_by_hand(void)
{
    uint64_t n = 0;
    for (uint64_t pa = 0; pa < 0xC001000; pa += PAGE_SIZE)
        n += (uint64_t)frame_usable_by_hand(pa);
    return n;
}

static void test_every_frame_once_and_only_usable_ones(void)
{
    messy_map();
    if (!CHECK_EQ(init_with(0xC000123 / PAGE_SIZE), PMM_OK))
        return;
    struct pmm_counters c;
    pmm_get_counters(PMM_ZONE_GENERAL, &c);
    CHECK_EQ(c.total, usable_by_hand());
    CHECK_EQ(c.free, usable_by_hand() - 6); /* 4 + 2 kept table frames */
    uint8_t *seen = calloc(0xC001000 / PAGE_SIZE, 1);
    uint64_t got = 0;
    paddr_t f;
    while (pmm_alloc(PMM_ZONE_GENERAL, &f) == PMM_OK) {
        uint64_t n = f.pa / PAGE_SIZE;
        if (!CHECK(f.pa < 0xC001000 && !seen[n] && frame_usable_by_hand(f.pa),
                   "frame 0x%llx handed out wrongly", (unsigned long long)f.pa))
            break;
        seen[n] = 1;
        got++;
    }
    CHECK_EQ(got, c.free);
    CHECK_EQ(pmm_alloc(PMM_ZONE_GENERAL, &f), PMM_ERR_EXHAUSTED);
    CHECK_EQ(pmm_verify(PMM_ZONE_GENERAL), PMM_OK);
    free(seen);
}

static void test_kept_tables_start_used_and_can_be_released(void)
{
    messy_map();
    init_with(0xC000123 / PAGE_SIZE);
    CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, paddr(0x210000)), PMM_FRAME_USED);
    CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, paddr(0x226000)), PMM_FRAME_USED);
    CHECK_EQ(pmm_release_loader_ranges(&bi, LOADER_RANGE_WINDOW_TABLES), PMM_OK);
    CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, paddr(0x226000)), PMM_FRAME_FREE);
    CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, paddr(0x227000)), PMM_FRAME_FREE);
    CHECK_EQ(pmm_release_loader_ranges(&bi, LOADER_RANGE_WINDOW_TABLES), PMM_ERR_DOUBLE_FREE);
    CHECK_EQ(pmm_verify(PMM_ZONE_GENERAL), PMM_OK);
}

static void test_never_usable_frames_are_refused_on_free(void)
{
    messy_map();
    init_with(0xC000123 / PAGE_SIZE);
    const uint64_t bad[] = { 0x0, 0x1000, 0x9F000, 0x1000000, 0x200000, 0x214000,
                             0x216000, 0x228000, 0x400000, 0x403000, 0x8000000,
                             0xC000000, 0x10000000, 0x100000000ULL };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(pmm_free(PMM_ZONE_GENERAL, paddr(bad[i])) == PMM_ERR_NOT_USABLE,
              "0x%llx accepted", (unsigned long long)bad[i]);
    CHECK_EQ(pmm_free(PMM_ZONE_GENERAL, paddr(0x300800)), PMM_ERR_MISALIGNED);
    CHECK_EQ(pmm_verify(PMM_ZONE_GENERAL), PMM_OK);
}

static void test_double_free_is_caught_and_changes_nothing(void)
{
    messy_map();
    init_with(0xC000123 / PAGE_SIZE);
    paddr_t f;
    pmm_alloc(PMM_ZONE_GENERAL, &f);
    CHECK_EQ(pmm_free(PMM_ZONE_GENERAL, f), PMM_OK);
    struct pmm_counters before, after;
    pmm_get_counters(PMM_ZONE_GENERAL, &before);
    CHECK_EQ(pmm_free(PMM_ZONE_GENERAL, f), PMM_ERR_DOUBLE_FREE);
    pmm_get_counters(PMM_ZONE_GENERAL, &after);
    CHECK_EQ(after.free, before.free);
    CHECK_EQ(pmm_verify(PMM_ZONE_GENERAL), PMM_OK);
}

static void test_free_then_alloc_round_trips_with_exact_counters(void)
{
    messy_map();
    init_with(0xC000123 / PAGE_SIZE);
    struct pmm_counters c0, c;
    pmm_get_counters(PMM_ZONE_GENERAL, &c0);
    paddr_t a, b, again;
    pmm_alloc(PMM_ZONE_GENERAL, &a);
    pmm_alloc(PMM_ZONE_GENERAL, &b);
    CHECK_EQ(a.pa, 0x100000); /* lowest first: deterministic */
    CHECK_EQ(b.pa, 0x101000);
    pmm_get_counters(PMM_ZONE_GENERAL, &c);
    CHECK(c.free == c0.free - 2 && c.used == c0.used + 2 && c.peak_used == c0.used + 2,
          "counters after two allocations");
    pmm_free(PMM_ZONE_GENERAL, a);
    pmm_alloc(PMM_ZONE_GENERAL, &again);
    CHECK_EQ(again.pa, a.pa);
    pmm_free(PMM_ZONE_GENERAL, again);
    pmm_free(PMM_ZONE_GENERAL, b);
    pmm_get_counters(PMM_ZONE_GENERAL, &c);
    CHECK(c.free == c0.free && c.used == c0.used && c.peak_used == c0.used + 2,
          "counters back, peak kept");
    CHECK_EQ(pmm_verify(PMM_ZONE_GENERAL), PMM_OK);
}

static void test_pool_zone_holds_the_pool_minus_its_tables(void)
{
    messy_map();
    init_with(0xC000123 / PAGE_SIZE);
    struct pmm_counters c;
    pmm_get_counters(PMM_ZONE_TABLE_POOL, &c);
    CHECK_EQ(c.total, 64);
    CHECK_EQ(c.free, 61);
    paddr_t f;
    CHECK_EQ(pmm_alloc(PMM_ZONE_TABLE_POOL, &f), PMM_OK);
    CHECK_EQ(f.pa, 0x403000);
    CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, f), PMM_FRAME_NOT_USABLE);
    CHECK_EQ(pmm_free(PMM_ZONE_TABLE_POOL, paddr(0x400000)), PMM_OK); /* a pool table emptied */
    CHECK_EQ(pmm_free(PMM_ZONE_TABLE_POOL, paddr(0x300000)), PMM_ERR_NOT_USABLE);
    for (int i = 0; i < 61; i++)
        CHECK_EQ(pmm_alloc(PMM_ZONE_TABLE_POOL, &f), PMM_OK);
    CHECK_EQ(pmm_alloc(PMM_ZONE_TABLE_POOL, &f), PMM_ERR_EXHAUSTED);
    CHECK_EQ(pmm_verify(PMM_ZONE_TABLE_POOL), PMM_OK);
}

static void test_metadata_too_small_is_an_error(void)
{
    messy_map();
    uint64_t words = 0xC000123 / PAGE_SIZE / 64; /* level 0 alone, not the rest */
    free(meta);
    meta = calloc(words, 8);
    CHECK_EQ(pmm_init(&bi, meta, words * 8), PMM_ERR_META_TOO_SMALL);
    paddr_t f;
    CHECK_EQ(pmm_alloc(PMM_ZONE_GENERAL, &f), PMM_ERR_EXHAUSTED);
}

static void test_sparse_512_gib_map_costs_the_same(void)
{
    memset(&bi, 0, sizeof(bi));
    add_region(MIB, 127 * MIB, MEM_USABLE);
    add_region(511 * GIB, GIB, MEM_USABLE);
    if (!CHECK_EQ(init_with(512 * GIB / PAGE_SIZE), PMM_OK))
        return;
    struct pmm_counters c;
    pmm_get_counters(PMM_ZONE_GENERAL, &c);
    CHECK_EQ(c.total, (127 * MIB + GIB) / PAGE_SIZE);
    uint64_t n = 0, last = 0;
    paddr_t f;
    while (pmm_alloc(PMM_ZONE_GENERAL, &f) == PMM_OK) {
        if (!CHECK(f.pa > last || n == 0, "not ascending at 0x%llx", (unsigned long long)f.pa))
            break;
        last = f.pa;
        n++;
    }
    CHECK_EQ(n, c.total);
    CHECK_EQ(last, 512 * GIB - PAGE_SIZE);
    CHECK_EQ(pmm_free(PMM_ZONE_GENERAL, paddr(300 * GIB)), PMM_ERR_NOT_USABLE);
    CHECK_EQ(pmm_free(PMM_ZONE_GENERAL, paddr(511 * GIB + 5 * PAGE_SIZE)), PMM_OK);
    CHECK_EQ(pmm_alloc(PMM_ZONE_GENERAL, &f), PMM_OK);
    CHECK_EQ(f.pa, 511 * GIB + 5 * PAGE_SIZE);
    CHECK_EQ(pmm_verify(PMM_ZONE_GENERAL), PMM_OK);
}

/* Random alloc/free against a set of held frames; invariants hold. */
static void test_random_alloc_free_keeps_invariants(void)
{
    messy_map();
    init_with(0xC000123 / PAGE_SIZE);
    enum { HELD_MAX = 4096 };
    static paddr_t held[HELD_MAX];
    unsigned n = 0;
    srand(7);
    for (int i = 0; i < 200000; i++) {
        if (n < HELD_MAX && (n == 0 || rand() % 3 != 0)) {
            if (pmm_alloc(PMM_ZONE_GENERAL, &held[n]) == PMM_OK)
                n++;
        } else {
            unsigned k = (unsigned)rand() % n;
            CHECK_EQ(pmm_free(PMM_ZONE_GENERAL, held[k]), PMM_OK);
            held[k] = held[--n];
        }
        if (i % 20000 == 0 && !CHECK_EQ(pmm_verify(PMM_ZONE_GENERAL), PMM_OK))
            return;
    }
    struct pmm_counters c;
    pmm_get_counters(PMM_ZONE_GENERAL, &c);
    CHECK_EQ(c.used, n + 6);
}

/* ---- the lazily written bitmap: order, the frontier, what is touched ---- */

#define MESSY_FRAMES (0xC001000 / PAGE_SIZE)
#define HIGH_TABLES 0xA001000ULL /* kept tables far above where allocation starts */

/* The messy map plus three kept loader tables high in the second region:
 * usable, initially used, far above the first frames handed out, and not
 * on a bitmap-word boundary, so a word holds the end of one free run and
 * the start of the next; a two-page loader range does the same lower. */
static void messy_map_with_high_tables(void)
{
    messy_map();
    add_range(HIGH_TABLES, 3, LOADER_RANGE_PAGE_TABLES);
    add_range(0x3005000, 2, LOADER_RANGE_STACK);
}

static int frame_kept_table_by_hand(uint64_t pa)
{
    for (uint32_t i = 0; i < bi.loader_range_count; i++) {
        const struct loader_range *r = &bi.loader_ranges[i];
        int kept = r->kind == LOADER_RANGE_PAGE_TABLES || r->kind == LOADER_RANGE_WINDOW_TABLES;
        if (kept && pa >= r->base && pa < r->base + r->pages * PAGE_SIZE)
            return 1;
    }
    return 0;
}

/* A model of the general zone: one byte per frame (1 = free), the lowest
 * free frame being what pmm_alloc must return. */
static uint8_t *model;
static uint64_t model_low;

static void model_init(void)
{
    free(model);
    model = calloc(MESSY_FRAMES, 1);
    for (uint64_t n = 0; n < MESSY_FRAMES; n++)
        model[n] = frame_usable_by_hand(n * PAGE_SIZE) && !frame_kept_table_by_hand(n * PAGE_SIZE);
    model_low = 0;
}

/* The lowest free frame, now used; 0 when none is left. */
static uint64_t model_take(void)
{
    while (model_low < MESSY_FRAMES && !model[model_low])
        model_low++;
    if (model_low == MESSY_FRAMES)
        return 0;
    model[model_low] = 0;
    return model_low * PAGE_SIZE;
}

static void model_give(uint64_t pa)
{
    model[pa / PAGE_SIZE] = 1;
    if (pa / PAGE_SIZE < model_low)
        model_low = pa / PAGE_SIZE;
}

static enum pmm_frame_state model_state(uint64_t pa)
{
    if (!frame_usable_by_hand(pa))
        return PMM_FRAME_NOT_USABLE;
    return model[pa / PAGE_SIZE] ? PMM_FRAME_FREE : PMM_FRAME_USED;
}

static uint64_t model_free_count(void)
{
    uint64_t n = 0;
    for (uint64_t i = 0; i < MESSY_FRAMES; i++)
        n += model[i];
    return n;
}

/* Frames the model test holds (allocated by it), and a mark per frame. */
static uint64_t held[MESSY_FRAMES];
static uint8_t held_mark[MESSY_FRAMES];
static unsigned held_n;

/* Picks a frame to probe: a kept table one time in four (they are few),
 * otherwise any frame of the map, usable or not. */
static uint64_t probe_frame(void)
{
    static const uint64_t kept[] = { 0x210000, 0x211000, 0x212000, 0x213000, 0x226000,
                                     0x227000, HIGH_TABLES, HIGH_TABLES + PAGE_SIZE,
                                     HIGH_TABLES + 2 * PAGE_SIZE };
    if (check_random(4) == 0)
        return kept[check_random(sizeof(kept) / sizeof(kept[0]))];
    return (uint64_t)check_random(MESSY_FRAMES) * PAGE_SIZE;
}

/* pmm_alloc must return the model's lowest free frame, or be exhausted. */
static bool model_step_alloc(void)
{
    uint64_t want = model_take();
    paddr_t f = paddr(1);
    enum pmm_status st = pmm_alloc(PMM_ZONE_GENERAL, &f);
    if (!CHECK(want ? st == PMM_OK && f.pa == want : st == PMM_ERR_EXHAUSTED && f.pa == 1,
               "alloc gave %s 0x%llx, want 0x%llx", pmm_status_name(st),
               (unsigned long long)f.pa, (unsigned long long)want))
        return false;
    if (want) {
        held[held_n++] = want;
        held_mark[want / PAGE_SIZE] = 1;
    }
    return true;
}

static bool model_step_free_held(void)
{
    unsigned k = check_random(held_n);
    uint64_t pa = held[k];
    held[k] = held[--held_n];
    held_mark[pa / PAGE_SIZE] = 0;
    model_give(pa);
    return CHECK_EQ(pmm_free(PMM_ZONE_GENERAL, paddr(pa)), PMM_OK);
}

/* State of any frame, then a free of it: refused when unusable, a double
 * free when free, accepted when it is a kept table nobody allocated. */
static bool model_step_probe(void)
{
    uint64_t pa = probe_frame();
    enum pmm_frame_state want = model_state(pa);
    if (!CHECK(pmm_frame_state(PMM_ZONE_GENERAL, paddr(pa)) == want,
               "state of 0x%llx, want %d", (unsigned long long)pa, want))
        return false;
    if (want == PMM_FRAME_USED && held_mark[pa / PAGE_SIZE])
        return true; /* the test's own: freed by model_step_free_held */
    enum pmm_status st = pmm_free(PMM_ZONE_GENERAL, paddr(pa));
    if (want == PMM_FRAME_USED)
        model_give(pa);
    enum pmm_status expect = want == PMM_FRAME_NOT_USABLE ? PMM_ERR_NOT_USABLE :
                             want == PMM_FRAME_FREE ? PMM_ERR_DOUBLE_FREE : PMM_OK;
    return CHECK(st == expect, "free of 0x%llx: %s, want %s", (unsigned long long)pa,
                 pmm_status_name(st), pmm_status_name(expect));
}

/* One phase of random operations; alloc_weight of 10 are allocations. */
static bool model_phase(unsigned ops, unsigned alloc_weight)
{
    for (unsigned i = 0; i < ops; i++) {
        unsigned r = check_random(10);
        bool ok = r < alloc_weight ? model_step_alloc() :
                  r < 8 && held_n > 0 ? model_step_free_held() : model_step_probe();
        if (!ok)
            return false;
        if (i % 10000 == 0 && !CHECK_EQ(pmm_verify(PMM_ZONE_GENERAL), PMM_OK))
            return false;
    }
    return true;
}

/* Random allocations, frees and probes of any frame (holes, kept tables
 * above and below the frontier, free frames not reached yet) agree with a
 * brute-force model; the allocator always returns the lowest free frame. */
static void test_random_operations_match_a_model_across_holes_and_the_frontier(void)
{
    messy_map_with_high_tables();
    if (!CHECK_EQ(init_with(MESSY_FRAMES), PMM_OK))
        return;
    model_init();
    held_n = 0;
    memset(held_mark, 0, sizeof(held_mark));
    if (!model_phase(120000, 6) || !model_phase(60000, 2) || !model_phase(60000, 6))
        return;
    struct pmm_counters c;
    pmm_get_counters(PMM_ZONE_GENERAL, &c);
    CHECK_EQ(c.free, model_free_count());
    CHECK_EQ(pmm_verify(PMM_ZONE_GENERAL), PMM_OK);
}

/* Right after init nothing is written; freeing a kept table 160 MiB up
 * writes what lies below it and makes it free, and only it. */
static void test_a_kept_table_far_above_the_frontier_can_be_freed(void)
{
    messy_map_with_high_tables();
    if (!CHECK_EQ(init_with(MESSY_FRAMES), PMM_OK))
        return;
    struct pmm_counters c0, c;
    pmm_get_counters(PMM_ZONE_GENERAL, &c0);
    const uint64_t t = HIGH_TABLES + PAGE_SIZE;
    CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, paddr(t)), PMM_FRAME_USED);
    CHECK_EQ(pmm_free(PMM_ZONE_GENERAL, paddr(t)), PMM_OK);
    CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, paddr(t)), PMM_FRAME_FREE);
    CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, paddr(t - PAGE_SIZE)), PMM_FRAME_USED);
    CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, paddr(t + PAGE_SIZE)), PMM_FRAME_USED);
    CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, paddr(HIGH_TABLES - PAGE_SIZE)), PMM_FRAME_FREE);
    CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, paddr(HIGH_TABLES + 3 * PAGE_SIZE)), PMM_FRAME_FREE);
    CHECK_EQ(pmm_free(PMM_ZONE_GENERAL, paddr(t)), PMM_ERR_DOUBLE_FREE);
    pmm_get_counters(PMM_ZONE_GENERAL, &c);
    CHECK(c.free == c0.free + 1 && c.used == c0.used - 1, "counters after the free");
    CHECK_EQ(pmm_verify(PMM_ZONE_GENERAL), PMM_OK);
    uint64_t n = 0, last = 0, seen_t = 0, seen_kept = 0;
    paddr_t f;
    while (pmm_alloc(PMM_ZONE_GENERAL, &f) == PMM_OK) {
        if (!CHECK(n == 0 ? f.pa == 0x100000 : f.pa > last, "0x%llx out of order",
                   (unsigned long long)f.pa))
            return;
        seen_t += f.pa == t;
        seen_kept += f.pa == HIGH_TABLES || f.pa == t + PAGE_SIZE;
        last = f.pa;
        n++;
    }
    CHECK(n == c.free && seen_t == 1 && seen_kept == 0, "%llu frames, freed table %llu times",
          (unsigned long long)n, (unsigned long long)seen_t);
    CHECK_EQ(pmm_free(PMM_ZONE_GENERAL, paddr(HIGH_TABLES)), PMM_OK); /* now below the frontier */
    CHECK_EQ(pmm_alloc(PMM_ZONE_GENERAL, &f), PMM_OK);
    CHECK_EQ(f.pa, HIGH_TABLES);
    CHECK_EQ(pmm_verify(PMM_ZONE_GENERAL), PMM_OK);
}

static void expect_double_free(uint64_t pa)
{
    struct pmm_counters before, after;
    pmm_get_counters(PMM_ZONE_GENERAL, &before);
    CHECK(pmm_free(PMM_ZONE_GENERAL, paddr(pa)) == PMM_ERR_DOUBLE_FREE,
          "0x%llx: not a double free", (unsigned long long)pa);
    pmm_get_counters(PMM_ZONE_GENERAL, &after);
    CHECK(after.free == before.free && after.used == before.used, "counters changed");
    CHECK_EQ(pmm_verify(PMM_ZONE_GENERAL), PMM_OK);
}

/* A double free is refused whether the frame is above the frontier (its
 * initial state), below it and never allocated, or allocated and freed. */
static void test_double_free_above_and_below_the_frontier(void)
{
    messy_map_with_high_tables();
    if (!CHECK_EQ(init_with(MESSY_FRAMES), PMM_OK))
        return;
    expect_double_free(0xB000000); /* nothing written yet */
    expect_double_free(0x100000);
    paddr_t f;
    CHECK_EQ(pmm_alloc(PMM_ZONE_GENERAL, &f), PMM_OK); /* writes 0x100000's word */
    CHECK_EQ(f.pa, 0x100000);
    expect_double_free(0x101000); /* written, never allocated */
    CHECK_EQ(pmm_free(PMM_ZONE_GENERAL, f), PMM_OK);
    expect_double_free(f.pa);
    CHECK_EQ(pmm_free(PMM_ZONE_GENERAL, paddr(0x210000)), PMM_OK); /* kept table above */
    expect_double_free(0x210000);                                 /* now below */
    expect_double_free(0xB000000);
}

/* All frames, exhaustion, all back in a random order: the second round
 * hands out exactly the same frames in the same order. */
static void test_exhaustion_then_refill_hands_out_the_same_frames_again(void)
{
    messy_map_with_high_tables();
    if (!CHECK_EQ(init_with(MESSY_FRAMES), PMM_OK))
        return;
    struct pmm_counters c0, c;
    pmm_get_counters(PMM_ZONE_GENERAL, &c0);
    uint64_t *first = calloc(MESSY_FRAMES, sizeof(uint64_t)), *order = calloc(MESSY_FRAMES, sizeof(uint64_t));
    uint64_t n = 0, again = 0, differ = 0;
    paddr_t f = paddr(1);
    while (pmm_alloc(PMM_ZONE_GENERAL, &f) == PMM_OK)
        first[n++] = f.pa;
    CHECK_EQ(n, c0.free);
    CHECK_EQ(pmm_alloc(PMM_ZONE_GENERAL, &f), PMM_ERR_EXHAUSTED);
    CHECK_EQ(pmm_verify(PMM_ZONE_GENERAL), PMM_OK);
    memcpy(order, first, n * sizeof(uint64_t));
    for (uint64_t i = n; i > 1; i--) {
        uint64_t k = check_random((uint32_t)i), x = order[i - 1];
        order[i - 1] = order[k];
        order[k] = x;
    }
    for (uint64_t i = 0; i < n; i++)
        CHECK_EQ(pmm_free(PMM_ZONE_GENERAL, paddr(order[i])), PMM_OK);
    pmm_get_counters(PMM_ZONE_GENERAL, &c);
    CHECK(c.free == c0.free && c.used == c0.used, "counters back");
    CHECK_EQ(pmm_verify(PMM_ZONE_GENERAL), PMM_OK);
    while (pmm_alloc(PMM_ZONE_GENERAL, &f) == PMM_OK)
        differ += again >= n || first[again++] != f.pa;
    CHECK(again == n && differ == 0, "%llu frames the second time, %llu differ",
          (unsigned long long)again, (unsigned long long)differ);
    CHECK_EQ(pmm_verify(PMM_ZONE_GENERAL), PMM_OK);
    free(first);
    free(order);
}

/* A pool that starts in the middle of a bitmap word (its base is not a
 * multiple of 64 frames) hands out its frames in order. */
static void test_pool_zone_with_an_unaligned_base(void)
{
    messy_map();
    bi.loader_ranges[bi.loader_range_count - 2].base = 0x405000; /* the pool range */
    bi.table_pool_phys = 0x405000;
    if (!CHECK_EQ(init_with(MESSY_FRAMES), PMM_OK))
        return;
    paddr_t f;
    uint64_t n = 0, bad = 0;
    while (pmm_alloc(PMM_ZONE_TABLE_POOL, &f) == PMM_OK)
        bad += f.pa != 0x405000 + n++ * PAGE_SIZE;
    CHECK(n == 64 && bad == 0, "%llu frames, %llu out of place", (unsigned long long)n,
          (unsigned long long)bad);
    CHECK_EQ(pmm_free(PMM_ZONE_TABLE_POOL, paddr(0x444000)), PMM_OK);
    CHECK_EQ(pmm_free(PMM_ZONE_TABLE_POOL, paddr(0x445000)), PMM_ERR_NOT_USABLE);
    CHECK_EQ(pmm_verify(PMM_ZONE_TABLE_POOL), PMM_OK);
}

/* Pages of [p, p + bytes) the host has mapped (read or written). */
static size_t resident_pages(void *p, size_t bytes)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), n = 0, pages = (bytes + page - 1) / page;
    unsigned char *vec = calloc(pages, 1);
    if (mincore(p, bytes, vec) != 0)
        n = pages; /* cannot tell: count everything, so the check fails */
    else
        for (size_t i = 0; i < pages; i++)
            n += vec[i] & 1;
    free(vec);
    return n;
}

/* Byte offset of the top-level word in the metadata of `frames` frames. */
static uint64_t top_word_offset(uint64_t frames)
{
    uint64_t words = 0;
    for (unsigned l = 0; l + 1 < PMM_LEVELS; l++)
        words += pmm_level_words(frames, l);
    return words * sizeof(uint64_t);
}

/* 512 GiB of address space, 1.1 GiB of it usable: pmm_init works with
 * every metadata page inaccessible but the top word's (a touch would
 * fault), answers states and double frees without the bitmap, and later
 * operations touch pages in proportion to the frames handed out. */
static void test_sparse_512_gib_init_touches_metadata_by_extents_not_by_ram(void)
{
    memset(&bi, 0, sizeof(bi));
    add_region(MIB, 127 * MIB, MEM_USABLE);
    add_region(511 * GIB, GIB, MEM_USABLE);
    add_range(511 * GIB + MIB, 4, LOADER_RANGE_PAGE_TABLES);
    uint64_t frames = 512 * GIB / PAGE_SIZE, bytes = pmm_meta_bytes(frames);
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), top = top_word_offset(frames) & ~(page - 1);
    uint8_t *m = mmap(NULL, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (!CHECK(m != MAP_FAILED, "mmap of %llu bytes", (unsigned long long)bytes))
        return;
    mprotect(m + top, page, PROT_READ | PROT_WRITE);
    if (!CHECK_EQ(pmm_init(&bi, (uint64_t *)(void *)m, bytes), PMM_OK))
        return;
    CHECK_EQ(pmm_verify(PMM_ZONE_GENERAL), PMM_OK);
    CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, paddr(511 * GIB + MIB)), PMM_FRAME_USED);
    CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, paddr(511 * GIB)), PMM_FRAME_FREE);
    CHECK_EQ(pmm_free(PMM_ZONE_GENERAL, paddr(511 * GIB)), PMM_ERR_DOUBLE_FREE);
    CHECK_EQ(pmm_free(PMM_ZONE_GENERAL, paddr(300 * GIB)), PMM_ERR_NOT_USABLE);
    mprotect(m, bytes, PROT_READ | PROT_WRITE);
    CHECK(resident_pages(m, bytes) <= 1, "%zu pages touched by init", resident_pages(m, bytes));
    paddr_t f;
    for (int i = 0; i < 1000; i++)
        pmm_alloc(PMM_ZONE_GENERAL, &f);
    CHECK_EQ(f.pa, MIB + 999 * PAGE_SIZE);
    CHECK_EQ(pmm_free(PMM_ZONE_GENERAL, paddr(511 * GIB + MIB + PAGE_SIZE)), PMM_OK);
    CHECK(resident_pages(m, bytes) <= 2 * PMM_LEVELS, "%zu pages after 1000 frames and a free",
          resident_pages(m, bytes));
    CHECK_EQ(pmm_verify(PMM_ZONE_GENERAL), PMM_OK);
    uint64_t n = 1000;
    while (pmm_alloc(PMM_ZONE_GENERAL, &f) == PMM_OK)
        n++;
    CHECK_EQ(n, (127 * MIB + GIB) / PAGE_SIZE - 3);
    CHECK_EQ(f.pa, 512 * GIB - PAGE_SIZE);
    CHECK(resident_pages(m, bytes) <= 16, "%zu pages with every frame handed out",
          resident_pages(m, bytes)); /* of 4225: 1.1 GiB needs 9 level-0 pages */
    CHECK_EQ(pmm_verify(PMM_ZONE_GENERAL), PMM_OK);
    munmap(m, bytes);
}

/* ---- boundaries: hand-made maps, loader ranges, gaps, names ---- */

/* Takes every frame of zone; counts those for which bad() holds and those
 * not strictly above the one before (the lowest free frame comes first). */
static uint64_t take_all(enum pmm_zone zone, int (*bad)(uint64_t pa), uint64_t *wrong)
{
    uint64_t n = 0, last = 0;
    paddr_t f;
    *wrong = 0;
    while (pmm_alloc(zone, &f) == PMM_OK) {
        *wrong += (uint64_t)bad(f.pa) + (n && f.pa <= last);
        last = f.pa;
        n++;
    }
    return n;
}

/* [1, 48) and [64, 100) MiB, as the union of the map below. */
static int outside_union(uint64_t pa)
{
    return !((pa >= MIB && pa < 48 * MIB) || (pa >= 64 * MIB && pa < 100 * MIB));
}

/* A hand-made map need not be sanitised: usable entries out of order, one
 * overlapping and extending another, one inside another, and two pairs
 * touching. The zone holds exactly their union, each frame once. */
static void test_unsorted_overlapping_and_touching_usable_entries_give_their_union(void)
{
    memset(&bi, 0, sizeof(bi));
    add_region(64 * MIB, 32 * MIB, MEM_USABLE);  /* [64, 96) first: out of order */
    add_region(MIB, 31 * MIB, MEM_USABLE);       /* [1, 32) */
    add_region(16 * MIB, 24 * MIB, MEM_USABLE);  /* [16, 40): overlaps, reaches further */
    add_region(4 * MIB, 4 * MIB, MEM_USABLE);    /* [4, 8): inside [1, 32) */
    add_region(96 * MIB, 4 * MIB, MEM_USABLE);   /* [96, 100): touches [64, 96) */
    add_region(40 * MIB, 8 * MIB, MEM_USABLE);   /* [40, 48): touches [16, 40) */
    if (!CHECK_EQ(init_with(100 * MIB / PAGE_SIZE), PMM_OK))
        return;
    struct pmm_counters c;
    pmm_get_counters(PMM_ZONE_GENERAL, &c);
    CHECK_EQ(c.total, (47 + 36) * MIB / PAGE_SIZE);
    CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, paddr(48 * MIB - PAGE_SIZE)), PMM_FRAME_FREE);
    CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, paddr(48 * MIB)), PMM_FRAME_NOT_USABLE);
    CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, paddr(64 * MIB - PAGE_SIZE)), PMM_FRAME_NOT_USABLE);
    CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, paddr(100 * MIB - PAGE_SIZE)), PMM_FRAME_FREE);
    uint64_t wrong, n = take_all(PMM_ZONE_GENERAL, outside_union, &wrong);
    CHECK_EQ(n, c.total);
    CHECK_EQ(wrong, 0);
    CHECK_EQ(pmm_verify(PMM_ZONE_GENERAL), PMM_OK);
}

/* Two usable entries touching inside a frame: neither holds the frame
 * whole, together they do, so it is usable (as stage2's sanitiser, which
 * merges before it rounds, would say). One byte apart, it is not. */
static void test_usable_entries_touching_inside_a_frame_share_it(void)
{
    memset(&bi, 0, sizeof(bi));
    add_region(MIB, 2 * MIB + 0x800, MEM_USABLE);              /* [1M, 3M + 2K) */
    add_region(3 * MIB + 0x800, MIB - 0x800, MEM_USABLE);      /* [3M + 2K, 4M) */
    add_region(4 * MIB + 0x801, 2 * MIB - 0x801, MEM_USABLE);  /* a byte's gap at 4M + 2K */
    add_region(4 * MIB, 0x800, MEM_USABLE);
    if (!CHECK_EQ(init_with(6 * MIB / PAGE_SIZE), PMM_OK))
        return;
    struct pmm_counters c;
    pmm_get_counters(PMM_ZONE_GENERAL, &c);
    CHECK_EQ(c.total, 5 * MIB / PAGE_SIZE - 1);
    CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, paddr(3 * MIB)), PMM_FRAME_FREE);
    CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, paddr(4 * MIB)), PMM_FRAME_NOT_USABLE);
    CHECK_EQ(pmm_verify(PMM_ZONE_GENERAL), PMM_OK);
}

#define IMAGE_HIGH 0x3000000   /* 48 MiB: inside the messy map's first usable region */
#define IMAGE_PAGES 8

static int in_high_image(uint64_t pa)
{
    return pa >= IMAGE_HIGH && pa < IMAGE_HIGH + IMAGE_PAGES * PAGE_SIZE;
}

/* The loader's image range (stage1, stage2, its stack) lies below 1 MiB
 * in pagelab, where nothing is handed out anyway; a loader that put it
 * higher must still get it kept: never handed out, never taken back by a
 * free. The frames either side are ordinary. */
static void test_a_loader_image_range_above_1_mib_is_never_handed_out(void)
{
    messy_map();
    add_range(IMAGE_HIGH, IMAGE_PAGES, LOADER_RANGE_IMAGE);
    if (!CHECK_EQ(init_with(MESSY_FRAMES), PMM_OK))
        return;
    for (uint64_t k = 0; k < IMAGE_PAGES; k++) {
        CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, paddr(IMAGE_HIGH + k * PAGE_SIZE)),
                 PMM_FRAME_NOT_USABLE);
        CHECK_EQ(pmm_free(PMM_ZONE_GENERAL, paddr(IMAGE_HIGH + k * PAGE_SIZE)),
                 PMM_ERR_NOT_USABLE);
    }
    CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, paddr(IMAGE_HIGH - PAGE_SIZE)), PMM_FRAME_FREE);
    CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, paddr(IMAGE_HIGH + IMAGE_PAGES * PAGE_SIZE)),
             PMM_FRAME_FREE);
    uint64_t wrong;
    take_all(PMM_ZONE_GENERAL, in_high_image, &wrong);
    CHECK_EQ(wrong, 0);
}

#define POOL_INSIDE 0x420000   /* 32 frames into the messy map's 64-frame pool */
#define POOL_INSIDE_PAGES 4

static int pool_frame_wrong(uint64_t pa)
{
    return pa < 0x400000 || pa >= 0x440000 ||
           (pa >= POOL_INSIDE && pa < POOL_INSIDE + POOL_INSIDE_PAGES * PAGE_SIZE);
}

/* A loader range of another kind inside the table pool (BootInfo there)
 * is cut out of the pool zone: 64 - 4 frames, 3 of them kept tables. */
static void test_a_loader_range_inside_the_table_pool_is_not_pool_memory(void)
{
    messy_map();
    add_range(POOL_INSIDE, POOL_INSIDE_PAGES, LOADER_RANGE_BOOT_INFO);
    if (!CHECK_EQ(init_with(MESSY_FRAMES), PMM_OK))
        return;
    struct pmm_counters c;
    pmm_get_counters(PMM_ZONE_TABLE_POOL, &c);
    CHECK_EQ(c.total, 64 - POOL_INSIDE_PAGES);
    CHECK_EQ(c.free, 64 - POOL_INSIDE_PAGES - 3);
    CHECK_EQ(pmm_frame_state(PMM_ZONE_TABLE_POOL, paddr(POOL_INSIDE)), PMM_FRAME_NOT_USABLE);
    CHECK_EQ(pmm_frame_state(PMM_ZONE_TABLE_POOL, paddr(POOL_INSIDE - PAGE_SIZE)), PMM_FRAME_FREE);
    CHECK_EQ(pmm_frame_state(PMM_ZONE_TABLE_POOL,
                             paddr(POOL_INSIDE + POOL_INSIDE_PAGES * PAGE_SIZE)), PMM_FRAME_FREE);
    CHECK_EQ(pmm_free(PMM_ZONE_TABLE_POOL, paddr(POOL_INSIDE)), PMM_ERR_NOT_USABLE);
    uint64_t wrong, n = take_all(PMM_ZONE_TABLE_POOL, pool_frame_wrong, &wrong);
    CHECK_EQ(n, c.free);
    CHECK_EQ(wrong, 0);
    CHECK_EQ(pmm_verify(PMM_ZONE_TABLE_POOL), PMM_OK);
}

#define GAP_POOL_BASE 0x400000
#define GAP_POOL_PAGES TABLE_POOL_PAGES
#define GAP_START 64           /* pool frame where the gap starts: a word boundary */

static uint64_t gap_frames;

static int in_gap_or_outside_pool(uint64_t pa)
{
    uint64_t i = (pa - GAP_POOL_BASE) / PAGE_SIZE;
    return pa < GAP_POOL_BASE || i >= GAP_POOL_PAGES ||
           (i >= GAP_START && i < GAP_START + gap_frames);
}

/* A pool zone split by a gap of `*arg` frames (another loader range):
 * 63 stays inside two bitmap words, 64 covers one word exactly, 128 two.
 * The words over the gap are left holding stale free bits from an earlier
 * pmm_init (pmm_init never clears them, as it need not): pmm_verify must
 * skip them, before, during and after every frame is handed out. */
static void pool_gap_case(const void *arg)
{
    gap_frames = *(const uint64_t *)arg;
    messy_map();
    bi.loader_ranges[bi.loader_range_count - 2].pages = GAP_POOL_PAGES;
    bi.table_pool_pages = GAP_POOL_PAGES;
    bi.loader_range_count--;                     /* no kept tables inside this pool */
    if (!CHECK_EQ(init_with(MESSY_FRAMES), PMM_OK))
        return;
    uint64_t wrong, n = take_all(PMM_ZONE_TABLE_POOL, in_gap_or_outside_pool, &wrong);
    for (uint64_t i = 0; i < n; i++)              /* every word of the pool: all ones */
        pmm_free(PMM_ZONE_TABLE_POOL, paddr(GAP_POOL_BASE + i * PAGE_SIZE));
    add_range(GAP_POOL_BASE + GAP_START * PAGE_SIZE, gap_frames, LOADER_RANGE_STACK);
    if (!CHECK_EQ(init_with(MESSY_FRAMES), PMM_OK))
        return;
    CHECK_EQ(pmm_verify(PMM_ZONE_TABLE_POOL), PMM_OK);
    paddr_t f;
    for (int i = 0; i < 100; i++)                 /* the frontier crosses the gap */
        pmm_alloc(PMM_ZONE_TABLE_POOL, &f);
    CHECK_EQ(pmm_verify(PMM_ZONE_TABLE_POOL), PMM_OK);
    n = 100 + take_all(PMM_ZONE_TABLE_POOL, in_gap_or_outside_pool, &wrong);
    CHECK_EQ(n, GAP_POOL_PAGES - gap_frames);
    CHECK_EQ(wrong, 0);
    CHECK_EQ(pmm_verify(PMM_ZONE_TABLE_POOL), PMM_OK);
    CHECK_EQ(pmm_free(PMM_ZONE_TABLE_POOL, paddr(GAP_POOL_BASE + GAP_START * PAGE_SIZE)),
             PMM_ERR_NOT_USABLE);
    CHECK_EQ(pmm_free(PMM_ZONE_TABLE_POOL,
                      paddr(GAP_POOL_BASE + (GAP_START + gap_frames) * PAGE_SIZE)), PMM_OK);
    CHECK_EQ(pmm_verify(PMM_ZONE_TABLE_POOL), PMM_OK);
}

static const uint64_t gap_63 = 63, gap_64 = 64, gap_128 = 128;

/* The last status has its name; the first value past the list, and one
 * far past it, are "unknown" (not a read past the table). */
static void test_pmm_status_name_at_and_past_the_last_status(void)
{
    CHECK(strcmp(pmm_status_name(PMM_STATUS_COUNT - 1), "corrupt") == 0, "last: %s",
          pmm_status_name(PMM_STATUS_COUNT - 1));
    CHECK(strcmp(pmm_status_name(PMM_STATUS_COUNT), "unknown") == 0, "count: %s",
          pmm_status_name(PMM_STATUS_COUNT));
    CHECK(strcmp(pmm_status_name((enum pmm_status)(PMM_STATUS_COUNT + 1)), "unknown") == 0,
          "count + 1: %s", pmm_status_name((enum pmm_status)(PMM_STATUS_COUNT + 1)));
    CHECK(strcmp(pmm_status_name((enum pmm_status)-1), "unknown") == 0, "-1: %s",
          pmm_status_name((enum pmm_status)-1));
}

static const struct check_test tests[] = {
    CHECK_TEST(test_every_frame_once_and_only_usable_ones),
    CHECK_TEST(test_kept_tables_start_used_and_can_be_released),
    CHECK_TEST(test_never_usable_frames_are_refused_on_free),
    CHECK_TEST(test_double_free_is_caught_and_changes_nothing),
    CHECK_TEST(test_free_then_alloc_round_trips_with_exact_counters),
    CHECK_TEST(test_pool_zone_holds_the_pool_minus_its_tables),
    CHECK_TEST(test_metadata_too_small_is_an_error),
    CHECK_TEST(test_sparse_512_gib_map_costs_the_same),
    CHECK_TEST(test_random_alloc_free_keeps_invariants),
    CHECK_TEST(test_random_operations_match_a_model_across_holes_and_the_frontier),
    CHECK_TEST(test_a_kept_table_far_above_the_frontier_can_be_freed),
    CHECK_TEST(test_double_free_above_and_below_the_frontier),
    CHECK_TEST(test_exhaustion_then_refill_hands_out_the_same_frames_again),
    CHECK_TEST(test_pool_zone_with_an_unaligned_base),
    CHECK_TEST(test_sparse_512_gib_init_touches_metadata_by_extents_not_by_ram),
    CHECK_TEST(test_unsorted_overlapping_and_touching_usable_entries_give_their_union),
    CHECK_TEST(test_usable_entries_touching_inside_a_frame_share_it),
    CHECK_TEST(test_a_loader_image_range_above_1_mib_is_never_handed_out),
    CHECK_TEST(test_a_loader_range_inside_the_table_pool_is_not_pool_memory),
    CHECK_CASE("pmm_verify on a pool split by a 63-frame gap (inside two words)", pool_gap_case,
               &gap_63),
    CHECK_CASE("pmm_verify on a pool split by a 64-frame gap (one whole word)", pool_gap_case,
               &gap_64),
    CHECK_CASE("pmm_verify on a pool split by a 128-frame gap (two whole words)", pool_gap_case,
               &gap_128),
    CHECK_TEST(test_pmm_status_name_at_and_past_the_last_status),
};

int main(void)
{
    return check_main("pmm", tests, CHECK_COUNT(tests));
}
