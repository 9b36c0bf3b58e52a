/*
 * pmm.c - the physical frame allocator: a hierarchical bitmap per zone,
 * written lazily.
 *
 * Level 0 has one bit per frame (1 = free); a set bit at level l+1 says
 * "word w of level l is non-zero" (include/pmm_meta.h). Allocation follows
 * set bits from the single top word down with one count-trailing-zeros per
 * level; free sets a bit and walks up only while a word went from zero to
 * non-zero. Both cost at most PMM_LEVELS word operations, so 128 MiB and
 * 512 GiB cost the same.
 *
 * Why lazily: writing the whole bitmap at init costs time in proportion to
 * RAM (16.5 MiB at 512 GiB, and when QEMU backs guest RAM with a sparse
 * file each first touch of a host page is a host page fault plus a block
 * allocation). So pmm_init writes one word, and each zone keeps its initial
 * state as two sorted extent sets: `usable` (what it may ever hand out) and
 * `runs` (what starts free: usable minus the loader's kept tables). A
 * frontier splits the zone: level-0 words below frontier[0] are real bitmap
 * words, frames in words at or above it are implicitly in their initial
 * state (free iff inside a run). The frontier only moves up, one word at a
 * time and only onto words holding a usable frame: a word over a hole is
 * never written and never read, because nothing sets its bit in the word
 * above, and pmm_free/pmm_frame_state refuse a frame outside `usable` before
 * looking at the bitmap. An upper-level word is zeroed when the frontier
 * first reaches a word below it (frontier[l]), so the upper levels too are
 * written only where usable memory lies.
 *
 * Every frame below the frontier is lower than every frame above it, so
 * when the written bitmap has no free frame the lowest free frame is the
 * first initially free one above the frontier: allocation materialises the
 * next word and retries (zone_refill), which keeps "lowest free frame
 * first". Freeing a frame above the frontier (a kept loader table: the
 * only frames there that are not free) first moves the frontier through
 * its word; stage2 allocates its tables low, so that is a few words. Each
 * word is materialised once, and each holds a free frame unless it holds
 * only kept tables, so allocation and free stay O(1) amortised; the
 * materialising paths are out of line so that the common ones stay as
 * short as a plain bitmap's.
 *
 * The extent sets are small (a few hundred entries at most: bounded by
 * BootInfo's fixed limits), so pmm_free refuses a never-usable frame with
 * a binary search instead of a second bitmap (the metadata size is fixed
 * by pmm_meta_bytes).
 */
#include <stdbool.h>
#include <stddef.h>

#include "console.h"
#include "layout.h"
#include "pmm.h"
#include "lib.h"
#include "pmm_meta.h"

#define FRAME_SHIFT 12
#define LOW_MEMORY_END_FRAME (LOW_MEMORY_END >> FRAME_SHIFT)
#define TOP (PMM_LEVELS - 1)
/* Each exclusion splits at most one extent in two. */
#define PMM_MAX_EXTENTS (2 * BOOT_INFO_MAX_REGIONS + BOOT_INFO_MAX_LOADER_RANGES + 4)
/* Upper bound of pmm_meta_bytes(TABLE_POOL_PAGES) / 8. */
#define POOL_META_WORDS (TABLE_POOL_PAGES / 32 + PMM_LEVELS)

struct extent {
    uint64_t start, end; /* frame numbers, half-open */
};

struct extent_set {
    uint32_t n;
    struct extent e[PMM_MAX_EXTENTS];
};

struct zone {
    uint64_t *level[PMM_LEVELS]; /* level l: pmm_level_words(frames, l) words */
    uint64_t base;               /* frame number of level-0 bit 0 */
    uint64_t frames;             /* level-0 bits */
    /* Level-l words below frontier[l] hold their true value, or lie over a
     * hole and are never read; words at or above it were never written. */
    uint64_t frontier[PMM_LEVELS];
    /* Cursors: the extents before them lie wholly below the frontier. */
    uint32_t next_usable, next_run;
    struct pmm_counters c;
    struct extent_set usable;    /* frames the zone may ever hand out */
    struct extent_set runs;      /* initially free: usable minus kept tables */
};

