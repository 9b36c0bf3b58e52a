/*
 * test_e820.c - host unit tests for stage2/e820.c (the memory-map sanitiser).
 *
 * Expected maps are written out by hand from the rules in e820.h, never
 * produced by the code under test. A randomised test compares the output
 * with a brute-force model at 1 KiB resolution.
 */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "e820.h"
#include "layout.h"

#define KIB 0x400ULL
#define MIB 0x100000ULL
#define MAP_CAP BOOT_INFO_MAX_REGIONS
#define COUNT(a) ((uint32_t)(sizeof(a) / sizeof((a)[0])))

/* A raw entry with the valid bit set, as stage2 stores it. */
#define R(base, len, type) { (base), (len), (type), 1 }

/* Sanitises raw and checks the result equals want[0..nwant) exactly. */
static void expect_map(const struct mem_region *raw, uint32_t nraw,
                       const struct mem_region *want, uint32_t nwant)
{
    struct mem_region out[MAP_CAP];
    int n = e820_sanitize(raw, nraw, out, MAP_CAP);
    if (!CHECK(n == (int)nwant, "got %d entries, want %u", n, nwant))
        return;
    for (uint32_t i = 0; i < nwant; i++)
        CHECK(out[i].base == want[i].base && out[i].length == want[i].length &&
              out[i].type == want[i].type && out[i].attr == 1,
              "entry %u: got {0x%llx, 0x%llx, %u, %u}, want {0x%llx, 0x%llx, %u, 1}",
              i, (unsigned long long)out[i].base,
              (unsigned long long)out[i].length, out[i].type, out[i].attr,
              (unsigned long long)want[i].base,
              (unsigned long long)want[i].length, want[i].type);
}

/* ---- table-driven cases: a raw map and the map it must become ---- */

#define CASE_MAX 8
/* A list of regions and its length, for the case table. */
#define REGIONS(...)                                                        \
    { __VA_ARGS__ },                                                        \
    sizeof((struct mem_region[]){ __VA_ARGS__ }) / sizeof(struct mem_region)

struct map_case {
    const char *intent;
    struct mem_region raw[CASE_MAX];
    uint32_t nraw;
    struct mem_region want[CASE_MAX];
    uint32_t nwant;
};

