/*
 * phys_window.h - the loader's physical-memory window, seen from the
 * kernel: stage2 maps all RAM at PHYS_WINDOW_BASE (PML4 slots from
 * PHYS_WINDOW_PML4_INDEX, include/layout.h) so that the kernel can reach
 * any frame; the offset strategy keeps it as its way to the tables, every
 * other strategy drops it at init. Not part of the paging core: the core
 * only clears the PML4 entries for it (pt_root_clear).
 */
#ifndef KERNEL_PHYS_WINDOW_H
#define KERNEL_PHYS_WINDOW_H

#include "bootinfo.h"
#include "pt.h"

/*
 * For strategy_init: tears the loader's physical window down. Clears the
 * window's PML4 entries (from PHYS_WINDOW_PML4_INDEX, one per 512 GiB of
 * bi->phys_window_size) through the strategy, flushes everything (the
 * TLB rule, kernel/mm/tlb_policy.c, rule 3: up to 512 GiB of
 * translations, global ones included), then gives the window's table
 * frames (loader ranges of kind LOADER_RANGE_WINDOW_TABLES) back to the
 * general zone (rule 4's order). Works before pt_init (pt_init then
 * recounts). Returns PT_ERR_BOOT_INFO if the frames cannot be given back
 * (not listed as usable, or twice); the entries are cleared and flushed
 * all the same.
 */
enum pt_status phys_window_drop(const struct boot_info *bi);

#endif
