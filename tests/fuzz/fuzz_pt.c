/*
 * fuzz_pt.c - libFuzzer harness: sequences of paging operations on the
 * real paging core, kernel/mm/pt_*.c (offset strategy over tests/host/fake_cpu.c's simulated
 * memory) against the reference model, built by tests/fuzz/fuzz.mk with
 * ASan and UBSan.
 *
 * The model is tests/host/pt_model.c, shared with test_pt_model.c (which
 * drives it with a seeded generator); here the fuzzer's bytes choose every
 * operation and operand, over a smaller hot area than the seeded test's
 * (two clusters of two regions of four slots) so that operations collide
 * often. The model checks every status, translation and permission, and
 * the exact number of page-table frames in use; its first failed check
 * traps, so libFuzzer keeps the input.
 * With bit 1 of byte 0 set, fork's copy (pt_space_clone, into a fresh
 * space that the model checks entry by entry and then destroys) and the
 * swap entries (pt_entry_get, pt_swap_out, pt_swap_in, pt_swap_clear)
 * join the mix, in the lower cluster (the swap calls' contract: the lower
 * half; clone's: slots 1-255). Their targets are often pages an earlier
 * operation mapped or swapped out (a ring of recent positions), so that
 * they find leaves and swap entries instead of holes. Without the bit
 * the operations are decoded exactly as before, so older inputs keep
 * their meaning.
 * Input: byte 0 = CPU features (bit 0: NX) and bit 1 (the operations
 * above), then operations; an exhausted input reads as zeros (and ends
 * the sequence).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "bootinfo.h"
#include "pte.h"
#include "pt_model.h"

#define CLUSTERS 2
#define REGIONS 2    /* 1 GiB regions per cluster */
#define SLOTS 4      /* hot 2 MiB slots per region */
#define CHECK_EVERY 64
#define MAX_OPS 192
#define PHYS_BITS 40
#define RECENT 16    /* positions the swap operations may aim at */
#define FLAG_NX 0x01
#define FLAG_SWAP_CLONE 0x02

static const uint64_t cluster_base[CLUSTERS] = {
    0x0000100000000000ULL, 0xFFFF900000000000ULL,
};

static void fail(const char *file, int line, const char *msg)
{
    fprintf(stderr, "fuzz_pt: %s:%d: %s\n", file, line, msg);
    __builtin_trap();   /* libFuzzer keeps the input */
}

static const struct model_config config = { CLUSTERS, REGIONS, SLOTS, cluster_base, fail };

static const uint8_t *in;
static size_t in_left;

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

static struct model_pos read_pos(void)
{
    struct model_pos q;
    q.c = (unsigned)below(CLUSTERS);
    q.g = (unsigned)below(REGIONS);
    q.s = (unsigned)below(SLOTS);
    q.p = (unsigned)below(MODEL_PAGES);
    return q;
}

static uint64_t read_size(void)
{
    uint64_t r = below(16);
    return r < 12 ? MODEL_4K : r < 15 ? MODEL_2M : MODEL_1G;
}

static uint32_t read_prot(void)
{
    return (uint32_t)below(PT_PROT_ALL + 1);
}

/* pages from a position (2 MiB aligned one time in three) to at most the
 * end of its region's hot slots. */
static struct model_span read_span(void)
{
    struct model_span r;
    r.q = read_pos();
    if (below(3) == 0)
        r.q.p = 0;
    uint64_t room = (uint64_t)(SLOTS - r.q.s) * MODEL_PAGES - r.q.p;
    r.pages = 1 + below(room < 1200 ? room : 1200);
    return r;
}

/* ---- operations: operands from the input, the rest in the model ---- */

/* ---- recent positions of the lower cluster ---- */

static struct model_pos recent[RECENT];
static unsigned recent_n, recent_next;

static void remember(struct model_pos q)
{
    if (q.c != 0)
        return;
    recent[recent_next] = q;
    recent_next = (recent_next + 1) % RECENT;
    if (recent_n < RECENT)
        recent_n++;
}

/* A 4 KiB page of the lower cluster: one remembered half of the time. */
static struct model_pos read_low_pos(void)
{
    if (recent_n && below(2))
        return recent[below(RECENT) % recent_n];
    struct model_pos q = read_pos();
    q.c = 0;
    return q;
}

static void op_map(void)
{
    uint64_t size = read_size();
    struct model_pos q = model_align(read_pos(), size);
    if (size == MODEL_4K)
        remember(q);
    uint64_t pa = (below(1ULL << 24) * size) & ((1ULL << PHYS_BITS) - 1);
    uint32_t prot = read_prot();
    int frames = below(8) == 0 ? (int)below(3) : MODEL_FRAMES_UNLIMITED;
    model_map(q, size, pa, prot, frames);
}

