/*
 * modules.h - the boot modules (BootInfo's modules[]: the FAT partition's
 * /bin files, which stage2 loaded into frames of their own) as the kernel
 * sees them: mapped read-only and no-execute at MODULES_BASE, one after
 * another on page boundaries, in every strategy, and found by name. The
 * loader of processes (exec, spawn) reads its ELF files from here; the
 * frames stay the loader's (LOADER_RANGE_MODULE: never handed out).
 */
#ifndef KERNEL_MODULES_H
#define KERNEL_MODULES_H

#include <stdint.h>
#include "bootinfo.h"

/* The report's lines: each module's name, physical range and size, then
 * whether a configuration file came (one line each, within 80 columns).
 * Reads only bi; call any time after the BootInfo check. */
void modules_report(const struct boot_info *bi);

/* Maps every module at MODULES_BASE (after pt_init: it takes page tables
 * from the strategy's zone). A module that cannot be mapped (no frame for
 * a table) is named on a line of its own and left out: module_bytes does
 * not find it. Call once. Needs no flush: every page was unmapped. */
void modules_init(const struct boot_info *bi);

/* The bytes of the module called name (its /bin name, exactly) through
 * the read-only mapping, and its size in *size (size may be NULL); NULL
 * when there is no such mapped module. */
const void *module_bytes(const char *name, uint64_t *size);

/* How many modules modules_init mapped, and the i-th one's name (NULL
 * past the last): for a list of what exec can run. */
uint32_t module_count(void);
const char *module_name(uint32_t i);

#endif
