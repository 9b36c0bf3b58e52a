/* alloc.c - stage2's bump allocator (see alloc.h). */
#include <stdint.h>
#include "alloc.h"
#include "stage2.h"
#include "lib.h"
#include "../include/layout.h"

#define FOUR_GIB 0x100000000ULL

static struct boot_info *info;
static uint64_t cursor;

void alloc_init(struct boot_info *bi)
{
    info = bi;
}

void alloc_start_at(uint64_t start)
{
    cursor = (start + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
}

void alloc_record(uint64_t base, uint64_t pages, enum loader_range_kind kind)
{
    struct loader_range *last = info->loader_range_count ?
        &info->loader_ranges[info->loader_range_count - 1] : 0;
    if (last && last->kind == kind && last->base + last->pages * PAGE_SIZE == base) {
        last->pages += pages;            /* extend the previous run */
        return;
    }
    if (info->loader_range_count == BOOT_INFO_MAX_LOADER_RANGES)
        die("more than %u separate loader memory ranges", BOOT_INFO_MAX_LOADER_RANGES);
    info->loader_ranges[info->loader_range_count++] =
        (struct loader_range){ base, pages, (uint32_t)kind, 0 };
}

int alloc_is_usable(uint64_t base, uint64_t len)
{
    for (uint32_t i = 0; i < info->map_count; i++) {
        const struct mem_region *m = &info->map[i];
        if (m->type == MEM_USABLE && base >= m->base && base + len <= m->base + m->length)
            return 1;
    }
    return 0;
}

/* Move the cursor to the first place at or after it, aligned to `align`,
 * where `bytes` fit in one usable region. Returns 0 when none does below
 * 4 GiB. Frames skipped for alignment are not recorded: they stay the
 * kernel's. */
static int alloc_fit(uint64_t bytes, uint64_t align)
{
    for (uint32_t i = 0; i < info->map_count; i++) {
        const struct mem_region *m = &info->map[i];
        uint64_t end = m->base + m->length;
        if (m->type != MEM_USABLE || end <= cursor)
            continue;
        uint64_t start = m->base > cursor ? m->base : cursor;
        start = (start + align - 1) & ~(align - 1);
        if (start + bytes <= end && start + bytes <= FOUR_GIB) {
            cursor = start;
            return 1;
        }
    }
    return 0;
}

uint64_t alloc_pages_aligned(uint32_t pages, enum loader_range_kind kind, enum alloc_fill fill,
                             uint64_t align)
{
    uint64_t bytes = (uint64_t)pages * PAGE_SIZE;
    if (!alloc_fit(bytes, align))
        die("out of memory below 4 GiB for %u loader pages (kind %u)", pages, kind);
    uint64_t pa = cursor;
    cursor += bytes;
    if (fill == ALLOC_ZEROED)
        memset((void *)(uintptr_t)pa, 0, (size_t)bytes);
    alloc_record(pa, pages, kind);
    return pa;
}

uint64_t alloc_pages(uint32_t pages, enum loader_range_kind kind, enum alloc_fill fill)
{
    return alloc_pages_aligned(pages, kind, fill, PAGE_SIZE);
}