static struct zone zones[PMM_ZONE_COUNT];
static uint64_t pool_meta[POOL_META_WORDS];

/* ---- extent sets (the zone's usable frames and initial state) ---- */

static enum pmm_status ext_add(struct extent_set *s, uint64_t start, uint64_t end)
{
    if (start >= end)
        return PMM_OK;
    if (s->n == PMM_MAX_EXTENTS)
        return PMM_ERR_TOO_MANY_EXTENTS;
    s->e[s->n].start = start;
    s->e[s->n].end = end;
    s->n++;
    return PMM_OK;
}

/* Insertion sort then merge of overlapping or touching extents: the map
 * is meant to be sanitised already, but hand-made maps need not be. */
static void ext_sort_merge(struct extent_set *s)
{
    for (uint32_t i = 1; i < s->n; i++) {
        struct extent x = s->e[i];
        uint32_t j = i;
        for (; j > 0 && s->e[j - 1].start > x.start; j--)
            s->e[j] = s->e[j - 1];
        s->e[j] = x;
    }
    uint32_t out = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        if (out > 0 && s->e[i].start <= s->e[out - 1].end) {
            if (s->e[i].end > s->e[out - 1].end)
                s->e[out - 1].end = s->e[i].end;
            continue;
        }
        s->e[out++] = s->e[i];
    }
    s->n = out;
}

/* Splits extent i around [xs, xe), which lies strictly inside it. */
static enum pmm_status ext_split(struct extent_set *s, uint32_t i,
                                 uint64_t xs, uint64_t xe)
{
    if (s->n == PMM_MAX_EXTENTS)
        return PMM_ERR_TOO_MANY_EXTENTS;
    for (uint32_t j = s->n; j > i + 1; j--)
        s->e[j] = s->e[j - 1];
    s->e[i + 1].start = xe;
    s->e[i + 1].end = s->e[i].end;
    s->e[i].end = xs;
    s->n++;
    return PMM_OK;
}

/* Removes [xs, xe) from a sorted, disjoint set, keeping it so. */
static enum pmm_status ext_subtract(struct extent_set *s, uint64_t xs, uint64_t xe)
{
    uint32_t out = 0;
    if (xs >= xe)
        return PMM_OK;
    for (uint32_t i = 0; i < s->n; i++) {
        struct extent x = s->e[i];
        if (x.end <= xs || x.start >= xe) {
            s->e[out++] = x;
            continue;
        }
        if (x.start < xs && x.end > xe) /* only extent touched: out == i */
            return ext_split(s, i, xs, xe);
        if (x.start < xs)
            x.end = xs;
        else if (x.end > xe)
            x.start = xe;
        else
            continue; /* swallowed whole */
        s->e[out++] = x;
    }
    s->n = out;
    return PMM_OK;
}

