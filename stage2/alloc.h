/*
 * alloc.h - stage2's frame allocator: a bump pointer over the sanitised
 * memory map, below 4 GiB (stage2 runs with 32-bit pointers and paging off).
 * Every allocation is zeroed and recorded in BootInfo's loader_ranges so the
 * kernel never hands those frames out. Nothing is ever freed here.
 */
#ifndef STAGE2_ALLOC_H
#define STAGE2_ALLOC_H

#include <stdint.h>
#include "../include/bootinfo.h"

/* Record loader ranges in bi from now on (before the kernel is loaded). */
void alloc_init(struct boot_info *bi);
/* Hand out frames from the first usable page at or above `start` (after
 * the kernel, once its segments are loaded). */
void alloc_start_at(uint64_t start);
/* Whether alloc_pages clears what it hands out. */
enum alloc_fill {
    ALLOC_ZEROED,     /* page tables, stack, pool: must start as zeroes */
    ALLOC_AS_IS,      /* the frame bitmap: the kernel writes every word itself */
};

/* `pages` contiguous frames; dies with a named error when memory below
 * 4 GiB runs out. Returns the physical address. */
uint64_t alloc_pages(uint32_t pages, enum loader_range_kind kind, enum alloc_fill fill);
/* The same, starting at a multiple of `align` (a power of two). */
uint64_t alloc_pages_aligned(uint32_t pages, enum loader_range_kind kind, enum alloc_fill fill,
                             uint64_t align);
/* Note a range the loader uses that did not come from alloc_pages. */
void alloc_record(uint64_t base, uint64_t pages, enum loader_range_kind kind);
/* True when [base, base+len) lies inside one usable region of the map. */
int alloc_is_usable(uint64_t base, uint64_t len);

#endif
