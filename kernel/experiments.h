/*
 * experiments.h - the blog_os "Paging Implementation" experiments,
 * reproduced on every strategy, and the final-translations section every
 * boot ends with.
 */
#ifndef KERNEL_EXPERIMENTS_H
#define KERNEL_EXPERIMENTS_H

#include "bootinfo.h"
#include "space_report.h"

/* Dumps, translations, the page-0 and 0xdeadbeaf000 mappings, the
 * deliberate write to kernel code. Prints one line per result. */
void experiments_run(const struct boot_info *bi);

/* "pagelab: final translations", then one line per address:
 *   0x<16 hex> -> 0x<16 hex>  <size> <perms> <what>
 *   0x<16 hex> -> unmapped    (<reason>) <what>
 * describing the tables as they are now (nothing changes afterwards);
 * then one block (final_space_block's) for every address space the
 * registered lister names (space_report.h). perms: rwx with - for what is
 * denied, and u after them for a user-accessible page. */
void final_translations(const struct boot_info *bi);

/* One address-space block: "pagelab: address space <name> cr3 0x<16 hex>"
 * then a final-translation line for each of v's lines, translated in v's
 * space (pt_space_select, the previous selection restored; v need not be
 * active). Reads only. */
void final_space_block(const struct space_view *v);

#endif
