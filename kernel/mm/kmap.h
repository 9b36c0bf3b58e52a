/*
 * kmap.h - the kernel's view of any physical frame, in every strategy:
 * for copying into and out of the frames of an address space that is not
 * the active one (exec writes a new image, fork copies a parent's pages),
 * and for zeroing a frame before it is handed to user space. The offset
 * strategy has a window that shows every frame; the others (identity and
 * table-offset reach only their pool, temporary only tables, recursive
 * only linked tables) map the frame into one of KMAP_SLOTS pages at
 * KMAP_BASE (include/layout.h) through the paging core. Linux's
 * kmap_local_page plays the same role on 32-bit machines.
 */
#ifndef KERNEL_KMAP_H
#define KERNEL_KMAP_H

#include "addr.h"
#include "pt.h"

/* The slots callers use, one per frame held at a time. */
enum kmap_slot {
    KMAP_SRC = 0,
    KMAP_DST,
    KMAP_SCRATCH,
    KMAP_SLOT_COUNT
};

/* After pt_init, before any address space: the zero frame, a zeroed
 * frame from the general zone never written again, and without a window
 * the region's page 0 mapped onto it (three page tables: its PDPT, PD and
 * PT). Panics if no frame is left. */
void kmap_init(void);

/* A pointer to frame's 4 KiB, valid until kunmap(slot). Panics if the slot
 * is already in use (a bug, not an input). */
void *kmap(paddr_t frame, enum kmap_slot slot);
void kunmap(enum kmap_slot slot);

/* Fills frame with zeros / copies src's 4 KiB to dst (through slots
 * KMAP_SCRATCH, and KMAP_SRC + KMAP_DST). */
void kmap_zero(paddr_t frame);
void kmap_copy(paddr_t dst, paddr_t src);

/* The zero frame. */
paddr_t kmap_zero_frame(void);

#endif