static const struct map_case map_cases[] = {
    { "unsorted_disjoint_entries_come_out_sorted",
      REGIONS(R(0x300000, 0x1000, MEM_RESERVED),
              R(0x100000, 0x100000, MEM_USABLE),
              R(0x0, 0x9F000, MEM_USABLE)),
      REGIONS(R(0x0, 0x9F000, MEM_USABLE),
              R(0x100000, 0x100000, MEM_USABLE),
              R(0x300000, 0x1000, MEM_RESERVED)) },
    { "reserved_overlapping_the_top_of_usable_takes_the_overlap",
      /* usable [1M, 3M), reserved [2M, 4M) */
      REGIONS(R(1 * MIB, 2 * MIB, MEM_USABLE),
              R(2 * MIB, 2 * MIB, MEM_RESERVED)),
      REGIONS(R(1 * MIB, 1 * MIB, MEM_USABLE),
              R(2 * MIB, 2 * MIB, MEM_RESERVED)) },
    { "usable_overlapping_the_top_of_reserved_loses_the_overlap",
      /* reserved [1M, 3M), usable [2M, 4M) */
      REGIONS(R(1 * MIB, 2 * MIB, MEM_RESERVED),
              R(2 * MIB, 2 * MIB, MEM_USABLE)),
      REGIONS(R(1 * MIB, 2 * MIB, MEM_RESERVED),
              R(3 * MIB, 1 * MIB, MEM_USABLE)) },
    { "reserved_nested_in_usable_splits_it_in_two",
      REGIONS(R(0x100000, 0x700000, MEM_USABLE),
              R(0x400000, 0x2000, MEM_RESERVED)),
      REGIONS(R(0x100000, 0x300000, MEM_USABLE),
              R(0x400000, 0x2000, MEM_RESERVED),
              R(0x402000, 0x3FE000, MEM_USABLE)) },
    { "usable_nested_in_reserved_disappears",
      REGIONS(R(0x400000, 0x2000, MEM_USABLE),
              R(0x100000, 0x700000, MEM_RESERVED)),
      REGIONS(R(0x100000, 0x700000, MEM_RESERVED)) },
    { "zero_length_entries_are_ignored",
      REGIONS(R(0x100000, 0, MEM_RESERVED),
              R(0x0, 0x10000, MEM_USABLE),
              R(0x8000, 0, MEM_BAD)),
      REGIONS(R(0x0, 0x10000, MEM_USABLE)) },
    { "unknown_types_become_reserved_and_merge_with_reserved",
      REGIONS(R(0x10000, 0x1000, 0),
              R(0x11000, 0x1000, 6),
              R(0x12000, 0x1000, MEM_RESERVED),
              R(0x20000, 0x800, 0xFFFFFFFF)),
      REGIONS(R(0x10000, 0x3000, MEM_RESERVED),
              R(0x20000, 0x800, MEM_RESERVED)) },
    { "touching_and_overlapping_entries_of_one_type_merge",
      REGIONS(R(0x200000, 0x100000, MEM_USABLE),
              R(0x100000, 0x100000, MEM_USABLE),   /* touches the first */
              R(0x280000, 0x100000, MEM_USABLE),   /* overlaps it */
              R(0x380000, 0x1000, MEM_ACPI_NVS),   /* touches, other type */
              R(0x381000, 0x1000, MEM_ACPI_NVS)),
      REGIONS(R(0x100000, 0x280000, MEM_USABLE),
              R(0x380000, 0x2000, MEM_ACPI_NVS)) },
    { "entries_with_the_attr_valid_bit_clear_are_ignored",
      REGIONS(R(0x100000, 0x100000, MEM_USABLE),
              { 0x180000, 0x1000, MEM_RESERVED, 0 },  /* disabled: no hole */
              { 0x300000, 0x1000, MEM_USABLE, 2 }),   /* other bits only */
      REGIONS(R(0x100000, 0x100000, MEM_USABLE)) },
    { "entries_wrapping_past_2_pow_64_are_clipped",
      REGIONS(R(0xFFFFFFFFFFFF0000ULL, 0x20000, MEM_RESERVED),
              R(0xFFFFFFFFFFF00400ULL, UINT64_MAX, MEM_USABLE)),
      /* usable [..00400, ..F0000) shrinks to start at the next page */
      REGIONS(R(0xFFFFFFFFFFF01000ULL, 0xEF000, MEM_USABLE),
              R(0xFFFFFFFFFFFF0000ULL, 0x10000, MEM_RESERVED)) },
    /* The clip at 2^64 at its limit: an entry ending one byte before
     * 2^64, exactly at it, and one byte past it (base + length overflows
     * by exactly 1). Reserved is kept byte-exact; usable loses a partial
     * last page. */
    { "an_entry_ending_at_2_pow_64_minus_1_is_kept_as_it_is",
      REGIONS(R(0xFFFFFFFFFFFFE000ULL, 0x1FFF, MEM_RESERVED),
              R(0xFFFFFFFFFFFF0000ULL, 0xDFFF, MEM_USABLE)),
      REGIONS(R(0xFFFFFFFFFFFF0000ULL, 0xD000, MEM_USABLE),
              R(0xFFFFFFFFFFFFE000ULL, 0x1FFF, MEM_RESERVED)) },
    { "an_entry_ending_exactly_at_2_pow_64_is_kept_as_it_is",
      REGIONS(R(0xFFFFFFFFFFFFE000ULL, 0x2000, MEM_RESERVED),
              R(0xFFFFFFFFFFFF0000ULL, 0xE000, MEM_USABLE)),
      REGIONS(R(0xFFFFFFFFFFFF0000ULL, 0xE000, MEM_USABLE),
              R(0xFFFFFFFFFFFFE000ULL, 0x2000, MEM_RESERVED)) },
    { "an_entry_ending_at_2_pow_64_plus_1_is_clipped_at_2_pow_64",
      REGIONS(R(0xFFFFFFFFFFFFE000ULL, 0x2001, MEM_RESERVED)),
      REGIONS(R(0xFFFFFFFFFFFFE000ULL, 0x2000, MEM_RESERVED)) },
    { "a_usable_entry_ending_at_2_pow_64_plus_1_keeps_its_last_page",
      REGIONS(R(0xFFFFFFFFFFFFE000ULL, 0x2001, MEM_USABLE)),
      REGIONS(R(0xFFFFFFFFFFFFE000ULL, 0x2000, MEM_USABLE)) },
    { "usable_up_to_2_pow_64_keeps_its_last_page",
      REGIONS(R(0xFFFFFFFFFFFFE000ULL, 0x10000, MEM_USABLE)),
      REGIONS(R(0xFFFFFFFFFFFFE000ULL, 0x2000, MEM_USABLE)) },
    { "the_whole_address_space_gets_length_uint64_max",
      REGIONS(R(0, UINT64_MAX, MEM_RESERVED),    /* [0, 2^64 - 1) */
              R(UINT64_MAX, 1, MEM_RESERVED)),   /* the last byte */
      REGIONS(R(0, UINT64_MAX, MEM_RESERVED)) },
    { "unaligned_usable_is_shrunk_to_pages_less_than_a_page_dropped",
      REGIONS(R(0x1234, 0x5000, MEM_USABLE),     /* -> [0x2000, 0x6000) */
              R(0x10800, 0xC00, MEM_USABLE),     /* inside one page */
              R(0x20800, 0x1000, MEM_USABLE),    /* straddles two pages */
              R(0x30100, 0x100, MEM_RESERVED),   /* not usable: kept as is */
              R(0x0, 0x800, MEM_USABLE),         /* start of page 0 */
              R(0x40200, 0x800, MEM_USABLE)),    /* middle of a page */
      REGIONS(R(0x2000, 0x4000, MEM_USABLE),
              R(0x30100, 0x100, MEM_RESERVED)) },
    { "unaligned_usable_halves_merge_before_shrinking",
      /* neither half holds a whole page, together they hold one */
      REGIONS(R(0x5800, 0x1000, MEM_USABLE),
              R(0x6800, 0x1000, MEM_USABLE)),
      REGIONS(R(0x6000, 0x1000, MEM_USABLE)) },
    { "usable_next_to_unaligned_reserved_loses_the_shared_page",
      REGIONS(R(0x0, 0x9FC00, MEM_USABLE),
              R(0x9FC00, 0x400, MEM_RESERVED)),
      REGIONS(R(0x0, 0x9F000, MEM_USABLE),
              R(0x9FC00, 0x400, MEM_RESERVED)) },
    { "a_realistic_qemu_512m_map_keeps_its_shape",
      /* SeaBIOS under `qemu-system-x86_64 -m 512M`, in firmware order */
      REGIONS(R(0x0, 0x9FC00, MEM_USABLE),
              R(0x9FC00, 0x400, MEM_RESERVED),
              R(0xF0000, 0x10000, MEM_RESERVED),
              R(0x100000, 0x1FEE0000, MEM_USABLE),
              R(0x1FFE0000, 0x20000, MEM_RESERVED),
              R(0xFEFFC000, 0x4000, MEM_RESERVED),
              R(0xFFFC0000, 0x40000, MEM_RESERVED)),
      REGIONS(R(0x0, 0x9F000, MEM_USABLE),
              R(0x9FC00, 0x400, MEM_RESERVED),
              R(0xF0000, 0x10000, MEM_RESERVED),
              R(0x100000, 0x1FEE0000, MEM_USABLE),
              R(0x1FFE0000, 0x20000, MEM_RESERVED),
              R(0xFEFFC000, 0x4000, MEM_RESERVED),
              R(0xFFFC0000, 0x40000, MEM_RESERVED)) },
};

