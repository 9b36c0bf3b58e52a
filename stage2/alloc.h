/*
 * alloc.h - stage2's frame allocator: first fit over the sanitised memory
 * map, from LOADER_ALLOC_FLOOR up to STAGE2_REACH (4 GiB: stage2 runs with
 * 32-bit pointers and paging off), skipping every range already recorded
 * (stage2's image, BootInfo, the kernel's segments, earlier allocations),
 * so a kernel anywhere in RAM leaves the rest of low memory to the loader.
 * Every allocation is recorded in BootInfo's loader_ranges so the kernel
 * never hands those frames out. Nothing is ever freed here.
 */
#ifndef STAGE2_ALLOC_H
#define STAGE2_ALLOC_H

#include <stdint.h>
#include "../include/bootinfo.h"

/* Record loader ranges in bi from now on (before the kernel is loaded). */
void alloc_init(struct boot_info *bi);
/* Whether alloc_pages clears what it hands out: only ALLOC_ZEROED does. */
enum alloc_fill {
    ALLOC_ZEROED,     /* page tables, the stack: must start as zeroes */
    ALLOC_AS_IS,      /* the frame bitmap (the kernel writes every word it reads) and the
                       * table pool (stage2/paging.c clears each frame it takes from it,
                       * the kernel each table it makes): clearing them would cost the
                       * boot their whole size */
};

/* `pages` contiguous frames at the lowest free place; dies with a named
 * error when no free run that long is left below 4 GiB. Returns the
 * physical address (below 4 GiB). */
uint64_t alloc_pages(uint32_t pages, enum loader_range_kind kind, enum alloc_fill fill);
/* The same, starting at a multiple of `align` (a power of two). */
uint64_t alloc_pages_aligned(uint32_t pages, enum loader_range_kind kind, enum alloc_fill fill,
                             uint64_t align);
/* Note a range the loader uses that did not come from alloc_pages. */
void alloc_record(uint64_t base, uint64_t pages, enum loader_range_kind kind);
/* True when [base, base+len) lies inside one usable region of the map (at
 * any address: the caller checks what stage2 can reach). */
int alloc_is_usable(uint64_t base, uint64_t len);

#endif