/* At a page start of a read size: often inside a bigger leaf. */
static void op_unmap(void)
{
    struct model_pos q = read_pos();
    model_unmap(model_align(q, read_size()));
}

static void op_protect(void)
{
    uint64_t size = read_size();
    struct model_pos q = model_align(read_pos(), size);
    model_protect(q, size, read_prot());
}

static void op_translate(void)
{
    struct model_pos q = read_pos();
    model_translate(q, below(MODEL_4K));
}

static void op_map_range(void)
{
    struct model_span r = read_span();
    remember(r.q);
    int huge = (int)below(2);
    uint64_t pa = below(1ULL << 16) * MODEL_2M;
    pa += below(2) ? 0 : MODEL_4K * below(4);
    uint32_t prot = read_prot();
    int frames = below(4) == 0 ? (int)below(4) : MODEL_FRAMES_UNLIMITED; /* may fail midway */
    model_map_range(r, pa, prot, huge ? PT_RANGE_ALLOW_HUGE : PT_RANGE_4K_ONLY, frames);
}

static void op_protect_range(void)
{
    struct model_span r = read_span();
    model_protect_range(r, read_prot());
}

static void op_unmap_range(void)
{
    model_unmap_range(read_span());
}

static void op_unmap_region(void)
{
    model_unmap_region(read_pos());
}

static void op_entry_get(void)
{
    model_entry_get(read_low_pos());
}

/* A slot of 20 bits; one time in 16 an entry pt_swap_out must refuse (P
 * set, PTE_SWAP clear, or another bit). */
static void op_swap_out(void)
{
    struct model_pos q = read_low_pos();
    pte_t swap = pte_swap_entry((uint32_t)below(1u << 20));
    static const pte_t spoil[4] = { PTE_P, PTE_SWAP, PTE_W, 1ULL << 52 };
    if (below(16) == 0)
        swap ^= spoil[below(4)];
    if (model_swap_out(q, swap) == PT_OK)
        remember(q);
}

/* One time in 16 with a prot bit pt_swap_in must refuse. */
static void op_swap_in(void)
{
    struct model_pos q = read_low_pos();
    uint64_t pa = (below(1ULL << 24) * MODEL_4K) & ((1ULL << PHYS_BITS) - 1);
    uint32_t prot = below(16) == 0 ? PT_PROT_ALL + 1 : read_prot();
    model_swap_in(q, pa, prot);
}

static void op_swap_clear(void)
{
    model_swap_clear(read_low_pos());
}

/* A span of the lower cluster (from a remembered page half of the time);
 * COW or shared, one time in 8 an unknown option. */
static void op_clone(void)
{
    struct model_span r = read_span();
    if (recent_n && below(2)) {
        struct model_pos at = recent[below(RECENT) % recent_n];
        uint64_t room = (uint64_t)(SLOTS - at.s) * MODEL_PAGES - at.p;
        r.q = at;
        if (r.pages > room)
            r.pages = room;
    }
    r.q.c = 0;
    uint32_t opts = below(8) == 0 ? PT_CLONE_COW << 1 : (uint32_t)below(2) * PT_CLONE_COW;
    model_clone(r, opts);
}

/* The operation for each value of below(32): the mix, in 32nds. */
static void (*const op_of[32])(void) = {
    [0 ... 8] = op_map,         [9 ... 14] = op_unmap,          [15 ... 17] = op_protect,
    [18 ... 21] = op_translate, [22 ... 25] = op_map_range,     [26 ... 27] = op_unmap_range,
    [28] = op_protect_range,    [29 ... 30] = op_unmap_region,  [31] = model_check,
};

/* With FLAG_SWAP_CLONE, below(40): the 32 above, then these 8. */
static void (*const op_of_swap[8])(void) = {
    [0] = op_entry_get, [1 ... 2] = op_swap_out, [3 ... 4] = op_swap_in,
    [5] = op_swap_clear, [6 ... 7] = op_clone,
};

static bool swap_clone;

static void run_one(void)
{
    unsigned op = (unsigned)below(swap_clone ? 40 : 32);
    if (op < 32)
        op_of[op]();
    else
        op_of_swap[op - 32]();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    in = data + 1;
    in_left = size - 1;
    swap_clone = (data[0] & FLAG_SWAP_CLONE) != 0;
    recent_n = recent_next = 0;
    model_start(&config, (data[0] & FLAG_NX ? 1u << CPU_NX : 0) | (1u << CPU_PAGE1GB));
    for (unsigned op = 0; op < MAX_OPS && in_left; op++) {
        run_one();
        if (op % CHECK_EVERY == 0)
            model_check();
    }
    model_check();
    model_finish();
    return 0;
}