/* Runs one case with its raw map as written and reversed: input order
 * must never matter. */
static void expect_case(const void *arg)
{
    const struct map_case *c = arg;
    struct mem_region reversed[CASE_MAX];
    for (uint32_t i = 0; i < c->nraw; i++)
        reversed[i] = c->raw[c->nraw - 1 - i];
    expect_map(c->raw, c->nraw, c->want, c->nwant);
    expect_map(reversed, c->nraw, c->want, c->nwant);
}

static void test_empty_map_gives_no_entries(void)
{
    struct mem_region out[1];
    CHECK_EQ(e820_sanitize(NULL, 0, out, 1), 0);
    CHECK_EQ(e820_sanitize(NULL, 0, out, 0), 0);
}

static void test_usable_helpers_sum_and_find_the_end_of_usable_ram(void)
{
    const struct mem_region map[] = {
        R(0x0, 0x9F000, MEM_USABLE),
        R(0x9FC00, 0x400, MEM_RESERVED),
        R(0x100000, 0x1FEE0000, MEM_USABLE),
        R(0xFEFFC000, 0x4000, MEM_RESERVED),
    };
    const struct mem_region top[] = {
        R(0xFFFFFFFFFFFFE000ULL, 0x2000, MEM_USABLE),
        R(0x0, 0x1000, MEM_USABLE),
    };
    CHECK_EQ(e820_usable_bytes(map, COUNT(map)), 0x9F000 + 0x1FEE0000);
    CHECK_EQ(e820_max_usable_end(map, COUNT(map)), 0x1FFE0000);
    CHECK_EQ(e820_max_usable_end(top, COUNT(top)), UINT64_MAX);
    CHECK_EQ(e820_usable_bytes(top, COUNT(top)), 0x3000);
}

