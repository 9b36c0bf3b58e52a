/*
 * pmm.c - the physical frame allocator: a hierarchical bitmap per zone.
 *
 * Level 0 has one bit per frame (1 = free); a set bit at level l+1 says
 * "word w of level l is non-zero" (include/pmm_meta.h). Allocation follows
 * set bits from the single top word down with one count-trailing-zeros per
 * level; free sets a bit and walks up only while a word went from zero to
 * non-zero. Both cost at most PMM_LEVELS word operations, so 128 MiB and
 * 512 GiB cost the same.
 *
 * Which frames a zone may ever hand out is kept as a sorted array of
 * extents (at most a few hundred: bounded by BootInfo's fixed limits), so
 * pmm_free can refuse a never-usable frame with a binary search instead of
 * a second bitmap (the metadata size is fixed by pmm_meta_bytes).
 */
#include <stdbool.h>
#include <stddef.h>

#include "layout.h"
#include "pmm.h"
#include "lib.h"
#include "pmm_meta.h"

#define FRAME_SHIFT 12
#define LOW_MEMORY_END_FRAME (0x100000 >> FRAME_SHIFT) /* 1 MiB */
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
    struct extent_set usable;    /* frames the zone may ever hand out */
    struct pmm_counters c;
};

static struct zone zones[PMM_ZONE_COUNT];
static uint64_t pool_meta[POOL_META_WORDS];
static struct extent_set scratch; /* the initially free frames, during init */

/* ---- extent sets (init and the never-usable check) ---- */

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

/* ---- the bitmap ---- */

/* Whole words in the middle of the run are one memset: at 512 GiB level 0
 * alone is two million words, and this is most of the kernel's boot. */
static void bits_set(uint64_t *words, uint64_t from, uint64_t to)
{
    for (uint64_t b = from; b < to;) {
        uint64_t off = b & 63, n = 64 - off;
        if (off == 0 && to - b >= 128) {
            uint64_t whole = (to - b) >> 6;
            memset(&words[b >> 6], 0xFF, whole * sizeof(uint64_t));
            b += whole << 6;
            continue;
        }
        if (n > to - b)
            n = to - b;
        uint64_t mask = (n == 64) ? ~0ULL : (((1ULL << n) - 1) << off);
        words[b >> 6] |= mask;
        b += n;
    }
}

/* Set bits of x; no libgcc in the kernel (__builtin_popcountll calls it
 * without -mpopcnt). Only pmm_verify needs it. */
static uint64_t popcount64(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ULL);
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
    return (x * 0x0101010101010101ULL) >> 56;
}

static uint64_t bits_count(const uint64_t *words, uint64_t from, uint64_t to)
{
    uint64_t count = 0;
    for (uint64_t b = from; b < to;) {
        uint64_t off = b & 63, n = 64 - off;
        if (n > to - b)
            n = to - b;
        uint64_t mask = (n == 64) ? ~0ULL : (((1ULL << n) - 1) << off);
        count += popcount64(words[b >> 6] & mask);
        b += n;
    }
    return count;
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

/* Marks zone-relative frames [from, to) free at every level: the words
 * they touch at level l-1 are all non-zero afterwards, so level l gets the
 * contiguous bit range that covers them. */
static void zone_mark_free(struct zone *z, uint64_t from, uint64_t to)
{
    z->c.free += to - from;
    for (unsigned l = 0; l < PMM_LEVELS; l++) {
        bits_set(z->level[l], from, to);
        from >>= 6;
        to = ((to - 1) >> 6) + 1;
    }
}

static uint64_t zone_take(struct zone *z)
{
    uint64_t idx = 0;
    for (int l = PMM_LEVELS - 1; l >= 0; l--)
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

static void zone_give(struct zone *z, uint64_t idx)
{
    for (unsigned l = 0; l < PMM_LEVELS; l++, idx >>= 6) {
        uint64_t *w = &z->level[l][idx >> 6];
        uint64_t was = *w;
        *w = was | (1ULL << (idx & 63));
        if (was != 0)
            break; /* the word above already says "non-zero" */
    }
}

/* ---- building the zones from BootInfo ---- */

static bool kind_is_kept_table(uint32_t kind)
{
    return kind == LOADER_RANGE_PAGE_TABLES || kind == LOADER_RANGE_WINDOW_TABLES;
}

static uint64_t frame_floor(uint64_t addr) { return addr >> FRAME_SHIFT; }
static uint64_t frame_ceil(uint64_t addr) { return (addr + PAGE_SIZE - 1) >> FRAME_SHIFT; }

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

/* Usable RAM at or above 1 MiB minus everything else the map names. */
static enum pmm_status general_usable(struct extent_set *s, const struct boot_info *bi)
{
    enum pmm_status st = PMM_OK;
    for (uint32_t i = 0; i < bi->map_count && st == PMM_OK; i++) {
        const struct mem_region *m = &bi->map[i];
        uint64_t start = frame_ceil(m->base), end = frame_floor(m->base + m->length);
        if (start < LOW_MEMORY_END_FRAME)
            start = LOW_MEMORY_END_FRAME;
        if (end > PMM_MAX_FRAMES)
            end = PMM_MAX_FRAMES;
        if (m->type == MEM_USABLE)
            st = ext_add(s, start, end);
    }
    ext_sort_merge(s);
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

/* scratch := usable minus the loader's kept tables (they start used). */
static enum pmm_status initially_free(const struct zone *z, const struct boot_info *bi)
{
    scratch = z->usable;
    for (uint32_t i = 0; i < bi->loader_range_count; i++) {
        const struct loader_range *r = &bi->loader_ranges[i];
        if (!kind_is_kept_table(r->kind))
            continue;
        enum pmm_status st = ext_subtract(&scratch, frame_floor(r->base),
                                          frame_floor(r->base) + r->pages);
        if (st != PMM_OK)
            return st;
    }
    return PMM_OK;
}

static uint64_t ext_total(const struct extent_set *s)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < s->n; i++)
        n += s->e[i].end - s->e[i].start;
    return n;
}

/* Zeroes every metadata word that zone_mark_free will not overwrite as a
 * whole: all of the (small) upper levels, and at level 0 the words outside
 * the free runs plus the partial words at their ends. The words inside a
 * run are written once, by bits_set's memset, so the loader need not zero
 * the bitmap first: at 512 GiB that is 16 MiB written once instead of
 * twice. scratch is sorted and its runs do not overlap. */
static void zone_clear(struct zone *z)
{
    for (unsigned l = 1; l < PMM_LEVELS; l++)
        memset(z->level[l], 0, pmm_level_words(z->frames, l) * sizeof(uint64_t));
    uint64_t *w = z->level[0], next = 0, words = pmm_level_words(z->frames, 0);
    for (uint32_t i = 0; i < scratch.n; i++) {
        uint64_t a = scratch.e[i].start - z->base, b = scratch.e[i].end - z->base;
        uint64_t first = a >> 6, last = (b - 1) >> 6;
        if (first >= next)
            memset(&w[next], 0, (first - next + 1) * sizeof(uint64_t));
        if (last > first)
            w[last] = 0;
        next = last + 1;
    }
    if (words > next)
        memset(&w[next], 0, (words - next) * sizeof(uint64_t));
}

/* Lays out the zone over meta, marks scratch free, sets the counters. */
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
    zone_clear(z);
    for (uint32_t i = 0; i < scratch.n; i++)
        zone_mark_free(z, scratch.e[i].start - base, scratch.e[i].end - base);
    z->c.total = ext_total(&z->usable);
    z->c.used = z->c.total - z->c.free;
    z->c.peak_used = z->c.used;
    return PMM_OK;
}

