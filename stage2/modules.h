/*
 * modules.h - step 6 of stage2_main: the boot modules and the boot
 * configuration file, loaded as raw bytes for the kernel.
 *
 * Needs: kernel_load done (its FAT volume stays mounted: load.h) and the
 * allocator (alloc.h). Loads every regular file of BOOT_MODULE_DIR, in
 * directory order, into page-aligned frames of its own (loader ranges of
 * kind LOADER_RANGE_MODULE: the kernel's frame allocator never hands them
 * out), the rest of its last page zeroed, and lists each in BootInfo's
 * modules[] (name, physical start, size); then BOOT_CONFIG_PATH, when
 * there is one, into a LOADER_RANGE_CONFIG page (config_phys,
 * config_size). No BOOT_MODULE_DIR, or an empty one, is zero modules.
 *
 * A file that breaks a rule of module_check.h, a configuration file over
 * BOOT_CONFIG_MAX_SIZE, and a directory or file FAT cannot read are named
 * on a "pagelab stage2: error: ... skipped" line, and the boot goes on
 * without them. Out of memory below 4 GiB stops the boot (alloc.h).
 */
#ifndef STAGE2_MODULES_H
#define STAGE2_MODULES_H

#include "../include/bootinfo.h"

void modules_load(struct boot_info *bi);

#endif