/* Types in increasing restrictiveness, as e820.h specifies. */
static const uint32_t type_order[] = {
    MEM_USABLE, MEM_ACPI_RECLAIM, MEM_PERSISTENT, MEM_ACPI_NVS,
    MEM_RESERVED, MEM_BAD,
};

static void test_every_pair_of_types_overlapping_keeps_the_stricter(void)
{
    for (uint32_t lo = 0; lo < COUNT(type_order); lo++) {
        for (uint32_t hi = lo + 1; hi < COUNT(type_order); hi++) {
            /* weaker [0, 8K), stricter [4K, 12K) */
            struct map_case c = {
                "pair",
                REGIONS(R(0x0, 0x2000, type_order[lo]),
                        R(0x1000, 0x2000, type_order[hi])),
                REGIONS(R(0x0, 0x1000, type_order[lo]),
                        R(0x1000, 0x2000, type_order[hi])),
            };
            expect_case(&c);
        }
    }
}

static void test_result_larger_than_out_cap_is_an_overflow_error(void)
{
    struct mem_region raw[MAP_CAP];
    struct mem_region out[MAP_CAP];
    for (uint32_t i = 0; i < MAP_CAP; i++) {
        struct mem_region r = R(i * 0x2000ULL, 0x1000, MEM_USABLE);
        raw[i] = r;
    }
    CHECK_EQ(e820_sanitize(raw, MAP_CAP, out, MAP_CAP), MAP_CAP);
    CHECK_EQ(e820_sanitize(raw, MAP_CAP, out, MAP_CAP - 1), E820_ERR_OVERFLOW);
    CHECK_EQ(e820_sanitize(raw, 1, out, 0), E820_ERR_OVERFLOW);
}

static void test_more_raw_entries_than_the_maximum_are_refused(void)
{
    static struct mem_region raw[MAP_CAP + 1];
    struct mem_region out[MAP_CAP];
    CHECK_EQ(e820_sanitize(raw, MAP_CAP + 1, out, MAP_CAP), E820_ERR_TOO_MANY);
    check_distinct_messages(e820_strerror, E820_ERR_TOO_MANY, E820_ERR_OVERFLOW,
                            "unknown error");
}

static void test_e820_strerror_outside_its_codes_is_unknown(void)
{
    check_unknown_outside(e820_strerror, E820_ERR_TOO_MANY, E820_ERR_OVERFLOW, "unknown error");
}

static void test_helpers_on_a_map_without_usable_memory_give_zero(void)
{
    const struct mem_region map[] = { R(0x0, 0x1000, MEM_RESERVED) };
    CHECK_EQ(e820_usable_bytes(map, 1), 0);
    CHECK_EQ(e820_max_usable_end(map, 1), 0);
    CHECK_EQ(e820_usable_bytes(NULL, 0), 0);
}

/* ---- randomised comparison with a brute-force model ---- */

#define MODEL_UNIT KIB                       /* model resolution */
#define MODEL_PAGES 256
#define MODEL_UNITS_PER_PAGE (PAGE_SIZE / MODEL_UNIT)
#define MODEL_UNITS (MODEL_PAGES * MODEL_UNITS_PER_PAGE)
#define MODEL_ROUNDS 3000
#define MODEL_MAX_ENTRIES 12

/* Restrictiveness of a type per e820.h (unknown types rank as reserved). */
static int model_rank(uint32_t type)
{
    for (uint32_t i = 0; i < COUNT(type_order); i++)
        if (type_order[i] == type)
            return (int)i + 1;
    return model_rank(MEM_RESERVED);
}

/* The type every unit must have in the output (0: not covered). */
static void model_expected(const struct mem_region *raw, uint32_t n,
                           uint32_t *want)
{
    int rank[MODEL_UNITS] = { 0 };
    uint32_t type[MODEL_UNITS] = { 0 };
    for (uint32_t i = 0; i < n; i++) {
        if (raw[i].attr == 0)
            continue;
        uint64_t first = raw[i].base / MODEL_UNIT;
        uint64_t end = first + raw[i].length / MODEL_UNIT;
        for (uint64_t u = first; u < end; u++) {
            int r = model_rank(raw[i].type);
            if (r > rank[u]) {
                rank[u] = r;
                type[u] = r == model_rank(MEM_RESERVED) ? MEM_RESERVED : raw[i].type;
            }
        }
    }
    /* A usable unit survives only if its whole page is usable. */
    for (uint32_t u = 0; u < MODEL_UNITS; u++) {
        uint32_t page_first = u - u % MODEL_UNITS_PER_PAGE;
        want[u] = type[u];
        for (uint32_t k = 0; k < MODEL_UNITS_PER_PAGE && type[u] == MEM_USABLE; k++)
            if (type[page_first + k] != MEM_USABLE)
                want[u] = 0;
    }
}