static bool ext_contains(const struct extent_set *s, uint64_t frame)
{
    uint32_t lo = 0, hi = s->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (frame < s->e[mid].start)
            hi = mid;
        else if (frame >= s->e[mid].end)
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

/* True if some extent of s overlaps [a, b) (frame numbers). */
static bool ext_overlaps(const struct extent_set *s, uint64_t a, uint64_t b)
{
    uint32_t lo = 0, hi = s->n;
    while (lo < hi) { /* the first extent ending after a */
        uint32_t mid = lo + (hi - lo) / 2;
        if (s->e[mid].end <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->n && s->e[lo].start < b && a < b;
}

static uint64_t ext_total(const struct extent_set *s)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < s->n; i++)
        n += s->e[i].end - s->e[i].start;
    return n;
}

/* ---- the bitmap ---- */

/* Bits [from, to) of one word, 0 <= from < to <= 64. */
static uint64_t span_mask(uint64_t from, uint64_t to)
{
    uint64_t n = to - from;
    return (n == 64 ? ~0ULL : (1ULL << n) - 1) << from;
}

static void zone_layout(struct zone *z, uint64_t *meta, uint64_t base,
                        uint64_t frames)
{
    z->base = base;
    z->frames = frames;
    for (unsigned l = 0; l < PMM_LEVELS; l++) {
        z->level[l] = meta;
        meta += pmm_level_words(frames, l);
    }
}

/* Sets bit idx of level l, then the bits above while a word went from
 * zero to non-zero. */
static void zone_set_bit(struct zone *z, unsigned l, uint64_t idx)
{
    for (; l < PMM_LEVELS; l++, idx >>= 6) {
        uint64_t *w = &z->level[l][idx >> 6];
        uint64_t was = *w;
        *w = was | (1ULL << (idx & 63));
        if (was != 0)
            break; /* the word above already says "non-zero" */
    }
}

/* Zeroes the upper-level words above level-0 word w that the frontier
 * reaches for the first time. The words it jumps over lie over holes:
 * nothing below them is ever materialised, so no bit ever points at them. */
static void zone_open_ancestors(struct zone *z, uint64_t w)
{
    for (unsigned l = 1; l < PMM_LEVELS; l++) {
        w >>= 6;
        if (w < z->frontier[l])
            break; /* open already, and so is everything above it */
        z->level[l][w] = 0;
        z->frontier[l] = w + 1;
    }
}

/* The initial bits of level-0 word w: the runs that overlap it (one,
 * unless runs end and start inside the word). Moves next_run past the
 * runs wholly below w: the frontier never comes back to them. */
static uint64_t zone_run_bits(struct zone *z, uint64_t w)
{
    uint64_t lo = z->base + (w << 6), hi = lo + 64, bits = 0;
    while (z->next_run < z->runs.n && z->runs.e[z->next_run].end <= lo)
        z->next_run++;
    for (uint32_t i = z->next_run; i < z->runs.n && z->runs.e[i].start < hi; i++) {
        const struct extent *r = &z->runs.e[i];
        bits |= span_mask(r->start > lo ? r->start - lo : 0,
                          r->end < hi ? r->end - lo : 64);
    }
    return bits;
}

/* Moves the frontier over the next level-0 word holding a usable frame,
 * writing it with its initial bits. A word of kept tables only is written
 * as zero (a later free needs it real). False when no usable frame is left
 * above the frontier. */
static bool zone_materialise_next(struct zone *z)
{
    uint64_t w = z->frontier[0];
    while (z->next_usable < z->usable.n &&
           z->usable.e[z->next_usable].end <= z->base + (w << 6))
        z->next_usable++;
    if (z->next_usable == z->usable.n)
        return false;
    uint64_t first = (z->usable.e[z->next_usable].start - z->base) >> 6;
    if (first > w)
        w = first; /* over a hole: its words are never written */
    zone_open_ancestors(z, w);
    uint64_t bits = zone_run_bits(z, w);
    z->level[0][w] = bits;
    z->frontier[0] = w + 1;
    if (bits != 0)
        zone_set_bit(z, 1, w);
    return true;
}

/* Moves the frontier past zone-relative frame idx, which must be usable:
 * one step per usable word in between, work allocation would have done
 * anyway, and done once. */
static void zone_materialise_through(struct zone *z, uint64_t idx)
{
    while (z->frontier[0] <= idx >> 6)
        if (!zone_materialise_next(z))
            kpanic("zone_materialise_through: frame %llu is past the usable extents",
                   (unsigned long long)(z->base + idx));
}

/* Level-0 bit of zone-relative frame idx, below the frontier. */
static bool bit_is_free(const struct zone *z, uint64_t idx)
{
    return (z->level[0][idx >> 6] >> (idx & 63)) & 1;
}

/* Frame f (usable) is free: its bit below the frontier, its initial state
 * above it (nothing there has changed since pmm_init). */
static bool zone_is_free(const struct zone *z, uint64_t f)
{
    uint64_t idx = f - z->base;
    if ((idx >> 6) >= z->frontier[0])
        return ext_contains(&z->runs, f);
    return bit_is_free(z, idx);
}

/* The written bitmap has no free frame, so the lowest free frame lies
 * above the frontier: materialise word by word until one holds it (the
 * first word does, unless it holds kept tables only). The caller saw
 * c.free > 0. */
static void zone_refill(struct zone *z)
{
    while (z->level[TOP][0] == 0)
        if (!zone_materialise_next(z))
            kpanic("zone_refill: %llu frames counted free, none found",
                   (unsigned long long)z->c.free);
}

/* Takes the lowest free frame from the written bitmap (top word non-zero). */
static uint64_t zone_take(struct zone *z)
{
    uint64_t idx = 0;
    for (int l = TOP; l >= 0; l--)
        idx = idx * 64 + (uint64_t)__builtin_ctzll(z->level[l][idx]);
    uint64_t bit = idx;
    for (unsigned l = 0; l < PMM_LEVELS; l++, bit >>= 6) {
        uint64_t *w = &z->level[l][bit >> 6];
        *w &= ~(1ULL << (bit & 63));
        if (*w != 0)
            break; /* the word above still says "non-zero" */
    }
    return idx;
}

/* Marks a used, materialised frame free. */
static void zone_give(struct zone *z, uint64_t idx)
{
    zone_set_bit(z, 0, idx);
    z->c.free++;
    z->c.used--;
}

/* pmm_free of usable frame f above the frontier, where every frame is in
 * its initial state: free (a double free), or a kept loader table, whose
 * word must become real before its bit is set. Out of line: inlined, its
 * calls would cost every pmm_free saved registers. */
static __attribute__((noinline)) enum pmm_status zone_free_above(struct zone *z, uint64_t f)
{
    if (ext_contains(&z->runs, f))
        return PMM_ERR_DOUBLE_FREE;
    zone_materialise_through(z, f - z->base);
    zone_give(z, f - z->base);
    return PMM_OK;
}

/* ---- building the zones from BootInfo ---- */

static bool kind_is_kept_table(uint32_t kind)
{
    return kind == LOADER_RANGE_PAGE_TABLES || kind == LOADER_RANGE_WINDOW_TABLES;
}

static uint64_t frame_floor(uint64_t addr) { return addr >> FRAME_SHIFT; }
static uint64_t frame_ceil(uint64_t addr) { return PAGE_ROUND_UP(addr) >> FRAME_SHIFT; }

/* Subtracts every loader range a zone must never hand out (all kinds but
 * the kept tables and, for the pool zone, the pool itself). */
static enum pmm_status subtract_loader_ranges(struct extent_set *s,
                                              const struct boot_info *bi,
                                              uint32_t own_kind)
{
    for (uint32_t i = 0; i < bi->loader_range_count; i++) {
        const struct loader_range *r = &bi->loader_ranges[i];
        if (kind_is_kept_table(r->kind) || r->kind == own_kind)
            continue;
        enum pmm_status st = ext_subtract(s, frame_floor(r->base),
                                          frame_floor(r->base) + r->pages);
        if (st != PMM_OK)
            return st;
    }
    return PMM_OK;
}

/* Rounds the byte extents of s inward to whole frames, at or above 1 MiB
 * and below PMM_MAX_FRAMES; drops those left empty. Keeps s sorted. */
static void ext_bytes_to_frames(struct extent_set *s)
{
    uint32_t out = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        uint64_t end = s->e[i].end < PMM_MAX_PHYS ? s->e[i].end : PMM_MAX_PHYS;
        uint64_t first = s->e[i].start < end ? frame_ceil(s->e[i].start) : 0;
        struct extent x = { first > LOW_MEMORY_END_FRAME ? first : LOW_MEMORY_END_FRAME,
                            frame_floor(end) };
        if (x.start < x.end)
            s->e[out++] = x;
    }
    s->n = out;
}

