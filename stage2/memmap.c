/*
 * memmap.c - ask the BIOS for the physical memory map.
 *
 * INT 15h EAX=E820h first (ACPI 6.x, 15.1 "INT 15H, E820H"), with 24-byte
 * entries so the ACPI 3.x extended attributes come back; then AX=E801h,
 * then AH=88h on firmware without E820. The raw map goes to BootInfo as the
 * firmware gave it (up to BOOT_INFO_MAX_REGIONS entries; the rest are
 * counted in raw_truncated and reported); e820_sanitize() makes the map the
 * kernel allocates from.
 */
#include <stdint.h>
#include "memmap.h"
#include "panic.h"
#include "bios.h"
#include "e820.h"
#include "lib.h"
#include "../include/layout.h"

#define E820_FUNCTION     0xE820
#define E820_SIGNATURE    0x534D4150      /* 'SMAP' */
#define E820_ENTRY_ACPI3  24
#define E820_ENTRY_MIN    20
#define E820_MAX_CALLS    1024            /* a BIOS that never sets EBX=0 cannot hang us */
#define E801_FUNCTION     0xE801
#define BIOS_EXT_MEM_88   0x8800
#define BIOS_LOW_MEM_INT  0x12            /* INT 12h: KiB of conventional memory */
#define SIXTEEN_MIB       0x1000000ULL

static struct mem_region e820_entry;     /* in .bss, below 1 MiB: the BIOS writes it */

static void raw_add(struct boot_info *bi, uint64_t base, uint64_t len, uint32_t type, uint32_t attr)
{
    if (bi->raw_count == BOOT_INFO_MAX_REGIONS) {
        bi->raw_truncated++;
        return;
    }
    struct mem_region *m = &bi->raw_map[bi->raw_count++];
    m->base = base;
    m->length = len;
    m->type = type;
    m->attr = attr;
}

/* Returns the number of entries read; 0 means "no E820 here". */
static unsigned e820_query(struct boot_info *bi)
{
    uint32_t cont = 0;
    unsigned n = 0;
    for (unsigned call = 0; call < E820_MAX_CALLS; call++) {
        e820_entry.attr = 1;              /* "valid" if the BIOS writes only 20 bytes */
        struct bios_regs r = {
            .eax = E820_FUNCTION, .ebx = cont, .ecx = E820_ENTRY_ACPI3, .edx = E820_SIGNATURE,
            .edi = rm_off(&e820_entry), .es = rm_seg(&e820_entry),
        };
        int cf = bios_call(0x15, &r);
        if (cf || r.eax != E820_SIGNATURE)
            break;                        /* CF on a later call also ends the list */
        if (r.ecx >= E820_ENTRY_MIN) {
            raw_add(bi, e820_entry.base, e820_entry.length, e820_entry.type, e820_entry.attr);
            n++;
        }
        cont = r.ebx;
        if (cont == 0)
            break;
    }
    return n;
}

static uint64_t low_memory_bytes(void)
{
    struct bios_regs r = { 0 };
    bios_call(BIOS_LOW_MEM_INT, &r);
    return (uint64_t)(r.eax & 0xFFFF) * 1024;
}

static int e801_query(struct boot_info *bi)
{
    struct bios_regs r = { .eax = E801_FUNCTION };
    if (bios_call(0x15, &r))
        return 0;
    /* Some BIOSes answer in AX/BX, others in CX/DX (RBIL table 00529). */
    uint32_t kib_1_16 = (r.ecx & 0xFFFF) ? (r.ecx & 0xFFFF) : (r.eax & 0xFFFF);
    uint32_t blk_16 = (r.edx & 0xFFFF) ? (r.edx & 0xFFFF) : (r.ebx & 0xFFFF);
    raw_add(bi, 0, low_memory_bytes(), MEM_USABLE, 1);
    raw_add(bi, LOW_MEMORY_END, (uint64_t)kib_1_16 * 1024, MEM_USABLE, 1);
    if (blk_16)
        raw_add(bi, SIXTEEN_MIB, (uint64_t)blk_16 * 65536, MEM_USABLE, 1);
    return 1;
}

static int e88_query(struct boot_info *bi)
{
    struct bios_regs r = { .eax = BIOS_EXT_MEM_88 };
    if (bios_call(0x15, &r))
        return 0;
    raw_add(bi, 0, low_memory_bytes(), MEM_USABLE, 1);
    raw_add(bi, LOW_MEMORY_END, (uint64_t)(r.eax & 0xFFFF) * 1024, MEM_USABLE, 1);
    return 1;
}

void memmap_detect(struct boot_info *bi)
{
    if (e820_query(bi))
        bi->map_source = MAP_SOURCE_E820;
    else if (e801_query(bi))
        bi->map_source = MAP_SOURCE_E801;
    else if (e88_query(bi))
        bi->map_source = MAP_SOURCE_88;
    else
        die("the BIOS reports no memory map (INT 15h E820h, E801h and 88h all failed)");
    if (bi->raw_truncated)
        progress("warning: the firmware's memory map has %u more entries than the cap of %u; "
                 "they were ignored", bi->raw_truncated, BOOT_INFO_MAX_REGIONS);
    int n = e820_sanitize(bi->raw_map, bi->raw_count, bi->map, BOOT_INFO_MAX_REGIONS);
    if (n < 0)
        die("memory map: %s", e820_strerror(n));
    bi->map_count = (uint32_t)n;
    progress("memory map: %u entries from %s, %u sanitised, %llu KiB usable",
             bi->raw_count, bi->map_source == MAP_SOURCE_E820 ? "E820" :
             bi->map_source == MAP_SOURCE_E801 ? "E801" : "AH=88h",
             bi->map_count, (unsigned long long)(e820_usable_bytes(bi->map, bi->map_count) >> 10));
}
