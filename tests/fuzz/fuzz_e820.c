/*
 * fuzz_e820.c - libFuzzer harness for stage2/e820.c (the memory-map
 * sanitiser), built by tests/fuzz/fuzz.mk with ASan and UBSan.
 *
 * Input: byte 0 picks the output capacity (small capacities exercise the
 * overflow error), the rest is read as raw 24-byte E820 entries (a firmware
 * could hand over anything), up to one more than E820_MAX_RAW. On success
 * the output must be a sanitised map (sorted, disjoint, merged, usable
 * page-aligned, attr 1) and must agree with a brute-force model at every
 * point where the answer can change: the type at an address is the most
 * restrictive type of the enabled raw entries covering it (unknown types
 * count as reserved), byte-exact for non-usable types; a page is usable
 * exactly when every byte of it is usable in the model.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e820.h"
#include "layout.h"

#define ENTRY 24
#define PAGE ((uint64_t)PAGE_SIZE)
#define NONE 0u            /* no entry covers the address */
#define SAMPLE_ENTRIES 48  /* raw entries whose edges are probed */

typedef unsigned __int128 u128;

static struct mem_region raw[E820_MAX_RAW + 1];
static struct mem_region out[BOOT_INFO_MAX_REGIONS];
static uint32_t nraw;

static void fail(const char *why)
{
    fprintf(stderr, "fuzz_e820: %s\n", why);
    __builtin_trap();   /* libFuzzer keeps the input */
}

static unsigned rank_of(uint32_t type)
{
    switch (type) {
    case MEM_USABLE: return 1;
    case MEM_ACPI_RECLAIM: return 2;
    case MEM_PERSISTENT: return 3;
    case MEM_ACPI_NVS: return 4;
    case MEM_BAD: return 6;
    default: return 5;  /* reserved, and every unknown type */
    }
}

static uint32_t type_of_rank(unsigned rank)
{
    static const uint32_t t[] = { NONE, MEM_USABLE, MEM_ACPI_RECLAIM, MEM_PERSISTENT,
                                  MEM_ACPI_NVS, MEM_RESERVED, MEM_BAD };
    return t[rank];
}

static u128 raw_end(const struct mem_region *r)
{
    return (u128)r->base + r->length;   /* may be past 2^64: clipped by the ranges */
}

/* The model: the type at address a, from the raw entries. */
static uint32_t model_at(uint64_t a)
{
    unsigned best = 0;
    for (uint32_t i = 0; i < nraw; i++) {
        const struct mem_region *r = &raw[i];
        if (r->length == 0 || !(r->attr & 1))
            continue;
        if (a >= r->base && (u128)a < raw_end(r) && rank_of(r->type) > best)
            best = rank_of(r->type);
    }
    return type_of_rank(best);
}

/* The model says every byte of the page at p is usable: the type is
 * constant between cut points, so it is enough to look at p and at every
 * raw start or end inside the page. */
static bool model_page_usable(uint64_t p)
{
    if (model_at(p) != MEM_USABLE)
        return false;
    for (uint32_t i = 0; i < nraw; i++) {
        const uint64_t cut[2] = { raw[i].base, (uint64_t)raw_end(&raw[i]) };
        for (int k = 0; k < 2; k++)
            if (cut[k] > p && cut[k] - p < PAGE && (k == 0 || raw_end(&raw[i]) <= UINT64_MAX) &&
                model_at(cut[k]) != MEM_USABLE)
                return false;
    }
    return true;
}

/* The type the sanitised map gives address a. A region of base 0 and
 * length UINT64_MAX stands for all 2^64 bytes or for all but the last
 * (e820.h: the whole space has no length); *unsure says a was that byte. */
static uint32_t out_at(uint32_t n, uint64_t a, bool *unsure)
{
    *unsure = false;
    for (uint32_t i = 0; i < n; i++) {
        bool everything = out[i].base == 0 && out[i].length == UINT64_MAX;
        if (everything && a == UINT64_MAX)
            *unsure = true;
        if (a >= out[i].base && (u128)a < raw_end(&out[i]) + everything)
            return out[i].type;
    }
    return NONE;
}