/* Usable RAM at or above 1 MiB minus everything else the map names. The
 * usable entries are merged in bytes before they are rounded to frames:
 * two entries touching inside a frame share it, which rounding each one
 * first would lose (the order stage2's e820.c keeps too). */
static enum pmm_status general_usable(struct extent_set *s, const struct boot_info *bi)
{
    enum pmm_status st = PMM_OK;
    for (uint32_t i = 0; i < bi->map_count && st == PMM_OK; i++) {
        const struct mem_region *m = &bi->map[i];
        uint64_t end = m->length > UINT64_MAX - m->base ? UINT64_MAX : m->base + m->length;
        if (m->type == MEM_USABLE)
            st = ext_add(s, m->base, end);
    }
    ext_sort_merge(s);
    ext_bytes_to_frames(s);
    for (uint32_t i = 0; i < bi->map_count && st == PMM_OK; i++) {
        const struct mem_region *m = &bi->map[i];
        if (m->type != MEM_USABLE)
            st = ext_subtract(s, frame_floor(m->base), frame_ceil(m->base + m->length));
    }
    if (st == PMM_OK)
        st = ext_subtract(s, frame_floor(bi->kernel_phys_start),
                          frame_ceil(bi->kernel_phys_end));
    if (st == PMM_OK)
        st = subtract_loader_ranges(s, bi, 0);
    return st;
}

