/*
 * memmap.h - step 3 of stage2_main: the physical memory map.
 *
 * Needs: BIOS calls (bios.h). Fills BootInfo's map_source, raw_count,
 * raw_truncated, raw_map[] (as the firmware gave it) and map_count, map[]
 * (sanitised by e820.c). Refuses firmware that answers none of E820h,
 * E801h and 88h ("the BIOS reports no memory map ...") and a map that does
 * not fit once sanitised ("memory map: sanitised memory map has more
 * entries than the output holds").
 */
#ifndef STAGE2_MEMMAP_H
#define STAGE2_MEMMAP_H

#include "../include/bootinfo.h"

void memmap_detect(struct boot_info *bi);

#endif
