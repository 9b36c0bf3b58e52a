/*
 * disk.c - read sectors from the boot drive anywhere in memory.
 *
 * The BIOS can only write below 1 MiB, so every read goes through the
 * 64 KiB bounce buffer at BOUNCE_ADDR (aligned, so a transfer never crosses
 * a 64 KiB boundary) and is copied to its destination from protected mode.
 * INT 13h AH=42h (Phoenix EDD 3.0) when the extensions are there, AH=02h
 * with the AH=08h geometry otherwise; a failed read is retried after a reset.
 */
#include <stdint.h>
#include "disk.h"
#include "panic.h"
#include "bios.h"
#include "lib.h"
#include "../include/layout.h"

#define DISK_RESET       0x0000
#define DISK_READ_CHS    0x0200
#define DISK_GET_PARAMS  0x0800
#define DISK_EXT_CHECK   0x4100
#define DISK_EXT_READ    0x4200
#define READ_TRIES       3
#define MAX_PER_CALL     127             /* Phoenix EDD: some BIOSes cap a DAP at 127 */

struct dap {
    uint8_t size, zero;
    uint16_t count, offset, segment;
    uint64_t lba;
} __attribute__((packed));

static struct {
    uint8_t drive;
    int lba;                             /* extensions present */
    uint32_t spt, heads;
} disk;
static struct dap dap;                   /* in .bss, below 1 MiB */

void disk_init(uint8_t drive)
{
    disk.drive = drive;
    struct bios_regs r = { .eax = DISK_EXT_CHECK, .ebx = 0x55AA, .edx = drive };
    if (!bios_call(0x13, &r) && (r.ebx & 0xFFFF) == 0xAA55 && (r.ecx & 1)) {
        disk.lba = 1;
        return;
    }
    struct bios_regs g = { .eax = DISK_GET_PARAMS, .edx = drive };
    if (bios_call(0x13, &g) || (g.ecx & 0x3F) == 0)
        die("drive 0x%x: no INT 13h extensions and no CHS geometry (AH=08h failed)", drive);
    disk.spt = g.ecx & 0x3F;
    disk.heads = ((g.edx >> 8) & 0xFF) + 1;
    progress("drive 0x%x: no INT 13h extensions, using CHS", drive);
    progress("CHS geometry: %u heads x %u sectors per track", disk.heads, disk.spt);
}

/* One BIOS read of count sectors at lba into the bounce buffer. Returns the
 * BIOS status (0 = ok) and may shorten *count to stay within a CHS track. */
static unsigned read_once(uint64_t lba, uint32_t *count)
{
    struct bios_regs r = { .edx = disk.drive };
    if (disk.lba) {
        dap = (struct dap){ sizeof(dap), 0, (uint16_t)*count, 0, BOUNCE_ADDR >> 4, lba };
        r.eax = DISK_EXT_READ;
        r.esi = rm_off(&dap);
        r.ds = rm_seg(&dap);
    } else {
        uint32_t l = (uint32_t)lba, sector = l % disk.spt, track = l / disk.spt;
        uint32_t cyl = track / disk.heads, head = track % disk.heads;
        if (*count > disk.spt - sector)
            *count = disk.spt - sector;
        r.eax = DISK_READ_CHS | *count;
        r.ecx = ((cyl & 0xFF) << 8) | ((cyl >> 2) & 0xC0) | (sector + 1);
        r.edx |= head << 8;
        r.es = BOUNCE_ADDR >> 4;
        r.ebx = 0;
    }
    return bios_call(0x13, &r) ? ((r.eax >> 8) & 0xFF) | 0x100 : 0;
}

static void disk_reset(void)
{
    struct bios_regs r = { .eax = DISK_RESET, .edx = disk.drive };
    bios_call(0x13, &r);
}

int disk_read(void *ctx, uint64_t lba, uint32_t count, void *dst)
{
    (void)ctx;
    uint8_t *out = dst;
    while (count) {
        uint32_t n = count < MAX_PER_CALL ? count : MAX_PER_CALL;
        unsigned status = 0;
        for (unsigned t = 0; t < READ_TRIES; t++) {
            status = read_once(lba, &n);
            if (!status)
                break;
            disk_reset();
        }
        if (status) {
            progress("disk read error at LBA %llu (BIOS status 0x%x)", (unsigned long long)lba,
                     status & 0xFF);
            return -1;
        }
        memcpy(out, (const void *)BOUNCE_ADDR, n * SECTOR_SIZE);
        out += n * SECTOR_SIZE;
        lba += n;
        count -= n;
    }
    return 0;
}