static enum pmm_status pool_usable(struct extent_set *s, const struct boot_info *bi)
{
    uint64_t start = frame_floor(bi->table_pool_phys);
    enum pmm_status st = ext_add(s, start, start + bi->table_pool_pages);
    if (st == PMM_OK)
        st = subtract_loader_ranges(s, bi, LOADER_RANGE_TABLE_POOL);
    return st;
}

/* runs := usable minus the loader's kept tables (they start used). */
static enum pmm_status initially_free(struct zone *z, const struct boot_info *bi)
{
    z->runs = z->usable;
    for (uint32_t i = 0; i < bi->loader_range_count; i++) {
        const struct loader_range *r = &bi->loader_ranges[i];
        if (!kind_is_kept_table(r->kind))
            continue;
        enum pmm_status st = ext_subtract(&z->runs, frame_floor(r->base),
                                          frame_floor(r->base) + r->pages);
        if (st != PMM_OK)
            return st;
    }
    return PMM_OK;
}

/* Lays out the zone over meta and sets the counters from the extents.
 * Writes one metadata word, the top one (zone_take reads it first); the
 * rest is written as the frontier reaches it. */
static enum pmm_status zone_fill(struct zone *z, const struct boot_info *bi,
                                 uint64_t *meta, uint64_t meta_bytes, uint64_t base)
{
    enum pmm_status st = initially_free(z, bi);
    if (st != PMM_OK)
        return st;
    uint64_t frames = z->usable.n ? z->usable.e[z->usable.n - 1].end - base : 0;
    uint64_t words = 0;
    for (unsigned l = 0; l < PMM_LEVELS; l++)
        words += pmm_level_words(frames, l);
    if (words * sizeof(uint64_t) > meta_bytes) /* pmm_meta_bytes rounds up to pages */
        return PMM_ERR_META_TOO_SMALL;
    zone_layout(z, meta, base, frames);
    if (frames > 0) {
        z->level[TOP][0] = 0;
        z->frontier[TOP] = 1;
    }
    z->c.total = ext_total(&z->usable);
    z->c.free = ext_total(&z->runs);
    z->c.used = z->c.total - z->c.free;
    z->c.peak_used = z->c.used;
    return PMM_OK;
}

static void zone_reset(struct zone *z)
{
    memset(z, 0, sizeof(*z));
}

enum pmm_status pmm_init(const struct boot_info *bi, uint64_t *meta,
                         uint64_t meta_bytes)
{
    struct zone *g = &zones[PMM_ZONE_GENERAL], *p = &zones[PMM_ZONE_TABLE_POOL];
    zone_reset(g);
    zone_reset(p);
    enum pmm_status st = general_usable(&g->usable, bi);
    if (st == PMM_OK)
        st = zone_fill(g, bi, meta, meta_bytes, 0);
    if (st == PMM_OK)
        st = pool_usable(&p->usable, bi);
    if (st == PMM_OK)
        st = zone_fill(p, bi, pool_meta, sizeof(pool_meta),
                       frame_floor(bi->table_pool_phys));
    if (st != PMM_OK) {
        zone_reset(g);
        zone_reset(p);
    }
    return st;
}

/* ---- the public operations ---- */

/* pmm_alloc once the written bitmap is empty: refill it, then take as
 * usual. Out of line, like zone_free_above, and reached by a tail call:
 * it runs at most once per 64 frames, and a call inside pmm_alloc would
 * cost every allocation saved registers. */
