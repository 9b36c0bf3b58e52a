/*
 * load.h - step 5 of stage2_main: the kernel file, checked and loaded.
 *
 * Needs: disk_init done (disk.h), the sanitised memory map and the
 * allocator's records (alloc.h). Finds the first FAT partition of the MBR,
 * opens KERNEL_PATH on it, checks the ELF header and program headers
 * (elf.h), checks every PT_LOAD's placement (physical: at or above
 * LOW_MEMORY_END, below STAGE2_REACH, in usable RAM; virtual: outside the
 * loader's own ranges; W^X; KERNEL_MAX_SIZE in all) before it writes a
 * byte, then copies each to its physical address and zeroes its bss.
 * Fills BootInfo's kernel_phys_start/end, kernel_virt_start/end and
 * kernel_entry, records the segments as LOADER_RANGE_KERNEL, and leaves
 * the segments in kernel_segments[] for paging.h. Last, fills
 * BootInfo's strategy from the kernel's pagelab note, or the default
 * without one (note.h, include/kernel_note.h). Refuses every bad file by
 * name: NOTES.md, "Error messages", stage2 table (FAT, ELF and note
 * errors).
 */
#ifndef STAGE2_LOAD_H
#define STAGE2_LOAD_H

#include <stdint.h>
#include "elf.h"
#include "fat.h"
#include "../include/bootinfo.h"

void kernel_load(struct boot_info *bi);

/* The FAT volume kernel_load mounted (and leaves mounted, for modules.h). */
struct fat_volume *load_volume(void);

/* The PT_LOAD segments kernel_load checked and loaded, in file order. */
extern struct elf_segment kernel_segments[];
extern uint32_t kernel_segment_count;

#endif
