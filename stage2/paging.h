/*
 * paging.h - step 6 of stage2_main: the page tables the kernel starts on.
 *
 * Needs: BootInfo's memory map, cpu_features and strategy (from the
 * kernel's note, load.h), the kernel's segments (load.h) and the allocator
 * (alloc.h). Fills pml4_phys, identity_size, stack_top/bottom,
 * pmm_bitmap_virt/bytes, max_phys, the phys_window_* and window_* fields,
 * and what the strategy needs: table_pool_phys/pages (identity,
 * table-offset), temp_l1_phys (temporary), the recursive PML4 entry.
 * Refuses, each by name: an exhausted page-table pool, loader mappings
 * that overlap (a layout constant changed badly) and more mappings than
 * MAX_BOOT_MAPS; out of memory below 4 GiB comes from alloc.h.
 */
#ifndef STAGE2_PAGING_H
#define STAGE2_PAGING_H

#include "../include/bootinfo.h"

void paging_build(struct boot_info *bi);

#endif
