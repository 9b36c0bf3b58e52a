/*
 * test_pmm.c - host tests of kernel/pmm.c, the hierarchical-bitmap frame
 * allocator, built from hand-made BootInfo memory maps.
 */
#include <stdlib.h>
#include <string.h>

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

static enum pmm_status init_with(uint64_t frames)
{
    uint64_t bytes = pmm_meta_bytes(frames);
    free(meta);
    meta = calloc(1, bytes);
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
};

int main(void)
{
    return check_main("pmm", tests, CHECK_COUNT(tests));
}
