/*
 * frame_meta.h - what the kernel knows of each physical frame beyond
 * "free or used" (the frame allocator's bitmap, pmm.h): how many
 * references hold it. A reference is a page-table leaf that maps the frame
 * in some address space, or a shared-memory object that owns it
 * (kernel/proc/vm.h); a frame mapped by two processes after a
 * copy-on-write fork has two. The frame goes back to the allocator with
 * its last reference.
 *
 * The records form one array indexed by frame number, at FRAME_META_BASE
 * (include/layout.h), like Linux's struct page array (vmemmap). The array
 * is not built at boot: at 512 GiB it would be 2 GiB of records. A page
 * of records is mapped (and zeroed) when a frame it describes is first
 * handed out through frame_new, so boot costs nothing whatever the RAM
 * size and the array costs memory in proportion to the frames in use.
 *
 * Only frames handed out by frame_new have records that mean anything:
 * page tables, the kernel's own frames and the shared zero frame are not
 * counted. Not thread-safe: one CPU, no allocation in interrupt handlers.
 */
#ifndef KERNEL_MM_FRAME_META_H
#define KERNEL_MM_FRAME_META_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

/* Page replacement's state of a frame (kernel/proc/replace.h), kept here
 * so that a frame's whole story is one record: which space's page it is,
 * where it sits in the replacement order, and which swap slot holds a
 * copy of it. */
#define FRAME_F_RESIDENT 0x1u   /* on the replacement list (a page it may evict) */
#define FRAME_F_SLOT     0x2u   /* `slot` holds a copy of the frame as it is now */

struct frame_meta {
    uint32_t refs;      /* references: leaves mapping it + objects owning it */
    uint16_t flags;     /* FRAME_F_* */
    uint8_t owner;      /* FRAME_F_RESIDENT: the owning space's replacement id */
    uint8_t age;        /* the aging policy's counter (Accessed bits sampled) */
    uint64_t va;        /* FRAME_F_RESIDENT: the user page it backs in its owner */
    uint32_t next, prev;  /* FRAME_F_RESIDENT: frame numbers, the circular list */
    uint32_t slot;      /* FRAME_F_SLOT: the swap slot (kernel/mm/swap.h) */
    uint32_t loaded;    /* FRAME_F_RESIDENT: its arrival number (replace.c counts them) */
};

/* The highest count a frame may reach; one more reference is a named
 * panic (frame_ref), never a wrap to 0. */
#define FRAME_REFS_MAX 0xFFFFFFFFu

/* Records per page of the array. */
#define FRAME_META_PER_PAGE (PAGE_SIZE / sizeof(struct frame_meta))

/* Separate runs of consecutive mapped record pages frame_meta.c keeps
 * track of (128 bytes of BSS). The allocator hands out its lowest free
 * frame, so pages are mapped next to each other, one run per stretch of
 * RAM between holes (2 or 3 on a PC). A page that would start a ninth run
 * is mapped together with the pages between it and the nearest run (one
 * frame each, for 1 MiB of the gap). */
#define FRAME_META_RUNS 8

/* Once, after paging is up (the array's pages are mapped with pt_map into
 * the kernel's shared upper half): the frames the array may describe,
 * [0, max_phys). Writes no record and maps nothing. */
void frame_meta_init(uint64_t max_phys);

/* A frame from the general zone with one reference (refs = 1), not zeroed.
 * false when the zone has no frame, or none for the record's page or its
 * tables (the frame taken is then given back, *out untouched; only record
 * pages mapped to fill a gap, FRAME_META_RUNS, stay). The only function
 * here that maps, through the paging core: frame_ref, frame_unref and
 * frame_refs touch no page table, so they may be called from a pt_*
 * callback (pt_space_clone's leaf). */
bool frame_new(paddr_t *out);

/* The record of a frame frame_new handed out (refs > 0), for page
 * replacement's fields; NULL for any other frame. Valid until the next
 * frame_new (which may map a record page) only on the host, where each
 * record page is its own allocation; in the kernel for good. Maps nothing. */
struct frame_meta *frame_meta_of(paddr_t frame);
/* The record of frame number frame_no without a check: only for a frame
 * whose record is known to be mapped and in use, such as one on page
 * replacement's list (kernel/proc/replace.c follows the list's links
 * with it: a link names a frame rp_track checked). */
struct frame_meta *frame_meta_known(uint64_t frame_no);

/* One more reference to a frame frame_new handed out. Panics, naming the
 * frame, at FRAME_REFS_MAX or on a frame with no reference. */
void frame_ref(paddr_t frame);

/* frame_ref for the frame of each of the n 4 KiB leaf entries at leaf
 * (leaf[k] & PTE_ADDR_MASK), skipping those that are not present or map
 * `except` (the shared zero frame, which has no record): fork's references,
 * a level-1 table at a time (pt_space_clone's leaves callback). The same
 * panics as frame_ref, naming the frame; the records of one record page
 * are reached through one cpu_ptr, so a run of consecutive frames costs a
 * compare and an increment each. */
void frame_ref_leaves(const uint64_t *leaf, unsigned n, paddr_t except);

/* One reference less; with the last the frame goes back to the allocator
 * and true is returned. Panics, naming the frame, on a frame with no
 * reference (underflow). */
bool frame_unref(paddr_t frame);

/* The frame's count: 0 for a frame frame_new never handed out or whose
 * last reference is gone. Reads only (maps nothing). */
uint32_t frame_refs(paddr_t frame);

/* For the tests: frames with a non-zero count and the sum of all counts,
 * over every record page mapped so far; and how many record pages that is. */
struct frame_meta_census {
    uint64_t live;      /* frames with refs > 0 */
    uint64_t refs;      /* sum of refs */
    uint64_t pages;     /* pages of the array mapped (each FRAME_META_PER_PAGE records) */
    uint64_t kept;      /* general-zone frames the array keeps for good: its pages and the
                           tables taken for them (those come from the pool in identity and
                           table-offset): what a free-frame count must add back */
};
void frame_meta_census(struct frame_meta_census *out);

#endif
