/*
 * e820.c - memory-map sanitiser (see e820.h for the contract).
 *
 * Method: every entry start and every entry end cuts the address space into
 * elementary pieces; no entry begins or ends inside a piece, so one type
 * holds for all of it: the most restrictive type of the entries covering
 * the piece's first byte. Walking the pieces in address order and merging
 * neighbours of equal type gives the sorted, disjoint map. O(n^2) for
 * n <= E820_MAX_RAW, no allocation.
 *
 * Ranges are kept as inclusive [first, last] internally so that a range
 * ending exactly at 2^64 needs no 65th bit.
 *
 * Reference: ACPI 6.4, section 15 "System Address Map Interfaces".
 */
#include <stdbool.h>

#include "e820.h"
#include "addr.h"
#include "layout.h"

/* Extended attributes bit 0, "AddressRangeEnabled" in ACPI 3.0 (section
 * 14.1): the OS ignores an entry with it clear. Later ACPI versions mark the
 * bit reserved-must-be-1, so the rule still holds. */
#define E820_ATTR_ENABLED 1u
/* Each entry contributes at most two cut points: its start and its end. */
#define E820_MAX_POINTS (2 * E820_MAX_RAW)

/* Restrictiveness order: when ranges overlap, the higher rank wins. */
enum e820_rank {
    E820_RANK_NONE = 0,   /* no entry covers the piece: a hole */
    E820_RANK_USABLE,
    E820_RANK_ACPI_RECLAIM,
    E820_RANK_PERSISTENT,
    E820_RANK_ACPI_NVS,
    E820_RANK_RESERVED,
    E820_RANK_BAD,
};

static const uint32_t e820_rank_type[] = {
    [E820_RANK_USABLE] = MEM_USABLE,
    [E820_RANK_ACPI_RECLAIM] = MEM_ACPI_RECLAIM,
    [E820_RANK_PERSISTENT] = MEM_PERSISTENT,
    [E820_RANK_ACPI_NVS] = MEM_ACPI_NVS,
    [E820_RANK_RESERVED] = MEM_RESERVED,
    [E820_RANK_BAD] = MEM_BAD,
};

/* An inclusive range of one rank, pending in the merge step. */
struct e820_span {
    uint64_t first;
    uint64_t last;
    enum e820_rank rank;
};

/* Where finished regions go. */
struct e820_sink {
    struct mem_region *out;
    uint32_t cap;
    uint32_t count;
};

/* ACPI: "OSPM must treat any range type it does not recognize as
 * AddressRangeReserved" (chapter "System Address Map Interfaces"). */
static enum e820_rank e820_rank_of(uint32_t type)
{
    switch (type) {
    case MEM_USABLE: return E820_RANK_USABLE;
    case MEM_ACPI_RECLAIM: return E820_RANK_ACPI_RECLAIM;
    case MEM_PERSISTENT: return E820_RANK_PERSISTENT;
    case MEM_ACPI_NVS: return E820_RANK_ACPI_NVS;
    case MEM_BAD: return E820_RANK_BAD;
    default: return E820_RANK_RESERVED;
    }
}

/* The inclusive byte range of a raw entry, clipped at 2^64 - 1; false when
 * the entry is to be ignored (empty or not enabled). */
static bool e820_entry_range(const struct mem_region *r, uint64_t *first,
                             uint64_t *last)
{
    if (r->length == 0 || (r->attr & E820_ATTR_ENABLED) == 0)
        return false;
    *first = r->base;
    if (r->length - 1 > UINT64_MAX - r->base)
        *last = UINT64_MAX;
    else
        *last = r->base + (r->length - 1);
    return true;
}

/* Sorts points[0..n) ascending and removes repeats; returns the new count.
 * Insertion sort: n <= E820_MAX_POINTS, and it needs no scratch space. */
static uint32_t e820_sort_unique(uint64_t *points, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++) {
        uint64_t v = points[i];
        uint32_t j = i;
        for (; j > 0 && points[j - 1] > v; j--)
            points[j] = points[j - 1];
        points[j] = v;
    }
    uint32_t kept = 0;
    for (uint32_t i = 0; i < n; i++)
        if (kept == 0 || points[kept - 1] != points[i])
            points[kept++] = points[i];
    return kept;
}

