/* alloc.c - stage2's first-fit frame allocator (see alloc.h). */
#include <stdint.h>
#include "alloc.h"
#include "panic.h"
#include "lib.h"
#include "../include/addr.h"
#include "../include/layout.h"

static struct boot_info *info;

void alloc_init(struct boot_info *bi)
{
    info = bi;
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
        if (m->type == MEM_USABLE && base >= m->base && len <= m->length &&
            base - m->base <= m->length - len)
            return 1;
    }
    return 0;
}

static const char *kind_name(enum loader_range_kind kind)
{
    static const char *const names[] = {
        [LOADER_RANGE_PAGE_TABLES] = "page tables", [LOADER_RANGE_WINDOW_TABLES] = "window tables",
        [LOADER_RANGE_STACK] = "kernel stack", [LOADER_RANGE_TABLE_POOL] = "table pool",
        [LOADER_RANGE_PMM_BITMAP] = "frame bitmap", [LOADER_RANGE_MODULE] = "boot module",
        [LOADER_RANGE_CONFIG] = "boot configuration",
    };
    return (unsigned)kind < sizeof(names) / sizeof(names[0]) && names[kind] ? names[kind] : "?";
}

/* The end of the first recorded range that meets [start, end), or 0 when
 * none does. Everything the loader uses is recorded (its image, BootInfo,
 * the kernel's segments, earlier allocations), so a free candidate is one
 * no range meets. */
static uint64_t alloc_conflict(uint64_t start, uint64_t end)
{
    for (uint32_t i = 0; i < info->loader_range_count; i++) {
        const struct loader_range *r = &info->loader_ranges[i];
        uint64_t r_end = r->base + r->pages * PAGE_SIZE;
        if (r->base < end && start < r_end)
            return r_end;
    }
    return 0;
}

/* The lowest address, aligned to `align`, where `bytes` fit inside one
 * usable region, at or above LOADER_ALLOC_FLOOR, below STAGE2_REACH and
 * outside every recorded range; 0 when there is none. Each step moves the
 * candidate past the range in its way, so the loop ends. */
static uint64_t alloc_fit(uint64_t bytes, uint64_t align)
{
    for (uint32_t i = 0; i < info->map_count; i++) {
        const struct mem_region *m = &info->map[i];
        uint64_t end = m->base + m->length, skip;
        if (m->type != MEM_USABLE)
            continue;
        if (end > STAGE2_REACH)
            end = STAGE2_REACH;
        uint64_t start = ALIGN_UP(m->base > LOADER_ALLOC_FLOOR ? m->base : LOADER_ALLOC_FLOOR,
                                  align);
        while (start < end && bytes <= end - start) {
            skip = alloc_conflict(start, start + bytes);
            if (!skip)
                return start;
            start = ALIGN_UP(skip, align);
        }
    }
    return 0;
}

uint64_t alloc_pages_aligned(uint32_t pages, enum loader_range_kind kind, enum alloc_fill fill,
                             uint64_t align)
{
    uint64_t bytes = (uint64_t)pages * PAGE_SIZE;
    uint64_t pa = alloc_fit(bytes, align);
    if (!pa)
        die("out of memory below 4 GiB for %u loader pages (%s): no free run of %llu KiB "
            "in usable RAM between 0x%x and 4 GiB outside the kernel", pages, kind_name(kind),
            (unsigned long long)(bytes >> 10), LOADER_ALLOC_FLOOR);
    if (fill == ALLOC_ZEROED)
        memset((void *)(uintptr_t)pa, 0, (size_t)bytes);
    alloc_record(pa, pages, kind);
    return pa;
}

uint64_t alloc_pages(uint32_t pages, enum loader_range_kind kind, enum alloc_fill fill)
{
    return alloc_pages_aligned(pages, kind, fill, PAGE_SIZE);
}