static __attribute__((noinline)) enum pmm_status alloc_after_refill(enum pmm_zone zone,
                                                                    paddr_t *out)
{
    zone_refill(&zones[zone]);
    return pmm_alloc(zone, out);
}

enum pmm_status pmm_alloc(enum pmm_zone zone, paddr_t *out)
{
    struct zone *z = &zones[zone];
    if (z->c.free == 0)
        return PMM_ERR_EXHAUSTED;
    if (z->level[TOP][0] == 0)
        return alloc_after_refill(zone, out);
    uint64_t idx = zone_take(z);
    z->c.free--;
    z->c.used++;
    if (z->c.used > z->c.peak_used)
        z->c.peak_used = z->c.used;
    *out = paddr((z->base + idx) << FRAME_SHIFT);
    return PMM_OK;
}

enum pmm_status pmm_free(enum pmm_zone zone, paddr_t frame)
{
    struct zone *z = &zones[zone];
    uint64_t f = frame.pa >> FRAME_SHIFT, idx = f - z->base;
    if (PAGE_OFFSET(frame.pa))
        return PMM_ERR_MISALIGNED;
    if (!ext_contains(&z->usable, f))
        return PMM_ERR_NOT_USABLE;
    if ((idx >> 6) >= z->frontier[0])
        return zone_free_above(z, f);
    if (bit_is_free(z, idx))
        return PMM_ERR_DOUBLE_FREE;
    zone_give(z, idx);
    return PMM_OK;
}

enum pmm_frame_state pmm_frame_state(enum pmm_zone zone, paddr_t frame)
{
    const struct zone *z = &zones[zone];
    uint64_t f = frame.pa >> FRAME_SHIFT;
    if (!ext_contains(&z->usable, f))
        return PMM_FRAME_NOT_USABLE;
    return zone_is_free(z, f) ? PMM_FRAME_FREE : PMM_FRAME_USED;
}

enum pmm_status pmm_release_loader_ranges(const struct boot_info *bi,
                                          enum loader_range_kind kind)
{
    for (uint32_t i = 0; i < bi->loader_range_count; i++) {
        const struct loader_range *r = &bi->loader_ranges[i];
        for (uint64_t k = 0; r->kind == kind && k < r->pages; k++) {
            enum pmm_status st = pmm_free(PMM_ZONE_GENERAL,
                                          paddr(r->base + k * PAGE_SIZE));
            if (st != PMM_OK)
                return st;
        }
    }
    return PMM_OK;
}

void pmm_get_counters(enum pmm_zone zone, struct pmm_counters *out)
{
    *out = zones[zone].c;
}

/* ---- pmm_verify: O(written metadata), for tests and debugging ---- */

/* Set bits of x; no libgcc in the kernel (__builtin_popcountll calls it
 * without -mpopcnt). */
static uint64_t popcount64(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ULL);
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
    return (x * 0x0101010101010101ULL) >> 56;
}

/* Free bits among level-0 bits [from, to), all below the frontier. */
static uint64_t bits_count(const uint64_t *words, uint64_t from, uint64_t to)
{
    uint64_t count = 0;
    for (uint64_t b = from; b < to;) {
        uint64_t off = b & 63, n = 64 - off;
        if (n > to - b)
            n = to - b;
        count += popcount64(words[b >> 6] & span_mask(off, off + n));
        b += n;
    }
    return count;
}

/* Zone-relative frames [a, b) hold a usable frame below the frontier: the
 * level-0 word, and every word above, covering them has been written. */
static bool zone_written(const struct zone *z, uint64_t a, uint64_t b)
{
    uint64_t limit = z->frontier[0] << 6;
    return ext_overlaps(&z->usable, z->base + a, z->base + (b < limit ? b : limit));
}

/* What level-l word p (l >= 1) must hold: a bit for each written,
 * non-zero word of level l-1 below it (a level-(l-1) word spans 64^l
 * frames). Unwritten words below it must have a zero bit. */
static uint64_t summary_of(const struct zone *z, unsigned l, uint64_t p)
{
    uint64_t want = 0, below = pmm_level_words(z->frames, l - 1);
    for (uint64_t b = 0; b < 64 && p * 64 + b < below; b++) {
        uint64_t c = p * 64 + b;
        if (zone_written(z, c << (6 * l), (c + 1) << (6 * l)) && z->level[l - 1][c] != 0)
            want |= 1ULL << b;
    }
    return want;
}

