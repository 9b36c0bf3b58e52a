/*
 * test_pt_model.c - randomised model-based test of the paging core.
 *
 * Long seeded sequences of map / unmap / protect / translate (all three
 * sizes, a frame source that runs dry now and then) and their range
 * versions (range maps run out of frames midway too, and a failed one
 * must restore every entry and count) run against the paging core and
 * against the reference model (pt_model.c) of the leaves in a small "hot"
 * part of three clusters of virtual space. The model predicts every
 * status, translation and the exact number of page tables, so frames must
 * come back to the allocator exactly when tables empty. This file only
 * draws the operations and their operands. A second run adds fork's
 * copy (pt_space_clone into a fresh space, checked entry by entry and
 * destroyed) and swap entries (pt_entry_get, pt_swap_out, pt_swap_in,
 * pt_swap_clear) in the two lower-half clusters, aimed half of the time
 * at pages an earlier operation mapped or swapped out. Usage:
 * test_pt_model [seed [ops]] (or PT_MODEL_SEED);
 * the seed is printed with any failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootinfo.h"
#include "check.h"
#include "pt_model.h"
#include "pte.h"
#include "strategy.h"

#define CLUSTERS 3
#define REGIONS 4    /* 1 GiB regions per cluster */
#define SLOTS 8      /* hot 2 MiB slots per region */
#define CHECK_EVERY 256

static const uint64_t cluster_base[CLUSTERS] = {
    0x0000100000000000ULL, 0x0000400000000000ULL, 0xFFFF900000000000ULL,
};

static void report(const char *file, int line, const char *msg);

static const struct model_config config = { CLUSTERS, REGIONS, SLOTS, cluster_base, report };

static uint64_t seed, rng_state, op_index;
static uint64_t seen[PT_STATUS_COUNT]; /* statuses met, for the summary */

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static uint64_t below(uint64_t n) { return rnd() % n; }

/* The model's first failed check fails the running test, with the seed
 * and operation that reproduce it. */
static void report(const char *file, int line, const char *msg)
{
    check_record(false, file, line, "%s", msg);
    fprintf(stderr, "  seed %llu, op %llu\n", (unsigned long long)seed,
            (unsigned long long)op_index);
}

/* Every counted operation's status goes into the summary. */
static void count(enum pt_status got)
{
    seen[(unsigned)got < PT_STATUS_COUNT ? got : 0]++;
}

static struct model_pos random_pos(void)
{
    struct model_pos q = { (unsigned)below(CLUSTERS), (unsigned)below(REGIONS),
                           (unsigned)below(SLOTS), (unsigned)below(MODEL_PAGES) };
    return q;
}

/* ---- single-page operations ---- */

static uint64_t random_size(void)
{
    uint64_t r = below(100);
    return r < 80 ? MODEL_4K : r < 96 ? MODEL_2M : MODEL_1G;
}

static void op_map(void)
{
    uint64_t size = random_size();
    struct model_pos q = model_align(random_pos(), size);
    uint64_t pa = below(1ULL << 20) * MODEL_1G / (MODEL_1G / size) % (1ULL << 45);
    pa &= ~(size - 1);
    uint32_t prot = (uint32_t)below(PT_PROT_ALL + 1);
    int frames = below(20) == 0 ? (int)below(3) : MODEL_FRAMES_UNLIMITED;
    count(model_map(q, size, pa, prot, frames));
}

/* At a page start of a random size: often inside a bigger leaf. */
static void op_unmap(void)
{
    uint64_t size = random_size();
    count(model_unmap(model_align(random_pos(), size)));
}

static void op_protect(void)
{
    uint64_t size = random_size();
    struct model_pos q = model_align(random_pos(), size);
    count(model_protect(q, size, (uint32_t)below(PT_PROT_ALL + 1)));
}

static void op_translate(void)
{
    struct model_pos q = random_pos();
    model_translate(q, below(MODEL_4K));
}

/* ---- range operations, inside one region's hot area (or the whole 1 GiB) ---- */

static struct model_span random_span(void)
{
    struct model_span r;
    r.q = random_pos();
    if (below(3) == 0) /* 2 MiB aligned, whole slots and a tail */
        r.q.p = 0;
    uint64_t room = (uint64_t)(SLOTS - r.q.s) * MODEL_PAGES - r.q.p;
    r.pages = 1 + below(room < 1200 ? room : 1200);
    return r;
}

static void op_map_range(void)
{
    struct model_span r = random_span();
    int huge = (int)below(2);
    uint64_t pa = (below(1ULL << 16) * MODEL_2M) + (huge && below(2) ? 0 : MODEL_4K * below(4));
    uint32_t prot = (uint32_t)below(PT_PROT_ALL + 1);
    int frames = below(4) == 0 ? (int)below(4) : MODEL_FRAMES_UNLIMITED; /* may fail midway */
    count(model_map_range(r, pa, prot, huge ? PT_RANGE_ALLOW_HUGE : PT_RANGE_4K_ONLY, frames));
}

/* A whole region with 1 GiB allowed: one 1 GiB leaf, or a conflict. */
static void op_map_region(void)
{
    struct model_pos q = random_pos();
    count(model_map_region(q, below(1ULL << 14) * MODEL_1G));
}

static void op_unmap_range(void)
{
    count(model_unmap_range(random_span()));
}

static void op_protect_range(void)
{
    struct model_span r = random_span();
    count(model_protect_range(r, (uint32_t)below(PT_PROT_ALL + 1)));
}

static void op_unmap_region(void)
{
    model_unmap_region(random_pos());
}