static void check_shape(uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        const struct mem_region *r = &out[i];
        bool everything = r->base == 0 && r->length == UINT64_MAX;   /* all 2^64 bytes */
        if (r->length == 0 || r->attr != 1 || (rank_of(r->type) == 5 && r->type != MEM_RESERVED))
            fail("empty region, attr not 1, or a type that is not one of the known ones");
        if (r->type == MEM_USABLE && !everything && ((r->base | r->length) & (PAGE - 1)))
            fail("usable region not page aligned");
        if (raw_end(r) > (u128)1 << 64)
            fail("region past 2^64");
        if (i == 0)
            continue;
        const struct mem_region *p = &out[i - 1];
        if (raw_end(p) > r->base)
            fail("regions out of order or overlapping");
        if (raw_end(p) == r->base && p->type == r->type)
            fail("touching regions of one type not merged");
    }
}

static void check_point(uint32_t n, uint64_t a)
{
    bool unsure;
    uint32_t want = model_at(a), got = out_at(n, a, &unsure);
    if (unsure)
        return;
    if (want == MEM_USABLE)
        want = model_page_usable(a & ~(PAGE - 1)) ? MEM_USABLE : NONE;
    if (got != want) {
        fprintf(stderr, "fuzz_e820: at 0x%llx the map says type %u, the model %u\n",
                (unsigned long long)a, got, want);
        for (uint32_t i = 0; i < nraw; i++)
            fprintf(stderr, "  raw 0x%016llx +0x%016llx type %u attr %u\n",
                    (unsigned long long)raw[i].base, (unsigned long long)raw[i].length,
                    raw[i].type, raw[i].attr);
        for (uint32_t i = 0; i < n; i++)
            fprintf(stderr, "  out 0x%016llx +0x%016llx type %u\n",
                    (unsigned long long)out[i].base, (unsigned long long)out[i].length,
                    out[i].type);
        fail("the sanitised map disagrees with the model");
    }
}

static void check_against_model(uint32_t n)
{
    uint32_t probes = nraw < SAMPLE_ENTRIES ? nraw : SAMPLE_ENTRIES;
    for (uint32_t i = 0; i < probes; i++) {
        u128 end = raw_end(&raw[i]);
        uint64_t b = raw[i].base;
        const uint64_t points[] = { b, b - 1, b | (PAGE - 1), (b + PAGE - 1) & ~(PAGE - 1),
                                    (uint64_t)(end - 1), (uint64_t)end,
                                    (uint64_t)(end - 1) & ~(PAGE - 1) };
        for (unsigned k = 0; k < sizeof(points) / sizeof(points[0]); k++) {
            if ((k == 4 || k == 6) && (end == 0 || end > (u128)1 << 64))
                continue;
            if (k == 5 && end > UINT64_MAX)
                continue;
            check_point(n, points[k]);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint32_t cap = data[0] < 32 ? data[0] % 8 : BOOT_INFO_MAX_REGIONS;
    nraw = (uint32_t)((size - 1) / ENTRY);
    if (nraw > E820_MAX_RAW + 1)
        nraw = E820_MAX_RAW + 1;
    memcpy(raw, data + 1, (size_t)nraw * ENTRY);
    int n = e820_sanitize(raw, nraw, out, cap);
    if (nraw > E820_MAX_RAW) {
        if (n != E820_ERR_TOO_MANY)
            fail("too many raw entries accepted");
        return 0;
    }
    if (n == E820_ERR_OVERFLOW)
        return 0;   /* legal for any cap; the host tests pin when it happens */
    if (n < 0 || (uint32_t)n > cap)
        fail("bad return value");
    check_shape((uint32_t)n);
    check_against_model((uint32_t)n);
    uint64_t total = e820_usable_bytes(out, (uint32_t)n), end = e820_max_usable_end(out, (uint32_t)n);
    if ((total != 0) != (end != 0))
        fail("usable bytes and the end of usable memory disagree");
    return 0;
}
