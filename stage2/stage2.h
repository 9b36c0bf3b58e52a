/*
 * stage2.h - what stage2's parts share: the fatal-error exit, the BootInfo
 * being filled and the steps main.c runs in order.
 */
#ifndef STAGE2_STAGE2_H
#define STAGE2_STAGE2_H

#include <stdint.h>
#include "../include/bootinfo.h"

/* Print "pagelab stage2: error: <message>" on VGA and COM1, then halt with
 * interrupts off. Every message names what went wrong and what to do. */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Progress line "pagelab stage2: <message>". */
void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void a20_enable(void);
void cpu_detect(struct boot_info *bi);
void memmap_detect(struct boot_info *bi);
void disk_init(uint8_t drive);
int disk_read(void *ctx, uint64_t lba, uint32_t count, void *dst);
void kernel_load(struct boot_info *bi);
void paging_build(struct boot_info *bi);

static inline int cpu_has(const struct boot_info *bi, enum cpu_feature_bit f)
{
    return (bi->cpu_features >> f) & 1;
}

#endif
