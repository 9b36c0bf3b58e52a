/*
 * disk.h - step 4 of stage2_main: reading the boot drive.
 *
 * Needs: BIOS calls (bios.h) and the bounce buffer at BOUNCE_ADDR. Fills
 * nothing in BootInfo. disk_init refuses a drive with neither INT 13h
 * extensions nor a CHS geometry ("drive 0xNN: no INT 13h extensions and no
 * CHS geometry (AH=08h failed)").
 */
#ifndef STAGE2_DISK_H
#define STAGE2_DISK_H

#include <stdint.h>

/* Choose LBA (INT 13h AH=42h) or CHS (AH=02h) reads for drive. */
void disk_init(uint8_t drive);

/* Read count sectors from lba to dst (anywhere below 4 GiB), each BIOS
 * transfer through the bounce buffer, retried after a reset. 0, or -1
 * after the progress line "disk read error at LBA N (BIOS status 0xNN)".
 * ctx is unused: the signature is the one fat_mount takes. */
int disk_read(void *ctx, uint64_t lba, uint32_t count, void *dst);

#endif
