/*
 * wx_check.h - W^X over the whole address space, checked on the live page
 * tables (kernel/mm/wx_check.c).
 */
#ifndef KERNEL_WX_CHECK_H
#define KERNEL_WX_CHECK_H

#include <stdint.h>
#include "bootinfo.h"

/*
 * Walks every present leaf reachable from CR3 with its effective
 * permissions (W only if every level allows it, executable unless a level
 * sets NX) and prints
 *     "W^X: <n> leaves checked, <m> writable+executable"
 * then one line per offender (the first 8). Without NX on the
 * CPU nothing can be non-executable (m counts the writable leaves): the
 * line says so and adds how many present entries have bit 63 set
 * (reserved then; must be 0). Reads only;
 * runs at the end of boot, before the final translations. Returns m.
 */
uint64_t wx_check(const struct boot_info *bi);

#endif