/* Checks out[] is sorted, disjoint, merged, aligned; paints it into got[]. */
static bool model_paint(const struct mem_region *out, int n, uint32_t *got)
{
    for (int i = 0; i < n; i++) {
        const struct mem_region *r = &out[i];
        if (!CHECK(r->attr == 1 && r->length > 0, "entry %d attr/length", i))
            return false;
        if (i > 0 && !CHECK(out[i - 1].base + out[i - 1].length < r->base ||
                            (out[i - 1].base + out[i - 1].length == r->base &&
                             out[i - 1].type != r->type),
                            "entry %d overlaps, is unsorted or unmerged", i))
            return false;
        if (r->type == MEM_USABLE &&
            !CHECK(r->base % PAGE_SIZE == 0 && r->length % PAGE_SIZE == 0,
                   "usable entry %d not page aligned", i))
            return false;
        for (uint64_t u = r->base / MODEL_UNIT;
             u < (r->base + r->length) / MODEL_UNIT; u++)
            got[u] = r->type;
    }
    return true;
}

/* One random entry within the model's range, sometimes degenerate. */
static struct mem_region model_random_entry(void)
{
    static const uint32_t types[] = {
        MEM_USABLE, MEM_USABLE, MEM_USABLE, MEM_RESERVED, MEM_ACPI_RECLAIM,
        MEM_ACPI_NVS, MEM_BAD, MEM_PERSISTENT, 0, 6, 42,
    };
    uint64_t first = check_random(MODEL_UNITS);
    uint64_t len = check_random((uint32_t)(MODEL_UNITS - first) + 1);
    struct mem_region r = R(first * MODEL_UNIT, len * MODEL_UNIT,
                            types[check_random(COUNT(types))]);
    r.attr = check_random(10) == 0 ? 0 : 1;
    return r;
}

static void test_random_maps_match_a_brute_force_per_unit_model(void)
{
    for (int round = 0; round < MODEL_ROUNDS; round++) {
        struct mem_region raw[MODEL_MAX_ENTRIES], out[MAP_CAP];
        static uint32_t want[MODEL_UNITS], got[MODEL_UNITS];
        uint32_t n = check_random(MODEL_MAX_ENTRIES + 1);
        for (uint32_t i = 0; i < n; i++)
            raw[i] = model_random_entry();
        int count = e820_sanitize(raw, n, out, MAP_CAP);
        if (!CHECK(count >= 0, "round %d: error %d", round, count))
            return;
        memset(got, 0, sizeof(got));
        model_expected(raw, n, want);
        if (!model_paint(out, count, got))
            return;
        for (uint32_t u = 0; u < MODEL_UNITS; u++)
            if (!CHECK(got[u] == want[u], "round %d, address 0x%llx: type %u, want %u",
                       round, (unsigned long long)(u * MODEL_UNIT), got[u], want[u]))
                return;
    }
}

static const struct check_test fixed_tests[] = {
    CHECK_TEST(test_empty_map_gives_no_entries),
    CHECK_TEST(test_every_pair_of_types_overlapping_keeps_the_stricter),
    CHECK_TEST(test_result_larger_than_out_cap_is_an_overflow_error),
    CHECK_TEST(test_more_raw_entries_than_the_maximum_are_refused),
    CHECK_TEST(test_usable_helpers_sum_and_find_the_end_of_usable_ram),
    CHECK_TEST(test_helpers_on_a_map_without_usable_memory_give_zero),
    CHECK_TEST(test_random_maps_match_a_brute_force_per_unit_model),
    CHECK_TEST(test_e820_strerror_outside_its_codes_is_unknown),
};

int main(void)
{
    struct check_test tests[COUNT(map_cases) + COUNT(fixed_tests)];
    uint32_t n = 0;
    for (uint32_t i = 0; i < COUNT(map_cases); i++) {
        struct check_test t = CHECK_CASE(map_cases[i].intent, expect_case, &map_cases[i]);
        tests[n++] = t;
    }
    for (uint32_t i = 0; i < COUNT(fixed_tests); i++)
        tests[n++] = fixed_tests[i];
    return check_main("e820", tests, n);
}
