/*
 * pmm_meta.h - size of the frame allocator's metadata, agreed by the loader
 * (which allocates and maps it at PMM_BITMAP_BASE, without clearing it) and
 * the kernel (which writes it lazily, kernel/mm/pmm.c).
 *
 * The allocator is a hierarchical bitmap of fixed depth PMM_LEVELS with
 * 64-way fan-out: level 0 has one bit per frame (1 = free), each higher
 * level one bit per non-zero word of the level below. The depth is fixed so
 * that allocation and free cost the same for 128 MiB and for 4 TiB.
 */
#ifndef PAGELAB_PMM_META_H
#define PAGELAB_PMM_META_H

#include <stdint.h>
#include "addr.h"
#include "layout.h"

#define PMM_LEVELS 5   /* 64^5 frames = 4 TiB of physical memory */
#define PMM_MAX_FRAMES (1ULL << (6 * PMM_LEVELS))
/* The RAM pagelab uses ends here: usable RAM above it is ignored (stage2
 * caps BootInfo's max_phys, sizes the bitmap and the window to it, and says
 * how much it leaves out; the kernel's allocator stops here too). */
#define PMM_MAX_PHYS (PMM_MAX_FRAMES * PAGE_SIZE)

/* Words (uint64_t) at level l for nframes frames: ceil(nframes / 64^(l+1)). */
static inline uint64_t pmm_level_words(uint64_t nframes, unsigned level)
{
    uint64_t span = 1ULL << (6 * (level + 1));
    return (nframes + span - 1) / span;
}

/* Bytes of metadata for nframes frames, rounded up to whole pages. */
static inline uint64_t pmm_meta_bytes(uint64_t nframes)
{
    uint64_t words = 0;
    for (unsigned l = 0; l < PMM_LEVELS; l++)
        words += pmm_level_words(nframes, l);
    return PAGE_ROUND_UP(words * 8);
}

#endif
