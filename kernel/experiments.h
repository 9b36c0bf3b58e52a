/*
 * experiments.h - the blog_os "Paging Implementation" experiments,
 * reproduced on every strategy, and the final-translations section every
 * boot ends with.
 */
#ifndef KERNEL_EXPERIMENTS_H
#define KERNEL_EXPERIMENTS_H

#include "bootinfo.h"

/* Dumps, translations, the page-0 and 0xdeadbeaf000 mappings, the
 * deliberate write to kernel code. Prints one line per result. */
void experiments_run(const struct boot_info *bi);

/* "pagelab: final translations", then one line per address:
 *   0x<16 hex> -> 0x<16 hex>  <size> <perms> <what>
 *   0x<16 hex> -> unmapped    (<reason>) <what>
 * describing the tables as they are now (nothing changes afterwards). */
void final_translations(const struct boot_info *bi);

#endif
