/*
 * pmm.h - the physical frame allocator (4 KiB frames).
 *
 * Built from BootInfo's sanitised memory map. Two zones share one
 * implementation, a hierarchical bitmap (include/pmm_meta.h): the general
 * zone (every usable frame at or above 1 MiB the loader did not keep) and
 * the table pool (the TABLE_POOL frames the identity and table-offset
 * strategies draw page tables from; empty in the other strategies).
 * Allocation and free cost PMM_LEVELS word operations whatever the memory
 * size, and initialisation costs O(map extents): the bitmap is written
 * lazily, in address order, as allocation reaches it (kernel/mm/pmm.c). Used
 * by the strategies (table allocation) and the kernel.
 * Not thread-safe: pagelab runs on one CPU with no allocation in
 * interrupt handlers.
 */
#ifndef KERNEL_PMM_H
#define KERNEL_PMM_H

#include <stdint.h>

#include "addr.h"
#include "bootinfo.h"

enum pmm_status {
    PMM_OK = 0,
    PMM_ERR_EXHAUSTED,      /* no free frame left in the zone */
    PMM_ERR_DOUBLE_FREE,    /* the frame is already free */
    PMM_ERR_NOT_USABLE,     /* the frame was never the zone's to hand out */
    PMM_ERR_MISALIGNED,     /* not a multiple of PAGE_SIZE */
    PMM_ERR_META_TOO_SMALL, /* metadata buffer below pmm_meta_bytes(frames) */
    PMM_ERR_TOO_MANY_EXTENTS, /* the map splits into more pieces than fit */
    PMM_ERR_CORRUPT,        /* pmm_verify found a broken invariant */
    PMM_STATUS_COUNT
};

enum pmm_zone {
    PMM_ZONE_GENERAL = 0,   /* all usable RAM the loader did not keep */
    PMM_ZONE_TABLE_POOL,    /* identity/table-offset page-table frames */
    PMM_ZONE_COUNT
};

enum pmm_frame_state {
    PMM_FRAME_NOT_USABLE = 0, /* outside the zone, or never usable */
    PMM_FRAME_FREE,
    PMM_FRAME_USED,
};

struct pmm_counters {
    uint64_t total;     /* frames the zone may ever hand out */
    uint64_t free;
    uint64_t used;      /* total - free */
    uint64_t peak_used; /* highest `used` since pmm_init */
};

/*
 * Builds both zones from bi. The general zone gets every frame that is in a
 * MEM_USABLE region, at or above 1 MiB (firmware and loader live below),
 * below 4 TiB (PMM_MAX_FRAMES), and in no other map region and no loader
 * range — except that LOADER_RANGE_PAGE_TABLES and _WINDOW_TABLES frames
 * outside the pool count as usable but start used, so the paging core may
 * free them once the tables empty (and strategy_init frees the window's).
 * The kernel image [kernel_phys_start, kernel_phys_end) is excluded too.
 * The pool zone is [table_pool_phys, +table_pool_pages), with the pool
 * frames that hold loader tables starting used.
 * meta: the general zone's metadata, pmm_meta_bytes(frames) bytes with
 * frames = (end of the highest usable frame) / PAGE_SIZE, 8-byte aligned
 * and in any state: nobody needs to zero it. pmm_init writes one word of it
 * (the top level's) and reads none. Later, a level-0 word (and the upper
 * words above it, once each) is written when allocation first reaches it,
 * or when a kept table at or above it is freed; words that cover only
 * unusable frames are never written or read. So boot touches metadata in
 * proportion to the map's extents, not to RAM, and pages of meta that hold
 * no reached usable frame are never touched at all.
 * Costs O(extents^2) on the extent sets (a few hundred entries).
 * Returns PMM_ERR_META_TOO_SMALL or PMM_ERR_TOO_MANY_EXTENTS on failure
 * (the allocator is then empty). Does not allocate.
 */
enum pmm_status pmm_init(const struct boot_info *bi, uint64_t *meta,
                         uint64_t meta_bytes);

/* Takes the zone's lowest free frame (deterministic). Never frame 0. Does
 * not zero it (the frame may not be mapped yet: zeroing is the strategy's
 * job). O(1) amortised: when the metadata written so far holds no free
 * frame it first writes the next level-0 word (about once per 64 frames
 * handed out). PMM_ERR_EXHAUSTED when the zone is empty, *out untouched. */
enum pmm_status pmm_alloc(enum pmm_zone zone, paddr_t *out);

/* Gives a frame back. PMM_ERR_MISALIGNED, PMM_ERR_NOT_USABLE (never the
 * zone's) and PMM_ERR_DOUBLE_FREE leave the allocator unchanged. The caller
 * must have removed every translation of the frame first (unhook,
 * invalidate, free: the TLB rule, kernel/mm/tlb_policy.c). O(log
 * extents); freeing a kept loader table that allocation has not reached
 * yet first writes the metadata up to it (once: the work allocation would
 * do later). */
enum pmm_status pmm_free(enum pmm_zone zone, paddr_t frame);

/* After the strategy tore the window down: frees every frame of every
 * general-zone loader range of `kind` (LOADER_RANGE_WINDOW_TABLES). Stops
 * at the first error (e.g. a double release: PMM_ERR_DOUBLE_FREE). */
enum pmm_status pmm_release_loader_ranges(const struct boot_info *bi,
                                          enum loader_range_kind kind);

void pmm_get_counters(enum pmm_zone zone, struct pmm_counters *out);

/* State of one frame; O(log extents). For tests and assertions. */
enum pmm_frame_state pmm_frame_state(enum pmm_zone zone, paddr_t frame);

/* Checks every invariant of the zone over the metadata written so far:
 * each upper-level bit equals "the word below is non-zero", no free bit
 * lies outside the usable extents, and the free counter equals the free
 * bits plus the initially free frames not reached yet. O(written
 * metadata x log extents): tests and debugging only. PMM_OK or
 * PMM_ERR_CORRUPT. */
enum pmm_status pmm_verify(enum pmm_zone zone);

const char *pmm_status_name(enum pmm_status status);

#endif
