/*
 * e820.h - turn the firmware's raw memory map into one the kernel can trust.
 *
 * The BIOS (INT 15h EAX=E820h) returns entries in any order, possibly
 * overlapping, with unknown types, zero lengths and unaligned RAM. stage2
 * keeps that raw map in boot_info.raw_map and hands the kernel the output of
 * e820_sanitize in boot_info.map. Pure C, no allocation: built both for
 * stage2 (32-bit, freestanding) and for the host tests.
 */
#ifndef STAGE2_E820_H
#define STAGE2_E820_H

#include <stdint.h>

#include "bootinfo.h"

/* Most raw entries e820_sanitize accepts (the size of boot_info.raw_map). */
#define E820_MAX_RAW BOOT_INFO_MAX_REGIONS

/* Error codes (negative) returned by e820_sanitize. */
#define E820_ERR_OVERFLOW  (-1)  /* the result needs more than out_cap entries */
#define E820_ERR_TOO_MANY  (-2)  /* raw_count > E820_MAX_RAW */

/*
 * e820_sanitize - sort, de-overlap, merge and page-align a raw E820 map.
 *
 * raw[0..raw_count) is read only; raw_count may be 0 and must not exceed
 * E820_MAX_RAW. Entries with length 0 or with ACPI 3.x attribute bit 0
 * (enabled) clear are ignored; the caller presets attr = 1 for 20-byte
 * entries. Unknown types count as MEM_RESERVED. Where entries overlap the
 * more restrictive type wins (USABLE < ACPI_RECLAIM < PERSISTENT < ACPI_NVS <
 * RESERVED < BAD). An entry running past 2^64 is clipped at 2^64.
 *
 * out[] receives regions sorted by base, non-overlapping, with touching
 * regions of one type merged, attr = 1. MEM_USABLE regions are shrunk
 * inward to PAGE_SIZE boundaries and dropped when nothing is left; other
 * types are kept byte-exact. A region covering all 2^64 bytes cannot be
 * written as a length and gets length UINT64_MAX.
 *
 * Returns the number of entries written, or E820_ERR_TOO_MANY /
 * E820_ERR_OVERFLOW (out[] then holds a partial result). Uses about 2 KiB
 * of stack; allocates nothing.
 */
int e820_sanitize(const struct mem_region *raw, uint32_t raw_count,
                  struct mem_region *out, uint32_t out_cap);

/* Message for an E820_ERR_* code ("unknown error" for anything else). */
const char *e820_strerror(int err);

/*
 * e820_usable_bytes - total length of the MEM_USABLE regions of a sanitised
 * map (map[0..n)). Saturates at UINT64_MAX instead of wrapping.
 */
uint64_t e820_usable_bytes(const struct mem_region *map, uint32_t n);

/*
 * e820_max_usable_end - the highest end (base + length, exclusive) of a
 * MEM_USABLE region in map[0..n), or 0 when there is none. An end at 2^64
 * is reported as UINT64_MAX.
 */
uint64_t e820_max_usable_end(const struct mem_region *map, uint32_t n);

#endif