/* Fills points[] with the first byte of every piece; returns the count. */
static uint32_t e820_cut_points(const struct mem_region *raw, uint32_t n,
                                uint64_t *points)
{
    uint32_t count = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t first, last;
        if (!e820_entry_range(&raw[i], &first, &last))
            continue;
        points[count++] = first;
        if (last != UINT64_MAX)
            points[count++] = last + 1;
    }
    return e820_sort_unique(points, count);
}

/* The winning rank at address addr (E820_RANK_NONE in a hole). */
static enum e820_rank e820_rank_at(const struct mem_region *raw, uint32_t n,
                                   uint64_t addr)
{
    enum e820_rank best = E820_RANK_NONE;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t first, last;
        if (!e820_entry_range(&raw[i], &first, &last))
            continue;
        enum e820_rank r = e820_rank_of(raw[i].type);
        if (first <= addr && addr <= last && r > best)
            best = r;
    }
    return best;
}

/* Shrinks s inward to whole pages; false when no whole page is left. */
static bool e820_page_shrink(struct e820_span *s)
{
    uint64_t first = s->first, last = s->last;
    if (PAGE_OFFSET(first) != 0) {
        if (first > PAGE_ROUND_DOWN(UINT64_MAX))       /* no page starts above it */
            return false;
        first = PAGE_ROUND_UP(first);
    }
    if (PAGE_OFFSET(last) != PAGE_SIZE - 1) {          /* last is inclusive */
        if (PAGE_ROUND_DOWN(last) == 0)
            return false;
        last = PAGE_ROUND_DOWN(last) - 1;
    }
    if (first > last)
        return false;
    s->first = first;
    s->last = last;
    return true;
}

/* Writes a finished span to the sink (shrinking usable RAM first); holes
 * write nothing. */
static int e820_emit(struct e820_sink *sink, struct e820_span s)
{
    if (s.rank == E820_RANK_NONE)
        return 0;
    if (s.rank == E820_RANK_USABLE && !e820_page_shrink(&s))
        return 0;
    if (sink->count == sink->cap)
        return E820_ERR_OVERFLOW;
    struct mem_region *r = &sink->out[sink->count++];
    r->base = s.first;
    /* Only [0, 2^64) itself has an unrepresentable length. */
    r->length = s.last - s.first + 1;
    if (r->length == 0)
        r->length = UINT64_MAX;
    r->type = e820_rank_type[s.rank];
    r->attr = E820_ATTR_ENABLED;
    return 0;
}

int e820_sanitize(const struct mem_region *raw, uint32_t raw_count,
                  struct mem_region *out, uint32_t out_cap)
{
    uint64_t points[E820_MAX_POINTS];
    struct e820_sink sink = { out, out_cap, 0 };
    struct e820_span pending = { 0, 0, E820_RANK_NONE };

    if (raw_count > E820_MAX_RAW)
        return E820_ERR_TOO_MANY;
    uint32_t npoints = e820_cut_points(raw, raw_count, points);
    for (uint32_t k = 0; k < npoints; k++) {
        struct e820_span piece = {
            points[k],
            k + 1 < npoints ? points[k + 1] - 1 : UINT64_MAX,
            e820_rank_at(raw, raw_count, points[k]),
        };
        /* Pieces tile the space, so equal rank means touching: merge. */
        if (piece.rank == pending.rank) {
            pending.last = piece.last;
            continue;
        }
        int err = e820_emit(&sink, pending);
        if (err < 0)
            return err;
        pending = piece;
    }
    int err = e820_emit(&sink, pending);
    return err < 0 ? err : (int)sink.count;
}

const char *e820_strerror(int err)
{
    switch (err) {
    case E820_ERR_OVERFLOW:
        return "sanitised memory map has more entries than the output holds";
    case E820_ERR_TOO_MANY:
        return "raw memory map has more entries than E820_MAX_RAW";
    default:
        return "unknown error";
    }
}

/* a + b, or UINT64_MAX when the sum does not fit. */
static uint64_t e820_add_sat(uint64_t a, uint64_t b)
{
    return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

uint64_t e820_usable_bytes(const struct mem_region *map, uint32_t n)
{
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++)
        if (map[i].type == MEM_USABLE)
            total = e820_add_sat(total, map[i].length);
    return total;
}

uint64_t e820_max_usable_end(const struct mem_region *map, uint32_t n)
{
    uint64_t max_end = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t end = e820_add_sat(map[i].base, map[i].length);
        if (map[i].type == MEM_USABLE && end > max_end)
            max_end = end;
    }
    return max_end;
}
