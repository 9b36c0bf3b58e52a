/*
 * swap.h - the swap area: page-sized slots on the boot disk's swap
 * partition (MBR type SWAP_PART_TYPE, made by disk/mkimage.py), reached
 * through the kernel's ATA driver (kernel/dev/ata.h), where page
 * replacement writes the pages it evicts and reads them back on a fault.
 *
 * swap_init finds the partition and checks its header (include/layout.h,
 * SWAP_MAGIC) before anything is written: a disk without the ATA
 * controller (QEMU's q35), without a swap partition (make image
 * SWAP_MIB=0), or with a partition that is not pagelab's gets a named line
 * and the kernel runs without swap (every call below then returns
 * SWAP_ERR_NONE). Slot s is the partition's page SWAP_HEADER_SLOTS + s.
 *
 * A slot has a count, like a frame (frame_meta.h): one per not-present
 * entry that names it. fork copies such an entry, so a slot may be named
 * by as many spaces as there are processes; the slot is free again with
 * its last reference. Not thread-safe: one CPU, no I/O in interrupt
 * handlers.
 */
#ifndef KERNEL_MM_SWAP_H
#define KERNEL_MM_SWAP_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

enum swap_status {
    SWAP_OK = 0,
    SWAP_ERR_NONE,          /* no swap area (swap_init said why) */
    SWAP_ERR_FULL,          /* every slot is in use */
    SWAP_ERR_IO,            /* the disk refused the transfer (swap_last_io says how) */
    SWAP_ERR_BAD_SLOT,      /* a slot past the last, or one that is free */
    SWAP_STATUS_COUNT
};

/* The highest count a slot may reach; one more is a named panic. */
#define SWAP_SLOT_REFS_MAX 255u

struct swap_stats {
    bool present;
    uint64_t part_lba;      /* the partition's first sector */
    uint32_t slots;         /* usable slots (at most SWAP_SLOTS_MAX) */
    uint32_t used;          /* slots with a count above 0 */
    uint64_t writes, reads; /* pages moved, successful */
    uint64_t io_errors;     /* transfers the disk refused */
    /* TSC cycles inside the ATA commands of every transfer, refused ones
     * too (swap_write's, swap_read's): the command, the status waits, the
     * PIO data moves and the write's FLUSH CACHE; not the kmap around
     * them. Under QEMU's -icount shift=0 the TSC counts instructions, so
     * a fault's cost less these is the kernel's own work (make bench). */
    uint64_t write_tsc, read_tsc;
};

/* Once, after kmap_init: probes the disk and the partition, prints one
 * "swap: ..." line (what was found, or why there is no swap). */
void swap_init(void);

bool swap_present(void);

/* Slots in use now (0 without swap): the fault and unmap paths look for
 * swap entries only while it is not 0. */
uint32_t swap_slots_used(void);

/* A free slot with one reference, in *slot: the lowest free one, so a
 * run's slots are in a predictable order. SWAP_ERR_NONE, SWAP_ERR_FULL. */
enum swap_status swap_slot_alloc(uint32_t *slot);

/* One reference more (fork copying an entry that names it). Panics,
 * naming the slot, on a free slot or at SWAP_SLOT_REFS_MAX. */
void swap_slot_ref(uint32_t slot);

/* One reference less; true when that was the last and the slot is free
 * again. Panics, naming the slot, on a free slot (underflow). */
bool swap_slot_unref(uint32_t slot);

/* The slot's count: 0 for a free slot or one past the last. */
uint32_t swap_slot_refs(uint32_t slot);

/* The 4 KiB of frame into slot / slot's 4 KiB into frame (through kmap,
 * any frame). The slot must hold a reference (SWAP_ERR_BAD_SLOT
 * otherwise); SWAP_ERR_IO leaves the slot and its count as they were (a
 * failed write: the page's frame is still the only copy and must stay;
 * a failed read: frame's contents are undefined). A write is on the
 * medium when it returns (ata_write flushes). */
enum swap_status swap_write(uint32_t slot, paddr_t frame);
enum swap_status swap_read(uint32_t slot, paddr_t frame);

/* The ATA status of the last SWAP_ERR_IO (ata.h's enum, its name by
 * ata_status_name) and the device's error register with it. */
unsigned swap_last_io(uint8_t *device_error);

void swap_get_stats(struct swap_stats *out);

const char *swap_status_name(enum swap_status st);

#endif