static void zone_reset(struct zone *z)
{
    struct zone empty = { .base = 0 };
    *z = empty;
}

enum pmm_status pmm_init(const struct boot_info *bi, uint64_t *meta,
                         uint64_t meta_bytes)
{
    struct zone *g = &zones[PMM_ZONE_GENERAL], *p = &zones[PMM_ZONE_TABLE_POOL];
    zone_reset(g);
    zone_reset(p);
    for (size_t i = 0; i < POOL_META_WORDS; i++)
        pool_meta[i] = 0; /* small, and pmm_init may run again in tests */
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

enum pmm_status pmm_alloc(enum pmm_zone zone, paddr_t *out)
{
    struct zone *z = &zones[zone];
    if (z->c.free == 0)
        return PMM_ERR_EXHAUSTED;
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
    if (frame.pa & (PAGE_SIZE - 1))
        return PMM_ERR_MISALIGNED;
    enum pmm_frame_state state = pmm_frame_state(zone, frame);
    if (state == PMM_FRAME_NOT_USABLE)
        return PMM_ERR_NOT_USABLE;
    if (state == PMM_FRAME_FREE)
        return PMM_ERR_DOUBLE_FREE;
    zone_give(z, (frame.pa >> FRAME_SHIFT) - z->base);
    z->c.free++;
    z->c.used--;
    return PMM_OK;
}

enum pmm_frame_state pmm_frame_state(enum pmm_zone zone, paddr_t frame)
{
    const struct zone *z = &zones[zone];
    uint64_t f = frame.pa >> FRAME_SHIFT;
    if (!ext_contains(&z->usable, f))
        return PMM_FRAME_NOT_USABLE;
    uint64_t idx = f - z->base;
    bool free = (z->level[0][idx >> 6] >> (idx & 63)) & 1;
    return free ? PMM_FRAME_FREE : PMM_FRAME_USED;
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

/* Level l (l >= 1) word w must equal "which level l-1 words are non-zero". */
static bool level_consistent(const struct zone *z, unsigned l)
{
    uint64_t below = pmm_level_words(z->frames, l - 1);
    for (uint64_t w = 0; w < pmm_level_words(z->frames, l); w++) {
        uint64_t want = 0;
        for (uint64_t b = 0; b < 64 && w * 64 + b < below; b++)
            want |= (uint64_t)(z->level[l - 1][w * 64 + b] != 0) << b;
        if (z->level[l][w] != want)
            return false;
    }
    return true;
}

enum pmm_status pmm_verify(enum pmm_zone zone)
{
    const struct zone *z = &zones[zone];
    if (z->frames == 0)
        return z->c.free == 0 && z->c.total == 0 ? PMM_OK : PMM_ERR_CORRUPT;
    for (unsigned l = 1; l < PMM_LEVELS; l++)
        if (!level_consistent(z, l))
            return PMM_ERR_CORRUPT;
    uint64_t all = bits_count(z->level[0], 0, pmm_level_words(z->frames, 0) * 64);
    uint64_t inside = 0;
    for (uint32_t i = 0; i < z->usable.n; i++)
        inside += bits_count(z->level[0], z->usable.e[i].start - z->base,
                             z->usable.e[i].end - z->base);
    bool ok = all == z->c.free && inside == all &&
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