typedef bool word_visit(const struct zone *z, unsigned l, uint64_t w, uint64_t *acc);

static bool word_consistent(const struct zone *z, unsigned l, uint64_t w, uint64_t *acc)
{
    (void)acc;
    return z->level[l][w] == summary_of(z, l, w);
}

static bool word_count(const struct zone *z, unsigned l, uint64_t w, uint64_t *acc)
{
    *acc += popcount64(z->level[l][w]);
    return true;
}

/* Calls visit once for each written word of level l, in order: the words
 * covering usable frames below the frontier. Stops at the first false. */
static bool each_written_word(const struct zone *z, unsigned l, word_visit *visit,
                              uint64_t *acc)
{
    uint64_t limit = z->frontier[0] << 6, p = 0;
    unsigned shift = 6 * (l + 1);
    for (uint32_t i = 0; i < z->usable.n; i++) {
        uint64_t a = z->usable.e[i].start - z->base, b = z->usable.e[i].end - z->base;
        if (b > limit)
            b = limit;
        if (a >= b)
            break; /* this extent and the later ones lie above the frontier */
        if (p < a >> shift)
            p = a >> shift; /* p > a >> shift: the word is shared with the last extent */
        for (; p <= (b - 1) >> shift; p++)
            if (!visit(z, l, p, acc))
                return false;
    }
    return true;
}

/* Free frames above the frontier: the runs' frames there. */
static uint64_t implicit_free(const struct zone *z)
{
    uint64_t limit = z->base + (z->frontier[0] << 6), n = 0;
    for (uint32_t i = 0; i < z->runs.n; i++) {
        uint64_t a = z->runs.e[i].start > limit ? z->runs.e[i].start : limit;
        n += z->runs.e[i].end > a ? z->runs.e[i].end - a : 0;
    }
    return n;
}

/* Free bits inside the usable extents, below the frontier. */
static uint64_t usable_free_bits(const struct zone *z)
{
    uint64_t limit = z->frontier[0] << 6, n = 0;
    for (uint32_t i = 0; i < z->usable.n; i++) {
        uint64_t a = z->usable.e[i].start - z->base, b = z->usable.e[i].end - z->base;
        if (b > limit)
            b = limit;
        if (a < b)
            n += bits_count(z->level[0], a, b);
    }
    return n;
}

enum pmm_status pmm_verify(enum pmm_zone zone)
{
    const struct zone *z = &zones[zone];
    if (z->frames == 0)
        return z->c.free == 0 && z->c.total == 0 ? PMM_OK : PMM_ERR_CORRUPT;
    if (!word_consistent(z, TOP, 0, NULL))
        return PMM_ERR_CORRUPT;
    for (unsigned l = 1; l < TOP; l++)
        if (!each_written_word(z, l, word_consistent, NULL))
            return PMM_ERR_CORRUPT;
    uint64_t written = 0;
    each_written_word(z, 0, word_count, &written);
    bool ok = written == usable_free_bits(z) && /* no free bit outside `usable` */
              written + implicit_free(z) == z->c.free &&
              z->c.used == z->c.total - z->c.free && z->c.peak_used >= z->c.used;
    return ok ? PMM_OK : PMM_ERR_CORRUPT;
}

const char *pmm_status_name(enum pmm_status status)
{
    static const char *const names[PMM_STATUS_COUNT] = {
        [PMM_OK] = "ok",
        [PMM_ERR_EXHAUSTED] = "exhausted",
        [PMM_ERR_DOUBLE_FREE] = "double free",
        [PMM_ERR_NOT_USABLE] = "not usable",
        [PMM_ERR_MISALIGNED] = "misaligned",
        [PMM_ERR_META_TOO_SMALL] = "metadata too small",
        [PMM_ERR_TOO_MANY_EXTENTS] = "too many extents",
        [PMM_ERR_CORRUPT] = "corrupt",
    };
    if ((unsigned)status >= PMM_STATUS_COUNT)
        return "unknown";
    return names[status];
}