/* ---- fork's copy and swap entries, in the lower-half clusters ---- */

#define LOW_CLUSTERS 2  /* cluster_base[0] and [1] are below USER_END */
#define RECENT 16

static struct model_pos recent[RECENT];
static unsigned recent_n, recent_next;

static void remember(struct model_pos q)
{
    if (q.c >= LOW_CLUSTERS)
        return;
    recent[recent_next] = q;
    recent_next = (recent_next + 1) % RECENT;
    if (recent_n < RECENT)
        recent_n++;
}

static struct model_pos low_pos(void)
{
    if (recent_n && below(2))
        return recent[below(recent_n)];
    struct model_pos q = random_pos();
    q.c = (unsigned)below(LOW_CLUSTERS);
    return q;
}

static void op_map_remembered(void)
{
    uint64_t size = random_size();
    struct model_pos q = model_align(random_pos(), size);
    uint64_t pa = below(1ULL << 20) * MODEL_4K;
    uint32_t prot = (uint32_t)below(PT_PROT_ALL + 1);
    if (size == MODEL_4K)
        remember(q);
    count(model_map(q, size, size == MODEL_4K ? pa : pa & ~(size - 1), prot,
                    MODEL_FRAMES_UNLIMITED));
}

static void op_entry_get(void)
{
    count(model_entry_get(low_pos()));
}

static void op_swap_out(void)
{
    struct model_pos q = low_pos();
    pte_t swap = pte_swap_entry((uint32_t)below(1u << 20));
    if (below(20) == 0)
        swap |= PTE_P;              /* refused: PT_ERR_BAD_PROT */
    enum pt_status st = model_swap_out(q, swap);
    count(st);
    if (st == PT_OK)
        remember(q);
}

static void op_swap_in(void)
{
    count(model_swap_in(low_pos(), below(1ULL << 20) * MODEL_4K,
                        (uint32_t)below(PT_PROT_ALL + 1)));
}

static void op_swap_clear(void)
{
    count(model_swap_clear(low_pos()));
}

static void op_clone(void)
{
    struct model_span r = random_span();
    r.q.c = (unsigned)below(LOW_CLUSTERS);
    if (recent_n && below(2)) {
        struct model_pos at = recent[below(recent_n)];
        uint64_t room = (uint64_t)(SLOTS - at.s) * MODEL_PAGES - at.p;
        r.q = at;
        if (r.pages > room)
            r.pages = room;
    }
    count(model_clone(r, (uint32_t)below(2) * PT_CLONE_COW));
}

/* The operation mixes: below(1000) < upto picks the first row that fits. */
struct mix_row {
    unsigned upto;
    void (*op)(void);
};

static const struct mix_row mix[] = {
    { 330, op_map },          { 560, op_unmap },         { 650, op_protect },
    { 770, op_translate },    { 850, op_map_range },     { 920, op_unmap_range },
    { 970, op_protect_range }, { 990, op_map_region },   { 1000, op_unmap_region },
};

static const struct mix_row mix_swap[] = {
    { 150, op_map },          { 300, op_map_remembered }, { 450, op_unmap },
    { 500, op_protect },      { 560, op_translate },      { 620, op_map_range },
    { 660, op_unmap_range },  { 690, op_protect_range },  { 700, op_map_region },
    { 705, op_unmap_region }, { 750, op_entry_get },      { 850, op_swap_out },
    { 910, op_swap_in },      { 960, op_swap_clear },     { 1000, op_clone },
};

static void run_one(const struct mix_row *rows)
{
    uint64_t r = below(1000);
    unsigned i = 0;
    while (r >= rows[i].upto)
        i++;
    rows[i].op();
}

static uint64_t ops = 100000;

static void run_model(const struct mix_row *rows, uint64_t n)
{
    model_start(&config, (1u << CPU_NX) | (1u << CPU_PAGE1GB));
    rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
    recent_n = recent_next = 0;
    memset(seen, 0, sizeof(seen));
    for (op_index = 0; op_index < n && !model_failed(); op_index++) {
        run_one(rows);
        if (op_index % CHECK_EVERY == 0)
            model_check();
    }
    model_check();
    model_finish();
    fprintf(stderr, "pt_model: seed %llu, %llu operations:", (unsigned long long)seed,
            (unsigned long long)op_index);
    for (unsigned i = 0; i < PT_STATUS_COUNT; i++)
        if (seen[i])
            fprintf(stderr, " %s %llu;", pt_status_name((enum pt_status)i),
                    (unsigned long long)seen[i]);
    fprintf(stderr, "\n");
}

static void test_random_operations_match_the_model(void)
{
    run_model(mix, ops);
}

static void test_random_operations_with_fork_copies_and_swap_entries_match_the_model(void)
{
    run_model(mix_swap, ops / 4);
}

static const struct check_test tests[] = {
    CHECK_TEST(test_random_operations_match_the_model),
    CHECK_TEST(test_random_operations_with_fork_copies_and_swap_entries_match_the_model),
};

int main(int argc, char **argv)
{
    const char *env = getenv("PT_MODEL_SEED");
    seed = argc > 1 ? strtoull(argv[1], NULL, 0) : env ? strtoull(env, NULL, 0) : 20261126;
    if (argc > 2)
        ops = strtoull(argv[2], NULL, 0);
    char suite[64]; /* one program per strategy: the result lines say which */
    snprintf(suite, sizeof(suite), "pt_model/%s", strategy_name());
    return check_main(suite, tests, CHECK_COUNT(tests));
}
